"""Telegram on aiogram 3: updates -> engine events -> Bot API calls, by polling or by webhook.

Only what aiogram needs lives here; the translation rules are in ``common``. The channel holds
no conversation state (button ids carry it) and logs nothing from an update: aiogram's and aiohttp's
own loggers are filtered so that no update content, id or name reaches a log line at any level.
"""

from __future__ import annotations

# isort: off
from bot.channels.telegram import aiogram_types  # noqa: F401  (first: aiogram's types built when used)
# isort: on

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from aiogram import Bot, Dispatcher, Router
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
from aiogram.methods import GetUpdates, Response, SendMessage, TelegramMethod
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
    User,
)
from aiogram.types.update import UpdateTypeLookupError
from aiohttp import web
from pydantic import ValidationError

from bot.channels import server
from bot.channels.delivery import Handling, MaybeDelivered, Undelivered, defer, pause
from bot.channels.server import HEALTH_PATH, MAX_BODY, WithholdDetails, prepare_in_background, serve_until_stopped
from bot.channels.telegram import common
from bot.channels.telegram.aiogram_session import AnshinSession, NoAnswer
from bot.channels.telegram.common import (
    ALLOWED_UPDATES,
    SECRET_HEADER,
    FloodGate,
    RetryPolicy,
    WebhookSettings,
    added_to_group,
    dropped,
    group_answer,
    group_gate,
    group_reply,
    keyboard_rows,
    media_kind,
    message_action,
    message_text,
    respond,
    setup_calls,
    stop_spinner,
    undelivered,
)
from bot.engine import Button, Engine, Event, Reply
from bot.metrics import ReachMetrics

__all__ = [
    "FRAMEWORK_LOGGERS",
    "HEALTH_PATH",
    "MAX_BODY",
    "SECRET_HEADER",
    "Retry",
    "WithholdDetails",
    "create_bot",
    "create_dispatcher",
    "poll",
    "quiet_framework_loggers",
    "run",
    "serve_webhook",
    "setup",
    "webhook_app",
]

log = logging.getLogger(__name__)
FRAMEWORK_LOGGERS = ("aiogram", "aiogram.dispatcher", "aiogram.event", "aiogram.middlewares", "aiogram.webhook",
                     "aiogram.scene", "aiohttp.access", "aiohttp.client", "aiohttp.internal", "aiohttp.server",
                     "aiohttp.web", "aiohttp.websocket", "asyncio")


def quiet_framework_loggers() -> None:
    """aiogram logs update and bot ids per update at INFO and exception texts at ERROR: withhold both."""
    logging.getLogger("aiogram.event").setLevel(logging.WARNING)
    server.withhold_details(FRAMEWORK_LOGGERS)


