"""`anshin line`: the aiohttp webhook server and what it does with each event.

POST on the webhook path (``/callback`` by default): a body over 1 MiB gets 413 while it is read, one that does
not arrive within ``server.BODY_TIMEOUT`` 408, one whose Content-Encoding does not decode 400; a missing,
non-ASCII or wrong ``X-Line-Signature`` (the base64 HMAC-SHA256 of the raw body under the channel secret,
checked by the SDK's ``SignatureValidator`` in constant time) 401, before the body is parsed; a body that is not
UTF-8 JSON, or JSON that is not ``{"events": [...]}``, 400. Otherwise 200, once every event is answered: an
empty list is LINE's "Verify" button. Events are answered in order; one that cannot be read is silence, and one
whose ``webhookEventId`` was answered lately (LINE redelivers after an error) is not answered again. No answer
carries a stack trace or anything from the request. ``GET /healthz`` 200; ``GET /metrics`` the reach counters.

The SDK's ``WebhookParser.parse`` is not used to read the body: one event it cannot model (a new type, a missing
field) makes it raise for the whole batch, which holds other users' events, and it logs an unknown event's type
as sent. Events are read as plain JSON instead (``events``), after the SDK's own signature check.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from linebot.v3.webhook import SignatureValidator

from bot.channels import server
from bot.channels.line.client import LineApi
from bot.channels.line.events import Action, event_action, event_id, read_body
from bot.channels.line.messages import Messages
from bot.channels.recent import RecentIds
from bot.channels.server import MAX_BODY, serve_until_stopped, webhook_routes
from bot.engine import Engine
from bot.metrics import ReachMetrics

__all__ = ["FRAMEWORK_LOGGERS", "SIGNATURE_HEADER", "LineBot", "LineSettings", "quiet_framework_loggers", "run",
           "webhook_app"]

SIGNATURE_HEADER = "X-Line-Signature"
FRAMEWORK_LOGGERS = ("linebot", "urllib3", "aiohttp.access", "aiohttp.client", "aiohttp.internal", "aiohttp.server",
                     "aiohttp.web", "aiohttp.websocket", "asyncio")
log = logging.getLogger(__name__)


def quiet_framework_loggers() -> None:
    """The SDK's loggers (the REST client logs response bodies at DEBUG) and aiohttp's keep their wording only."""
    server.withhold_details(FRAMEWORK_LOGGERS, roots=("linebot",))


@dataclass(frozen=True)
class LineSettings:
    secret: str
    access_token: str
    api: str | None  # base URL replacing api.line.me and api-data.line.me; None: LINE's own
    host: str
    port: int
    path: str
    basic_id: str | None = None  # the account's @id: the group message's add-friend button


def friend_link(basic_id: str | None) -> str | None:
    """LINE's add-friend URL for an account's basic or premium id (``@anshin``)."""
    return f"https://line.me/R/ti/p/{basic_id}" if basic_id else None


class LineBot:
    """Events -> engine -> reply API. Holds no conversation state; the redelivery window holds hashed event ids."""

    def __init__(self, engine: Engine, api: LineApi, lang: str | None = None, metrics: ReachMetrics | None = None,
                 basic_id: str | None = None, window: RecentIds | None = None) -> None:
        self.engine, self.api, self.lang, self.metrics = engine, api, lang, metrics
        self.messages = Messages(engine)
        self.friend_link = friend_link(basic_id)
        self.window = window if window is not None else RecentIds()

    async def handle(self, raw: Any) -> None:
        """Answer one event, once."""
        key = event_id(raw)
        if key is not None and self.window.seen(key):
            return  # redelivered, and answered already
        await self.act(event_action(raw, self.lang))
        if key is not None:
            self.window.add(key)

    async def act(self, action: Action) -> None:
        if action.kind == "engine" and action.event is not None and action.reply_token is not None:
            replies = self.engine.handle(action.event)
            if self.metrics is not None:
                self.metrics.record(action.event, replies)
            if replies:
                await self.api.reply(action.reply_token, self.messages.for_replies(replies))
        elif action.kind in ("join", "leave") and action.chat is not None:
            if action.kind == "join" and action.reply_token is not None:
                await self.api.reply(action.reply_token, [self.messages.group(self.lang, self.friend_link)])
            await self.api.leave(action.chat)


def webhook_app(bot: LineBot, secret: str, path: str, metrics: ReachMetrics | None = None) -> web.Application:
    """The aiohttp app: LINE's POSTs on ``path``, ``GET /healthz``, and ``GET /metrics`` when ``metrics`` is given."""
    validator = SignatureValidator(secret)

    async def receive(request: web.Request) -> web.Response:
        signature = request.headers.get(SIGNATURE_HEADER)
        if not signature or not signature.isascii():
            return web.Response(status=401, text="Unauthorized")  # the SDK would fail on None, not refuse
        try:
            raw = await server.read_body(request)
        except server.BodyError as error:  # too large, too slow, or a Content-Encoding that does not decode
            return web.Response(status=error.status, text=error.reason)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            return web.Response(status=400, text="Bad Request")
        if not validator.validate(body, signature):
            return web.Response(status=401, text="Unauthorized")
        try:
            events = read_body(json.loads(body))
        except (ValueError, RecursionError):
            events = None
        if events is None:
            return web.Response(status=400, text="Bad Request")
        for event in events:
            try:
                await bot.handle(event)
            except Exception as error:  # never a traceback with the event in it; LINE need not resend
                log.error("line: an event failed: %s", type(error).__name__)
        return web.Response(status=200, text="OK")

    return webhook_routes(web.Application(client_max_size=MAX_BODY), path, receive, metrics)


async def run(engine: Engine, settings: LineSettings, lang: str | None = None, metrics: ReachMetrics | None = None,
              stop: asyncio.Event | None = None) -> None:
    """Serve the webhook until SIGTERM/SIGINT (or ``stop``)."""
    quiet_framework_loggers()
    api = LineApi(settings.access_token, settings.api, metrics=metrics)
    bot = LineBot(engine, api, lang, metrics, settings.basic_id)

    async def started() -> None:
        return None

    try:
        await serve_until_stopped(webhook_app(bot, settings.secret, settings.path, metrics), settings.host,
                                  settings.port, started, stop, engine.prepare_text)
    finally:
        await api.close()
