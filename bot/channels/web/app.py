"""``anshin serve``: the flows as a small web chat. Stateless: the page holds the current button ids.

``POST /api/event`` takes one ``anshin simulate`` event as a JSON object and returns the same answer
(``{"replies": [...]}``); ``GET /api/ui?lang=xx`` gives the page's own texts from the catalogues.
Errors are JSON with a 4xx status, aiohttp's own included (a request it cannot parse, a slow one); nothing from
a request is logged but its method, route and status. The reach counters are counted here and published on a
separate address (``metrics_app``), never on the chat's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.channels.protocol import encode_replies, replies_for
from bot.channels.server import HEALTH_PATH, BodyError, Runner, health, prepare_in_background, read_body
from bot.channels.web.guard import SERVER_LOG, AccessLog, Limits, RateLimiter, ScrubFilter, security_headers
from bot.engine import Engine
from bot.metrics import ReachMetrics, metrics_handler

__all__ = ["DEFAULT_EXIT_URL", "UI_MESSAGES", "CountersAddressError", "Limits", "create_app", "html_lang",
           "metrics_app", "run_web", "start_web"]

log = logging.getLogger("bot.channels.web")  # and .access, .server: names kept short for operators
STATIC = Path(__file__).resolve().parent / "static"
DEFAULT_EXIT_URL = "https://www.yahoo.co.jp/"  # a page nobody looks twice at in Japan
# The page's own texts (chrome); flows never use them.
UI_MESSAGES = (
    "web.title", "web.quick_exit", "web.quick_exit.hint", "web.language", "web.log", "web.you", "web.bot",
    "web.input.label", "web.input.placeholder", "web.send", "web.new_tab", "web.privacy_note", "web.error",
)
_FILES = {"/": ("index.html", "text/html"), "/app.js": ("app.js", "text/javascript"),
          "/app.css": ("app.css", "text/css")}
_API = ("/api/event", "/api/ui", HEALTH_PATH)
_SCRIPTS = frozenset(("Hans", "Hant", "Latn", "Cyrl", "Arab", "Deva", "Jpan", "Kore"))
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ENGINE: web.AppKey[Engine] = web.AppKey("engine", Engine)
LIMITER: web.AppKey[RateLimiter] = web.AppKey("limiter", RateLimiter)
EXIT_URL: web.AppKey[str] = web.AppKey("exit_url", str)
METRICS: web.AppKey[ReachMetrics] = web.AppKey("metrics", ReachMetrics)
HEADERS: web.AppKey[dict[str, str]] = web.AppKey("headers", dict)


def _error(status: int, message: str, **headers: str) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers or None)


_REASONS = {
    400: "the request body could not be read; send the event as plain JSON",
    404: "no such page; the chat is at /",
    405: "method not allowed",
    408: "the request came too slowly; please try again",
    413: "request body too large",
}


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure becomes a short JSON answer: no HTML, no stack trace, nothing from the request."""
    try:
        return await handler(request)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        headers = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else {}
        return _error(error.status, _REASONS.get(error.status, error.reason), **headers)
    except asyncio.CancelledError:
        raise
    except Exception as error:  # a bug: say sorry, log the type only
        log.error("web request failed: %s", type(error).__name__)
        return _error(500, "something went wrong; please try again")


