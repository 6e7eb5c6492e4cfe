"""Operations for campaigns: deep links and posters, flow diagrams, reach reports. No per-user data."""
