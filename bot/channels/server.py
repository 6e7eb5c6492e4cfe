"""What every webhook server of Anshin shares, whatever the medium: the health path, the body limit, read
timeouts, aiohttp's own errors as short JSON, serving until SIGTERM with a bounded shutdown, and the log filter
that keeps what users sent out of the libraries' own log lines."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import signal
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError

from bot.channels.delivery import SHUTDOWN_GRACE, Handling
from bot.metrics import ReachMetrics, metrics_handler

__all__ = [
    "BODY_TIMEOUT",
    "ERROR_HEADERS",
    "HANDLING",
    "HEALTH_PATH",
    "IDLE_TIMEOUT",
    "MAX_BODY",
    "MAX_INT_DIGITS",
    "BodyError",
    "Runner",
    "WithholdDetails",
    "health",
    "load_json",
    "prepare_in_background",
    "read_body",
    "serve_until_stopped",
    "stop_on_signals",
    "unless_stopped",
    "webhook_routes",
    "withhold_details",
]

MAX_BODY = 1 << 20  # webhook events are a few KiB; a larger body is refused with 413 before it is parsed
HEALTH_PATH = "/healthz"  # GET: 200 "ok" for a load balancer; says nothing about the engine or the messenger
# A connection that has sent no complete request line and headers this long after it opened or after its last
# answer is closed: both the header timeout (slow or half-sent headers) and the keep-alive of an idle connection.
IDLE_TIMEOUT = 5.0
BODY_TIMEOUT = 10.0  # a request's body must have arrived this long after its headers: else 408
LINGER = 2.0  # how long a body nobody reads is drained before the connection is closed
MAX_INT_DIGITS = 20  # the messengers' numbers fit 64 bits; a longer integer is not theirs
# On aiohttp's own error answers when the app gives none (a webhook): never sniffed, never cached.
ERROR_HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
# The work in hand of a webhook app (``delivery.Handling``): ``serve_until_stopped`` stops it at SIGTERM.
HANDLING: web.AppKey[Handling] = web.AppKey("handling", Handling)
log = logging.getLogger(__name__)

_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")
_REASONS = {400: "bad request", 408: "request timeout", 413: "request body too large",
            431: "request headers too large", 500: "something went wrong; please try again",
            504: "something went wrong; please try again"}


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


async def health(request: web.Request) -> web.Response:
    """``GET /healthz``: 200 once the server is serving, for a load balancer; it says nothing about the
    messenger's API or the engine."""
    return web.Response(text="ok")


def webhook_routes(app: web.Application, path: str, receive: Callable[[web.Request], Awaitable[web.StreamResponse]],
                   metrics: ReachMetrics | None = None) -> web.Application:
    """A webhook's routes, whatever the medium: POST ``path`` to ``receive``, GET /healthz, and GET /metrics
    when ``metrics`` is given (on the worker's own address: deploy/nginx.conf keeps it from the world)."""
    app.router.add_post(path, receive)
    if path != HEALTH_PATH:
        app.router.add_get(HEALTH_PATH, health)
    if metrics is not None and path != "/metrics":
        app.router.add_get("/metrics", metrics_handler(metrics))
    return app


class BodyError(Exception):
    """A request body that could not be read: too large, too slow, or not decodable (a corrupt gzip)."""

    def __init__(self, status: int) -> None:
        super().__init__(_REASONS[status])
        self.status = status
        self.reason = _REASONS[status]


async def read_body(request: web.BaseRequest, timeout: float = BODY_TIMEOUT) -> bytes:
    """The whole body, decoded from its Content-Encoding; ``BodyError`` 413, 408 or 400 when it cannot be had."""
    try:
        async with asyncio.timeout(timeout):
            return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise BodyError(413) from None
    except TimeoutError:
        raise BodyError(408) from None
    except (RequestPayloadError, HttpProcessingError, ConnectionError):  # a body that does not inflate, a cut-off
        raise BodyError(400) from None  # chunk, a client gone halfway


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer out of range")
    return int(text)


def load_json(body: bytes) -> Any:
    """``json.loads`` for a messenger's body: UTF-8, integers of at most 20 digits. ``ValueError`` (or
    ``RecursionError``) for anything else: a 400, never a crash further on."""
    return json.loads(body.decode("utf-8"), parse_int=_bounded_int)