@web.middleware
async def _rate_limit(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        wait = request.app[LIMITER].allow(request.remote or "")
        if wait > 0:
            return _error(429, "too many requests; please wait a moment", **{"Retry-After": str(int(wait) + 1)})
    return await handler(request)


async def _event(request: web.Request) -> web.Response:
    if request.content_type != "application/json":
        return _error(415, "send the event as application/json, e.g. {\"start\": \"\"}")
    try:
        body = await read_body(request)  # client_max_size refuses a larger body with 413
    except BodyError as error:  # too large, too slow, or a Content-Encoding that does not decode
        refused = _error(error.status, _REASONS[error.status])
        refused.force_close()  # the rest of that body is not worth waiting for
        return refused
    try:
        line = body.decode("utf-8")
    except UnicodeDecodeError:
        return _error(400, "the body is not UTF-8")
    if not line.strip():
        return _error(400, "empty body; send one event such as {\"start\": \"\"}")
    metrics = request.app.get(METRICS)
    replies = replies_for(request.app[ENGINE], line.replace("\n", " ").replace("\r", " "),
                          metrics.record if metrics else None)
    if isinstance(replies, str):
        if metrics:
            metrics.error("bad_event")
        return _error(400, replies)
    return web.Response(text=encode_replies(replies), content_type="application/json")


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


async def _ui(request: web.Request) -> web.Response:
    """The page's texts in the negotiated locale, the language menu and the quick-exit target."""
    engine = request.app[ENGINE]
    catalogs = engine.content.catalogs
    locale = catalogs.negotiate(request.query.get("lang", "")[:35] or None)
    return web.json_response({
        "lang": html_lang(locale),
        "locale": locale,
        "texts": {msgid.removeprefix("web."): catalogs.gettext(locale, msgid) for msgid in UI_MESSAGES},
        "locales": [{"code": code, "name": catalogs.display_name(code)} for code in catalogs.locales],
        "exit_url": request.app[EXIT_URL],
    }, dumps=_dumps)


def html_lang(locale: str) -> str:
    """A Babel locale as an HTML ``lang`` value: pt_BR -> pt-BR, zh_Hans -> zh-Hans, ja_Easy -> ja."""
    language, *rest = locale.split("_")
    keep = [part for part in rest if (len(part) == 2 and part.isupper()) or part in _SCRIPTS]
    return "-".join([language, *keep])


def _static(body: bytes, content_type: str) -> Handler:
    async def serve(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type, charset="utf-8")

    return serve


def create_app(engine: Engine, limits: Limits | None = None, exit_url: str = DEFAULT_EXIT_URL,
               frame_ancestors: str = "*", metrics: ReachMetrics | None = None) -> web.Application:
    """The web chat for one engine. ``frame_ancestors`` lists the sites that may embed it (CSP syntax)."""
    limits = limits or Limits()
    app = web.Application(middlewares=[_errors, _rate_limit], client_max_size=limits.max_body_bytes)
    app[ENGINE] = engine
    app[LIMITER] = RateLimiter(limits)
    app[EXIT_URL] = exit_url
    headers = app[HEADERS] = security_headers(frame_ancestors)

    async def add_headers(request: web.Request, response: web.StreamResponse) -> None:
        response.headers.update(headers)

    app.on_response_prepare.append(add_headers)
    for path, (name, content_type) in _FILES.items():
        app.router.add_get(path, _static((STATIC / name).read_bytes(), content_type))
    app.router.add_post("/api/event", _event)
    app.router.add_get("/api/ui", _ui)
    app.router.add_get(HEALTH_PATH, health)
    if metrics is not None:  # reach counters, labels from fixed sets only (bot/metrics.py); served by metrics_app
        app[METRICS] = metrics
    return app


def metrics_app(metrics: ReachMetrics) -> web.Application:
    """``GET /metrics`` alone, for Prometheus on an address of its own (``anshin serve --metrics-port``): the
    chat is safe to expose, and the counters (how many opened which screen) are for operators only."""
    app = web.Application()
    app.router.add_get("/metrics", metrics_handler(metrics))
    return app


class _AccessLog(AccessLog):
    paths = frozenset((*_FILES, *_API))


def _runner(app: web.Application, handle_signals: bool) -> web.AppRunner:
    server_log = logging.getLogger(SERVER_LOG)
    if not any(isinstance(f, ScrubFilter) for f in server_log.filters):
        server_log.addFilter(ScrubFilter())
    return Runner(app, error_headers=app.get(HEADERS), access_log_class=_AccessLog,
                  access_log=logging.getLogger("bot.channels.web.access"), logger=server_log,
                  handle_signals=handle_signals)


async def start_web(app: web.Application, host: str = "127.0.0.1", port: int = 0,
                    handle_signals: bool = False) -> tuple[web.AppRunner, int]:
    """Start serving; port 0 picks a free port. Returns the runner (``await runner.cleanup()``) and port."""
    runner = _runner(app, handle_signals)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server  # aiohttp has no public accessor for the bound port
    sockets = getattr(server, "sockets", None) or []
    bound = int(sockets[0].getsockname()[1]) if sockets else port
    return runner, bound


class CountersAddressError(OSError):
    """The counters' address (``metrics_address``) could not be listened on; the chat's could."""


def run_web(engine: Engine, host: str, port: int, limits: Limits | None = None,
            exit_url: str = DEFAULT_EXIT_URL, ready: Callable[[int], None] | None = None,
            metrics: ReachMetrics | None = None, metrics_address: tuple[str, int] | None = None,
            metrics_ready: Callable[[int], None] | None = None) -> int:
    """Serve until interrupted (Ctrl-C). ``ready`` is called with the bound port. With ``metrics_address``
    (host, port), ``GET /metrics`` is served there (``metrics_ready`` gets its port), and nowhere else."""

    async def main() -> None:
        runners: list[web.AppRunner] = []
        try:
            runner, bound = await start_web(create_app(engine, limits, exit_url, metrics=metrics), host, port, True)
            runners.append(runner)
            if ready is not None:
                ready(bound)
            prepare_in_background(engine.prepare_text)
            if metrics is not None and metrics_address is not None:
                try:
                    counters, counted = await start_web(metrics_app(metrics), *metrics_address)
                except OSError as error:
                    raise CountersAddressError(error.errno, error.strerror) from None
                runners.append(counters)
                if metrics_ready is not None:
                    metrics_ready(counted)
            await asyncio.Event().wait()
        finally:
            for running in runners:
                await running.cleanup()

    with contextlib.suppress(KeyboardInterrupt, web.GracefulExit):
        asyncio.run(main())
    return 0
