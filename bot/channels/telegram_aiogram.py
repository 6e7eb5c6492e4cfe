"""Telegram on aiogram 3: updates -> engine events -> Bot API calls, by polling or by webhook.

Only what aiogram needs lives here; the translation rules are in ``telegram_common``. The channel holds
no conversation state (button ids carry it) and logs nothing from an update: aiogram's and aiohttp's
own loggers are filtered so that no update content, id or name reaches a log line at any level.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import (
    BotCommand,
    CallbackQuery,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    TelegramObject,
    Update,
)
from aiogram.types.update import UpdateTypeLookupError
from aiohttp import web
from pydantic import ValidationError

from bot.channels.telegram_common import (
    ALLOWED_UPDATES,
    GROUP_CHATS,
    FloodGate,
    edits_in_place,
    group_reply,
    keyboard_rows,
    media_kind,
    message_action,
    message_text,
    setup_calls,
)
from bot.engine import Button, Engine, Event, Reply
from bot.metrics import ReachMetrics, metrics_handler

__all__ = [
    "FRAMEWORK_LOGGERS",
    "HEALTH_PATH",
    "MAX_BODY",
    "Retry",
    "WithholdDetails",
    "create_bot",
    "create_dispatcher",
    "poll",
    "quiet_framework_loggers",
    "serve_webhook",
    "setup",
    "webhook_app",
]

log = logging.getLogger(__name__)
FRAMEWORK_LOGGERS = ("aiogram", "aiogram.dispatcher", "aiogram.event", "aiogram.middlewares", "aiogram.webhook",
                     "aiogram.scene", "aiohttp.access", "aiohttp.client", "aiohttp.internal", "aiohttp.server",
                     "aiohttp.web", "aiohttp.websocket", "asyncio")
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%]")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1 << 20  # Telegram's updates are a few KiB; a larger body is refused with 413 before it is parsed
HEALTH_PATH = "/healthz"  # GET: 200 "ok" for a load balancer; says nothing about the engine or the Bot API


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


def quiet_framework_loggers() -> None:
    """aiogram logs update and bot ids per update at INFO and exception texts at ERROR: withhold both."""
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    for name in FRAMEWORK_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WithholdDetails) for f in logger.filters):
            logger.addFilter(WithholdDetails())


@dataclass(frozen=True)
class Retry(BaseRequestMiddleware):
    """Honour 429 ``retry_after``; retry 5xx, network errors (resets, timeouts) and unreadable answers (a
    proxy's error page, a cut-off body) with exponential backoff. After ``attempts`` tries the error is
    raised: the caller drops the message with a content-free log line and a ``delivery_failure`` count."""

    attempts: int = 5
    backoff: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 60.0

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        for attempt in range(1, self.attempts + 1):
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                if attempt == self.attempts or error.retry_after > self.max_retry_after:
                    raise
                delay = float(error.retry_after)
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError):
                if attempt == self.attempts:
                    raise
                delay = min(self.max_delay, self.backoff * 2 ** (attempt - 1))
            log.info("telegram: %s retried in %.1f s", method.__api_method__, delay)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def create_bot(token: str, api: str = "https://api.telegram.org", retry: Retry | None = None,
               timeout: float = 30.0) -> Bot:
    """A Bot whose calls go to ``<api>/bot<token>/<method>`` (Telegram, a local Bot API server, a fake)."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api.rstrip("/")), timeout=timeout)
    session.middleware(retry or Retry())
    return Bot(token, session=session)


def _markup(params: dict[str, Any]) -> dict[str, Any]:
    """telegram_common's JSON parameters as aiogram objects."""
    out = dict(params)
    if "reply_markup" in params:
        out["reply_markup"] = InlineKeyboardMarkup.model_validate(params["reply_markup"])
    if "link_preview_options" in params:
        out["link_preview_options"] = LinkPreviewOptions(**params["link_preview_options"])
    return out


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@lru_cache(maxsize=4096)
def _keyboard(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """Keyboards depend only on screen, language and audience: build each aiogram object once."""
    rows = [[InlineKeyboardButton.model_validate(b) for b in row] for row in keyboard_rows(buttons)]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


def _reply_params(reply: Reply) -> dict[str, Any]:
    return {"text": message_text(reply), "reply_markup": _keyboard(reply.buttons), "link_preview_options": NO_PREVIEW}


def _dropped(method: str, error: Exception, metrics: ReachMetrics | None) -> None:
    """A message given up on: one line with the method and the error's type, and a count; nothing else."""
    log.warning("telegram: %s failed: %s", method, type(error).__name__)
    if metrics is not None:
        metrics.error("delivery_failure")


async def _send(bot: Bot, chat_id: int, params: dict[str, Any], metrics: ReachMetrics | None = None) -> None:
    try:
        await bot.send_message(chat_id=chat_id, **params)
    except (TelegramAPIError, ClientDecodeError) as error:  # blocked by the user, chat gone, retries spent
        _dropped("sendMessage", error, metrics)


async def _edit(bot: Bot, chat_id: int, message_id: int, params: dict[str, Any],
                metrics: ReachMetrics | None = None) -> bool:
    """Edit in place; False when Telegram refuses (too old, not ours) so the caller sends instead."""
    try:
        await bot.edit_message_text(chat_id=chat_id, message_id=message_id, **params)
    except TelegramBadRequest as error:
        return "not modified" in error.message  # the same screen pressed twice: already shown
    except (TelegramAPIError, ClientDecodeError) as error:
        _dropped("editMessageText", error, metrics)
    return True


def create_dispatcher(engine: Engine, default_lang: str | None = None, gate: FloodGate | None = None,
                      metrics: ReachMetrics | None = None) -> Dispatcher:
    """A Dispatcher with Anshin's handlers; FSM storage is off, so nothing is kept per chat.
    ``metrics`` counts events and replies with labels from fixed sets only (bot/metrics.py)."""
    quiet_framework_loggers()
    flood = gate or FloodGate()
    router = Router(name="anshin")

    async def answer(bot: Bot, chat_id: int, event: Event) -> None:
        replies = engine.handle(event)
        if metrics is not None:
            metrics.record(event, replies)
        for reply in replies:
            if flood.allow(chat_id, reply.emergency):
                await _send(bot, chat_id, _reply_params(reply), metrics)
            elif metrics is not None:
                metrics.error("rate_limited")

    @router.message()
    async def on_message(message: Message, bot: Bot) -> None:
        me = await bot.me()
        lang = (message.from_user.language_code if message.from_user else None) or default_lang
        media = None if message.text is not None else media_kind(lambda name: getattr(message, name, None))
        action = message_action(message.chat.type, message.text, media, lang, me.username)
        if action.kind == "group" and me.username:
            await _send(bot, message.chat.id, _markup(group_reply(engine, lang, me.username)), metrics)
        elif action.event is not None:
            await answer(bot, message.chat.id, action.event)

    @router.callback_query()
    async def on_press(query: CallbackQuery, bot: Bot) -> None:
        try:
            await bot.answer_callback_query(query.id)  # always: no endless spinner
        except (TelegramAPIError, ClientDecodeError) as error:
            _dropped("answerCallbackQuery", error, metrics)
        message = query.message
        if message is None or message.chat.type != "private":
            return  # inline-mode or group buttons are not ours to answer
        data = query.data or ""
        editable = isinstance(message, Message)
        event = Event("press", data, query.from_user.language_code or default_lang)
        replies = engine.handle(event)
        if metrics is not None:
            metrics.record(event, replies)
        for reply in replies:
            if not flood.allow(message.chat.id, reply.emergency):
                if metrics is not None:
                    metrics.error("rate_limited")
                continue
            params = _reply_params(reply)
            if editable and edits_in_place(engine, data, reply) and await _edit(
                    bot, message.chat.id, message.message_id, params, metrics):
                editable = False
                continue
            editable = False
            await _send(bot, message.chat.id, params, metrics)

    @router.my_chat_member()
    async def on_added(change: ChatMemberUpdated, bot: Bot) -> None:
        joined = change.new_chat_member.status in ("member", "administrator")
        was_out = change.old_chat_member.status in ("left", "kicked")
        me = await bot.me()
        if change.chat.type in GROUP_CHATS and joined and was_out and me.username:
            lang = change.from_user.language_code or default_lang
            await _send(bot, change.chat.id, _markup(group_reply(engine, lang, me.username)), metrics)

    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.update.outer_middleware(_guard)
    dispatcher.include_router(router)
    return dispatcher


async def _guard(handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], update: TelegramObject,
                 data: dict[str, Any]) -> Any:
    """Unknown update types are silence (aiogram would warn with the whole update); never a traceback."""
    try:
        if isinstance(update, Update):
            update.event_type  # noqa: B018 - raises for an update type this aiogram does not know
        return await handler(update, data)
    except UpdateTypeLookupError:
        return UNHANDLED
    except Exception as error:
        log.error("telegram: an update failed: %s", type(error).__name__)
        return UNHANDLED


async def poll(dispatcher: Dispatcher, bot: Bot, handle_signals: bool = True, timeout: int = 30) -> None:
    """Long polling until SIGTERM/SIGINT (or ``dispatcher.stop_polling()``)."""
    await bot.delete_webhook(drop_pending_updates=False)
    await dispatcher.start_polling(bot, polling_timeout=timeout, allowed_updates=list(ALLOWED_UPDATES),
                                   handle_signals=handle_signals, close_bot_session=True)


def webhook_app(dispatcher: Dispatcher, bot: Bot, secret: str, path: str,
                metrics: ReachMetrics | None = None) -> web.Application:
    """An aiohttp app taking Telegram's POSTs on ``path``, and ``GET /healthz`` for a load balancer.

    A wrong or missing secret gets 401 (compared in constant time, before the body is read); another method
    405; a body over 1 MiB 413; a body that is not JSON, or JSON that is not an object with an integer
    ``update_id``, 400. An update with an integer id that this aiogram cannot read gets 200 so that
    Telegram does not resend it forever. No answer carries a stack trace or anything from the request.
    """
    expected = secret.encode("utf-8")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401, text="Unauthorized")
        try:
            raw = await request.json()
        except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deeply
            return web.Response(status=400, text="Bad Request")
        if not isinstance(raw, dict) or type(raw.get("update_id")) is not int:
            return web.Response(status=400, text="Bad Request: not an Update")
        try:
            update = Update.model_validate(raw, context={"bot": bot})
        except (ValidationError, RecursionError):
            return web.Response(status=200)  # a shape we cannot read: do not make Telegram resend it
        await dispatcher.feed_update(bot, update)
        return web.Response(status=200)

    async def health(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post(path, receive)
    if path != HEALTH_PATH:
        app.router.add_get(HEALTH_PATH, health)
    if metrics is not None and path != "/metrics":
        app.router.add_get("/metrics", metrics_handler(metrics))
    return app


async def serve_webhook(dispatcher: Dispatcher, bot: Bot, url: str, secret: str, host: str, port: int,
                        path: str, stop: asyncio.Event | None = None, metrics: ReachMetrics | None = None) -> None:
    """Register the webhook with Telegram, then serve until SIGTERM/SIGINT or ``stop`` is set."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    runner = web.AppRunner(webhook_app(dispatcher, bot, secret, path, metrics), access_log=None,
                           handle_signals=False)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await bot.set_webhook(url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES))
        log.info("telegram: webhook listening on %s:%d", host, port)
        await stop.wait()
    finally:
        await runner.cleanup()
        await bot.session.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


async def setup(engine: Engine, bot: Bot, default_locale: str | None = None) -> list[str]:
    """setMyCommands, setMyDescription and setMyShortDescription in every shipped language."""
    done: list[str] = []
    try:
        for call in setup_calls(engine, default_locale):
            params = dict(call.params)
            if call.method == "setMyCommands":
                commands = [BotCommand(**c) for c in params.pop("commands")]
                await bot.set_my_commands(commands, **params)
            elif call.method == "setMyDescription":
                await bot.set_my_description(**params)
            else:
                await bot.set_my_short_description(**params)
            done.append(f"{call.method} {params.get('language_code', '(default)')}")
    finally:
        await bot.session.close()
    return done