class _Handler(RequestHandler):
    """aiohttp's connection handler, except that its own error answers (a request it cannot parse, a handler
    that failed) are the app's short JSON error with the app's headers, never the request echoed back."""

    error_headers: Mapping[str, str] = {}

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        """A body that does not decode is the client's fault, not news: aiohttp, draining what is left of it
        after the 400, would log it at ERROR."""
        error = kwargs.get("exc_info")
        if isinstance(error, RequestPayloadError | HttpProcessingError | ConnectionError):
            self.logger.debug(f"http: {type(error).__name__}")
            return
        super().log_exception(*args, **kwargs)

    def handle_error(self, request: web.BaseRequest, status: int = 500, exc: BaseException | None = None,
                     message: str | None = None) -> web.StreamResponse:
        # Garbage from the internet and clients that hang up are not news; a failing handler is.
        level = logging.ERROR if status >= 500 and not isinstance(exc, ConnectionError) else logging.DEBUG
        self.logger.log(level, f"http: {status} {type(exc).__name__ if exc is not None else ''}".rstrip())
        if request.writer.output_size > 0:
            raise ConnectionError("the response had begun")
        body = json.dumps({"error": _REASONS.get(status, "bad request")})
        response = web.Response(status=status, text=body, content_type="application/json",
                                headers=self.error_headers)
        response.force_close()
        return response


class _Server(web.Server):
    def __init__(self, *args: Any, error_headers: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._handler_class: type[_Handler] = type("Handler", (_Handler,), {"error_headers": dict(error_headers)})

    def __call__(self) -> RequestHandler:
        return self._handler_class(self, loop=self._loop, **self._kwargs)


class Runner(web.AppRunner):
    """``web.AppRunner`` for an exposed server: a connection must send its request line and headers within
    ``IDLE_TIMEOUT`` (which is also the keep-alive), a body that nobody reads is drained for at most ``LINGER``,
    aiohttp's own errors are short JSON with ``error_headers`` (the app's security headers), and the shutdown
    waits at most ``shutdown_timeout`` for handlers (an app's ``HANDLING`` is drained before that:
    ``serve_until_stopped``)."""

    def __init__(self, app: web.Application, *, error_headers: Mapping[str, str] | None = None,
                 idle_timeout: float = IDLE_TIMEOUT, **kwargs: Any) -> None:
        kwargs.setdefault("shutdown_timeout", SHUTDOWN_GRACE)  # (an app with HANDLING has drained it already)
        super().__init__(app, keepalive_timeout=idle_timeout, lingering_time=LINGER, **kwargs)
        self._error_headers = dict(error_headers or ERROR_HEADERS)

    async def _make_server(self) -> web.Server:
        made = await super()._make_server()
        return _Server(made.request_handler, request_factory=made.request_factory, loop=made._loop,
                       handler_cancellation=made.handler_cancellation, error_headers=self._error_headers,
                       **made._kwargs)


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


async def unless_stopped(stop: asyncio.Event, work: Awaitable[Any]) -> bool:
    """Await ``work`` (start-up calls, retried for minutes while the messenger is down) unless ``stop`` is set
    first: then it is cancelled and False returned, so that SIGTERM stops a worker that is still starting."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait((task, stopped), return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        task.result()
        return True
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    return False


_preparing: set[asyncio.Future[Any]] = set()  # held until done: a loop keeps only weak references to them


def prepare_in_background(prepare: Callable[[], Any]) -> None:
    """Run ``prepare`` (e.g. ``Engine.prepare_text``: the safety layer's rules and model) in a thread, so that the
    first message a child types does not wait for it while the loop goes on serving. Then everything built so far
    is moved out of the garbage collector's sight, as at start-up (``bot.cli.base.settle_heap``)."""

    def run() -> None:
        import gc

        prepare()
        gc.collect()
        gc.freeze()

    future = asyncio.get_running_loop().run_in_executor(None, run)
    _preparing.add(future)
    future.add_done_callback(_prepared)


def _prepared(future: asyncio.Future[Any]) -> None:
    _preparing.discard(future)
    if not future.cancelled() and future.exception() is not None:
        log.warning("preparing in the background failed: %s", type(future.exception()).__name__)


async def serve_until_stopped(app: web.Application, host: str, port: int, started: Callable[[], Awaitable[Any]],
                              stop: asyncio.Event | None = None, prepare: Callable[[], Any] | None = None) -> None:
    """Serve ``app``, call ``started`` (e.g. register the webhook), then ``prepare`` in the background
    (``prepare_in_background``), and serve until SIGTERM/SIGINT or ``stop``.

    Then the app's work in hand (``HANDLING``) gets its grace and is cancelled: those requests are answered 503
    (the messenger delivers them again), as is any request arriving meanwhile; then the server closes."""
    with stop_on_signals(stop or asyncio.Event()) as stopped:
        runner = Runner(app, access_log=None, handle_signals=False)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            if await unless_stopped(stopped, started()):
                if prepare is not None:
                    prepare_in_background(prepare)
                log.info("webhook listening on %s:%d", host, port)
                log.debug("requests: headers within %.0f s, bodies within %.0f s, idle connections closed after %.0f s",
                          IDLE_TIMEOUT, BODY_TIMEOUT, IDLE_TIMEOUT)
                await stopped.wait()
            handling = app.get(HANDLING)
            if handling is not None:
                await handling.drain()
                if handling.abandoned:
                    log.warning("stopped: %d event(s) left for the messenger to deliver again", handling.abandoned)
        finally:
            await runner.cleanup()
