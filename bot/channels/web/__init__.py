"""The web chat: one page (``static/``) and a JSON endpoint (``app``), guarded by ``guard`` (limits, headers,
logs without addresses)."""

__all__: list[str] = []
