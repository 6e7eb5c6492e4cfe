"""What keeps ``anshin serve`` safe to expose: headers, a rate limit and logs that hold no personal data.

The rate limit remembers clients only by a keyed hash of their address (the key is random per process
and never leaves memory); the access log writes method, route and status, nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

__all__ = ["SERVER_LOG", "AccessLog", "Limits", "RateLimiter", "ScrubFilter", "security_headers"]

SERVER_LOG = "bot.channels.web.server"  # aiohttp's own messages, scrubbed of addresses and request data


@dataclass(frozen=True)
class Limits:
    """Request limits; the defaults let a whole class behind one school address chat at once."""

    max_body_bytes: int = 32 * 1024  # a 4096-character message, escaped, fits
    burst: int = 120  # requests a client may make at once
    per_second: float = 4.0  # sustained requests per client
    max_clients: int = 20_000  # buckets kept in memory before the idlest are forgotten


class RateLimiter:
    """A token bucket per client address, held in memory under a per-process keyed hash.

    The buckets are kept in the order their clients were last seen, so that forgetting is constant time: the
    least recently seen bucket is dropped once it has refilled (nothing left to remember) or once there are more
    than ``max_clients``; a new address never makes the whole table be walked."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._key = secrets.token_bytes(32)
        self._buckets: OrderedDict[bytes, tuple[float, float]] = OrderedDict()  # client -> (tokens, last seen)

    def _client(self, address: str) -> bytes:
        return hmac.new(self._key, address.encode("utf-8", "replace"), hashlib.sha256).digest()[:16]

    def allow(self, address: str) -> float:
        """0 when the request may go ahead, else the seconds to wait."""
        now = self.clock()
        client = self._client(address)
        tokens, last = self._buckets.pop(client, (float(self.limits.burst), now))
        tokens = min(float(self.limits.burst), tokens + (now - last) * self.limits.per_second)
        allowed = tokens >= 1.0
        self._buckets[client] = (tokens - 1.0 if allowed else tokens, now)  # now the most recently seen
        self._forget(now)
        return 0.0 if allowed else (1.0 - tokens) / self.limits.per_second

    def _forget(self, now: float) -> None:
        """Drop the least recently seen buckets while they have refilled or there are too many: each is dropped
        once, so this is constant time per request on average."""
        full_after = self.limits.burst / self.limits.per_second
        while self._buckets:
            client, (_, last) = next(iter(self._buckets.items()))
            if len(self._buckets) <= self.limits.max_clients and now - last < full_after:
                return
            del self._buckets[client]

    def __len__(self) -> int:
        return len(self._buckets)


class AccessLog(AbstractAccessLogger):
    """One line per request: method, path and status; no address, query, header or body.

    Only the app's own paths are written (``paths``); any other path may carry text, so it shows as "-".
    """

    paths: frozenset[str] = frozenset()

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        route = request.path if request.path in self.paths else "-"
        self.logger.info("%s %s %s", request.method if request.method.isalpha() else "-", route, response.status)


class ScrubFilter(logging.Filter):
    """aiohttp logs the client address and the raw request on errors; keep only the error's type."""

    def filter(self, record: logging.LogRecord) -> bool:
        kind = type(record.exc_info[1]).__name__ if record.exc_info and record.exc_info[1] else "error"
        record.msg = "http: %s"
        record.args = (kind,)
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def security_headers(frame_ancestors: str) -> dict[str, str]:
    """Headers on every response: no inline script, no third party, no referrer, nothing cached."""
    policy = "; ".join((
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
        "connect-src 'self'", "base-uri 'none'", "form-action 'none'", f"frame-ancestors {frame_ancestors}",
        "require-trusted-types-for 'script'",
    ))
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }
