"""A bounded window of recently seen ids, whatever the medium: a messenger that delivers an event again (LINE's
redelivery, Telegram's resent update) gets it answered once.

Ids are kept only as keyed hashes (a key made at start-up, never written anywhere), in two generations: when the
current one is full it becomes the previous one and the oldest is dropped, so memory follows ``capacity``, not the
traffic. An event id is not a person; hashing keeps even that out of a heap dump.
"""

from __future__ import annotations

import hashlib
import os

__all__ = ["RecentIds"]


class RecentIds:
    """``seen(id)`` until about ``capacity`` to ``2 * capacity`` newer ids have been added."""

    def __init__(self, capacity: int = 10_000) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._key = os.urandom(16)
        self._current: set[bytes] = set()
        self._previous: set[bytes] = set()

    def _digest(self, event_id: str) -> bytes:
        return hashlib.blake2b(event_id.encode("utf-8", "surrogatepass"), key=self._key, digest_size=16).digest()

    def seen(self, event_id: str) -> bool:
        digest = self._digest(event_id)
        return digest in self._current or digest in self._previous

    def add(self, event_id: str) -> None:
        if len(self._current) >= self.capacity:
            self._previous, self._current = self._current, set()
        self._current.add(self._digest(event_id))

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)