@dataclass(frozen=True)
class Retry(RetryPolicy, BaseRequestMiddleware):
    """``RetryPolicy`` as a session middleware: 429 ``retry_after`` honoured; 5xx, network errors (resets,
    timeouts) and unreadable answers (a proxy's error page, a cut-off body) retried with backoff, until the
    budget or the update's deadline would pass; then the error is raised and the caller decides (``_send``).
    A sendMessage that got no answer in time is not sent again (it may have gone out: ``NoAnswer``); every other
    call Anshin makes is idempotent. getUpdates is left to aiogram's polling loop, which backs off itself."""

    async def __call__(
        self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot, method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if isinstance(method, GetUpdates):  # (a check by name would not narrow the type)
            return await make_request(bot, method)  # type: ignore[arg-type]
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return await make_request(bot, method)
            except NoAnswer as error:
                if isinstance(method, SendMessage):
                    raise
                failed: Exception = error
                delay = self.wait(attempt, started)
            except TelegramRetryAfter as error:
                failed, delay = error, self.wait(attempt, started, float(error.retry_after))
            except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as error:
                failed, delay = error, self.wait(attempt, started)
            if delay is None:
                raise failed
            log.info("telegram: %s retried in %.1f s", method.__api_method__, delay)
            if not await pause(delay):
                raise failed


def create_bot(token: str, api: str = "https://api.telegram.org", retry: Retry | None = None,
               timeout: float = 30.0, metrics: ReachMetrics | None = None) -> Bot:
    """A Bot whose calls go to ``<api>/bot<token>/<method>`` (Telegram, a local Bot API server, a fake).
    ``metrics`` counts the polled updates skipped as unreadable."""
    session = AnshinSession(api=TelegramAPIServer.from_base(api.rstrip("/")), timeout=timeout, metrics=metrics)
    session.middleware(retry or Retry())
    return Bot(token, session=session)


def _markup(params: dict[str, Any]) -> dict[str, Any]:
    """common's JSON parameters as aiogram objects."""
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


# Errors that may pass: the retries ran out of time. Anything else the Bot API refuses (blocked, chat gone) is final.
_TRANSIENT = (TelegramRetryAfter, TelegramServerError, TelegramNetworkError, ClientDecodeError)


async def _send(bot: Bot, chat_id: int, params: dict[str, Any], metrics: ReachMetrics | None = None) -> None:
    """Send; ``Undelivered`` when the retries ran out of time, ``MaybeDelivered`` when the call got no answer."""
    try:
        await bot.send_message(chat_id=chat_id, **params)
    except NoAnswer as error:
        raise MaybeDelivered("sendMessage") from error
    except _TRANSIENT as error:
        raise Undelivered("sendMessage") from error
    except TelegramAPIError as error:  # blocked by the user, chat gone
        dropped("sendMessage", error, metrics)


async def _edit(bot: Bot, chat_id: int, message_id: int, params: dict[str, Any],
                metrics: ReachMetrics | None = None) -> bool:
    """Edit in place; False when Telegram refuses (too old, not ours) so the caller sends instead."""
    try:
        await bot.edit_message_text(chat_id=chat_id, message_id=message_id, **params)
    except TelegramBadRequest as error:
        return "not modified" in error.message  # the same screen pressed twice (or an edit repeated): shown
    except _TRANSIENT as error:
        raise Undelivered("editMessageText") from error
    except TelegramAPIError as error:
        dropped("editMessageText", error, metrics)
    return True


async def _me(bot: Bot) -> User:
    """The bot's own user (getMe, asked once and then cached by aiogram); ``Undelivered`` when Telegram did not
    answer in time, so that a webhook's update comes again rather than being lost unanswered."""
    try:
        return await bot.me()
    except _TRANSIENT as error:
        raise Undelivered("getMe") from error


async def _answer_press(bot: Bot, query_id: str, metrics: ReachMetrics | None) -> None:
    """Stop the button's spinner (``common.stop_spinner``)."""
    try:
        await bot.answer_callback_query(query_id)
    except _TRANSIENT as error:
        raise Undelivered("answerCallbackQuery") from error
    except TelegramAPIError as error:  # too old, already answered
        dropped("answerCallbackQuery", error, metrics)


def create_dispatcher(engine: Engine, default_lang: str | None = None, gate: FloodGate | None = None,
                      metrics: ReachMetrics | None = None, handling: Handling | None = None) -> Dispatcher:
    """A Dispatcher with Anshin's handlers; FSM storage is off, so nothing is kept per chat.
    ``metrics`` counts events and replies with labels from fixed sets only (bot/metrics.py); ``handling`` holds
    the updates in hand for a bounded shutdown (``poll``)."""
    quiet_framework_loggers()
    flood = gate if gate is not None else FloodGate()
    groups = group_gate()
    router = Router(name="anshin")

    def sender(bot: Bot, chat_id: int) -> Callable[[Reply], Awaitable[None]]:
        return lambda reply: _send(bot, chat_id, _reply_params(reply), metrics)

    @router.message()
    async def on_message(message: Message, bot: Bot) -> None:
        me = await _me(bot)
        lang = (message.from_user.language_code if message.from_user else None) or default_lang
        media = None if message.text is not None else media_kind(lambda name: getattr(message, name, None))
        action = message_action(message.chat.type, message.text, media, lang, me.username)
        if action.kind == "group" and me.username:
            params = _markup(group_reply(engine, lang, me.username))
            await group_answer(groups, message.chat.id, lambda: _send(bot, message.chat.id, params, metrics), metrics)
        elif action.event is not None:
            await respond(engine, action.event, message.chat.id, flood, sender(bot, message.chat.id), metrics=metrics)

    @router.callback_query()
    async def on_press(query: CallbackQuery, bot: Bot) -> None:
        await stop_spinner(lambda: _answer_press(bot, query.id, metrics), metrics)  # always: no endless spinner
        message = query.message
        if message is None or message.chat.type != "private":
            return  # inline-mode or group buttons are not ours to answer
        chat_id, message_id = message.chat.id, message.message_id

        async def edit(reply: Reply) -> bool:
            return await _edit(bot, chat_id, message_id, _reply_params(reply), metrics)

        event = Event("press", query.data or "", query.from_user.language_code or default_lang)
        await respond(engine, event, chat_id, flood, sender(bot, chat_id),
                      edit if isinstance(message, Message) else None, metrics)

    @router.my_chat_member()
    async def on_added(change: ChatMemberUpdated, bot: Bot) -> None:
        me = await _me(bot)
        if added_to_group(change.chat.type, change.old_chat_member.status, change.new_chat_member.status) \
                and me.username:
            lang = change.from_user.language_code or default_lang
            params = _markup(group_reply(engine, lang, me.username))
            await group_answer(groups, change.chat.id, lambda: _send(bot, change.chat.id, params, metrics), metrics)

    handling = handling or Handling()
    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher[_HANDLING] = handling
    dispatcher.update.outer_middleware(_guard(handling, metrics))
    dispatcher.include_router(router)
    return dispatcher


# aiogram's ``Update.event_type`` is an lru_cache keyed by the update itself, so it would hold the last 128
# updates (texts, names, ids) for as long as the process lives. Emptied once each update is handled, it holds
# only those in hand.
_EVENT_TYPE_CACHE = getattr(getattr(Update, "event_type", None), "fget", None)


def _forget_updates() -> None:
    """Empty aiogram's cache of updates (above); a no-op for an aiogram without it."""
    cache_clear = getattr(_EVENT_TYPE_CACHE, "cache_clear", None)
    if cache_clear is not None:
        cache_clear()


Middleware = Callable[[Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], TelegramObject, dict[str, Any]],
                      Awaitable[Any]]
