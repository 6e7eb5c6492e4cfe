"""What every webhook server of Anshin shares, whatever the medium: the health path, the body limit, serving until
SIGTERM, and the log filter that keeps what users sent out of the libraries' own log lines."""

from __future__ import annotations

import asyncio
import logging
import re
import signal
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import web

__all__ = ["HEALTH_PATH", "MAX_BODY", "WithholdDetails", "serve_until_stopped", "stop_on_signals", "withhold_details"]

MAX_BODY = 1 << 20  # webhook events are a few KiB; a larger body is refused with 413 before it is parsed
HEALTH_PATH = "/healthz"  # GET: 200 "ok" for a load balancer; says nothing about the engine or the messenger
log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")


class WithholdDetails(logging.Filter):
    """Keep a framework log line's fixed wording and drop every value: args, tracebacks, repr'd objects."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = iter(record.args if isinstance(record.args, tuple) else ())

        def withhold(match: re.Match[str]) -> str:
            if match.group() == "%%":
                return "%"
            arg = next(args, None)
            return type(arg).__name__ if isinstance(arg, BaseException) else "…"

        template = str(record.msg).split("\n", 1)[0]
        record.msg = _PLACEHOLDER.sub(withhold, template) if record.args else template.replace("%", "%%")
        if record.exc_info and record.exc_info[0] is not None:
            record.msg += f" ({record.exc_info[0].__name__})"
        record.args, record.exc_info, record.exc_text, record.stack_info = (), None, None, None
        return True


def withhold_details(names: tuple[str, ...], roots: tuple[str, ...] = ()) -> None:
    """Put ``WithholdDetails`` on these loggers and on every logger already made under ``roots``.

    A logger's filter sees only that logger's own records, not its children's, hence the list."""
    made = [name for name in list(logging.Logger.manager.loggerDict) if name.split(".")[0] in roots]
    for name in (*names, *made):
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithholdDetails) for f in logger.filters):
            logger.addFilter(WithholdDetails())



@contextmanager
def stop_on_signals(stop: asyncio.Event) -> Iterator[asyncio.Event]:
    """SIGTERM and SIGINT set ``stop`` while the block runs (in the running event loop)."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        yield stop
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def serve_until_stopped(app: web.Application, host: str, port: int, started: Callable[[], Awaitable[Any]],
                              stop: asyncio.Event | None = None) -> None:
    """Serve ``app``, call ``started`` (e.g. register the webhook), and serve until SIGTERM/SIGINT or ``stop``."""
    with stop_on_signals(stop or asyncio.Event()) as stopped:
        runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            await started()
            log.info("webhook listening on %s:%d", host, port)
            await stopped.wait()
        finally:
            await runner.cleanup()
