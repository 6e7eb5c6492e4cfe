"""How long to wait before trying a messenger's API again, whatever the medium."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff"]


@dataclass(frozen=True)
class Backoff:
    """Honour a server's ``retry_after`` up to ``max_retry_after``; otherwise wait ``backoff``, doubling, up to
    ``max_delay``. After ``attempts`` tries, give up (None)."""

    attempts: int = 3
    backoff: float = 0.25
    max_delay: float = 2.0
    max_retry_after: float = 5.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float | None:
        """Seconds to wait after failed attempt ``attempt`` (1, 2, ...); None: give up."""
        if attempt >= self.attempts:
            return None
        if retry_after is not None:
            return retry_after if retry_after <= self.max_retry_after else None
        return min(self.max_delay, self.backoff * 2.0 ** (attempt - 1))