_HANDLING = "anshin_handling"  # the dispatcher's ``delivery.Handling``, in its workflow data


def _guard(handling: Handling, metrics: ReachMetrics | None) -> Middleware:
    """Unknown update types are silence (aiogram would warn with the whole update); never a traceback; a reply
    that could not be delivered in time is counted (a webhook's own ``Handling`` answers 503 for it first);
    nothing of the update kept once it is handled."""

    async def guard(handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]], update: TelegramObject,
                    data: dict[str, Any]) -> Any:
        try:
            if isinstance(update, Update):
                update.event_type  # noqa: B018 - raises for an update type this aiogram does not know
            result: list[Any] = [UNHANDLED]

            async def handle() -> None:
                result[0] = await handler(update, data)

            if not await handling.run(handle()):
                undelivered(metrics)
            return result[0]
        except UpdateTypeLookupError:
            return UNHANDLED
        except (Undelivered, MaybeDelivered):
            if not defer():  # a webhook's update is answered 503 and comes again; a polled one is lost
                undelivered(metrics)
            return UNHANDLED
        except Exception as error:
            log.error("telegram: an update failed: %s", type(error).__name__)
            return UNHANDLED
        finally:
            _forget_updates()

    return guard


async def poll(dispatcher: Dispatcher, bot: Bot, handle_signals: bool = True, timeout: int = 30) -> None:
    """Long polling until SIGTERM/SIGINT (or ``dispatcher.stop_polling()``). Then the updates in hand get
    ``delivery.SHUTDOWN_GRACE`` seconds to finish; a reply still undelivered then is counted as lost (polling has
    confirmed its update to Telegram)."""
    stop = asyncio.Event()  # until aiogram's own SIGTERM handler is in place
    with server.stop_on_signals(stop) if handle_signals else contextlib.nullcontext(stop):
        started = await server.unless_stopped(stop, bot.delete_webhook(drop_pending_updates=False))
    if not started:
        await bot.session.close()
        return
    handling = dispatcher.get(_HANDLING)
    if isinstance(handling, Handling):
        log.debug("polling: at SIGTERM the updates in hand get %.0f s", handling.grace)
    try:
        await dispatcher.start_polling(bot, polling_timeout=timeout, allowed_updates=list(ALLOWED_UPDATES),
                                       handle_signals=handle_signals, close_bot_session=False)
    finally:
        if isinstance(handling, Handling):
            await handling.drain()
        await bot.session.close()


def webhook_app(dispatcher: Dispatcher, bot: Bot, secret: str, path: str,
                metrics: ReachMetrics | None = None, handling: Handling | None = None) -> web.Application:
    """``common.webhook_app`` (secret, body checks, /healthz, /metrics) feeding aiogram."""

    async def feed(raw: dict[str, Any]) -> None:
        try:
            update = Update.model_validate(raw, context={"bot": bot})
        except (ValidationError, RecursionError):
            return  # a shape we cannot read: do not make Telegram resend it
        await dispatcher.feed_update(bot, update)

    return common.webhook_app(feed, secret, path, metrics, handling)


async def serve_webhook(dispatcher: Dispatcher, bot: Bot, url: str, secret: str, host: str, port: int,
                        path: str, stop: asyncio.Event | None = None, metrics: ReachMetrics | None = None,
                        prepare: Callable[[], Any] | None = None) -> None:
    """Register the webhook with Telegram, then serve until SIGTERM/SIGINT or ``stop`` is set."""
    try:
        await serve_until_stopped(
            webhook_app(dispatcher, bot, secret, path, metrics), host, port,
            lambda: bot.set_webhook(url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)), stop, prepare)
    finally:
        await bot.session.close()


async def run(engine: Engine, token: str, api: str, default_lang: str | None = None,
              metrics: ReachMetrics | None = None, webhook: WebhookSettings | None = None) -> None:
    """`anshin telegram`: poll, or serve ``webhook``, until SIGTERM/SIGINT."""
    bot = create_bot(token, api, metrics=metrics)
    dispatcher = create_dispatcher(engine, default_lang=default_lang, metrics=metrics)
    if webhook is None:
        prepare_in_background(engine.prepare_text)
        await poll(dispatcher, bot)
    else:
        await serve_webhook(dispatcher, bot, webhook.url, webhook.secret, webhook.host, webhook.port, webhook.path,
                            metrics=metrics, prepare=engine.prepare_text)


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
