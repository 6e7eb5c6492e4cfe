"""Channels translate between a medium and engine events/replies; they hold no flow logic."""

__all__: list[str] = []
