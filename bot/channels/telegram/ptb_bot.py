"""Telegram on python-telegram-bot 22: updates -> engine events -> Bot API calls, by polling or by webhook.

The second adapter, for operators who already run python-telegram-bot. Only what PTB needs lives here;
the rules are in ``common`` and behave exactly as on aiogram (one suite tests both). No
ConversationHandler and no persistence: button ids carry the state. PTB's loggers (it logs every Bot API
call with its parameters, and every update, at DEBUG) and httpx's (the request URL, which holds the bot
token, at INFO) are filtered so that no update content, id, name or token reaches a log line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from functools import lru_cache
from typing import Any, TypeAlias

import httpx
from aiohttp import web
from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    TelegramError,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    ExtBot,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.channels import server
from bot.channels.delivery import Handling, MaybeDelivered, Undelivered, defer, pause, time_left
from bot.channels.server import prepare_in_background, serve_until_stopped, stop_on_signals, unless_stopped
from bot.channels.telegram import common
from bot.channels.telegram.common import (
    ALLOWED_UPDATES,
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
from bot.channels.telegram.updates import skip_unreadable, trim_updates_answer
from bot.engine import Button, Engine, Event, Reply
from bot.metrics import ReachMetrics

__all__ = [
    "FRAMEWORK_LOGGERS",
    "Retry",
    "create_application",
    "create_bot",
    "poll",
    "quiet_framework_loggers",
    "run",
    "serve_webhook",
    "setup",
    "webhook_app",
]

log = logging.getLogger(__name__)
AnyApplication: TypeAlias = "Application[Any, Any, Any, Any, Any, Any]"
Context: TypeAlias = "CallbackContext[Any, Any, Any, Any]"
# PTB's loggers as made at import (telegram._utils.logging.get_logger), httpx/httpcore under them, and the
# aiohttp webhook server's; ``quiet_framework_loggers`` also covers any other logger made under these roots.
FRAMEWORK_LOGGERS = ("telegram", "telegram.Bot", "telegram.ext", "telegram.ext.Application", "telegram.ext.Updater",
                     "telegram.ext.ExtBot", "telegram.ext.JobQueue", "telegram.ext.ConversationHandler",
                     "telegram.ext.AIORateLimiter", "telegram.request", "telegram.request.BaseRequest",
                     "telegram.request.HTTPXRequest", "httpx", "httpcore.connection", "httpcore.http11",
                     "httpcore.http2", "httpcore.proxy", "httpcore.socks", "aiohttp.access", "aiohttp.server",
                     "aiohttp.web", "aiohttp.internal", "asyncio")
_ROOTS = ("telegram", "httpx", "httpcore")


def quiet_framework_loggers() -> None:
    """Withhold every value from PTB's, httpx's and aiohttp's log lines; httpx's per-request INFO line is
    noise (and names the token), so httpx logs from WARNING only."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    server.withhold_details(FRAMEWORK_LOGGERS, _ROOTS)


def _answer(payload: bytes) -> dict[str, Any] | None:
    """The Bot API's JSON answer; None for a proxy's error page or a cut-off body."""
    try:
        answer = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    return answer if isinstance(answer, dict) else None


def _retry_after(answer: dict[str, Any]) -> float | None:
    parameters = answer.get("parameters")
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    return float(value) if isinstance(value, int | float) else None


def _no_answer(error: Exception) -> bool:
    """A timeout while waiting for the answer: the call was sent and may have been carried out."""
    return isinstance(error, TimedOut) and isinstance(error.__cause__, httpx.ReadTimeout)


class Retry(HTTPXRequest):
    """HTTPXRequest that retries by ``RetryPolicy`` before PTB reads the answer: 429 after ``retry_after``;
    5xx, timeouts, network errors and unreadable answers (a proxy's error page, a cut-off body) with
    backoff, until the budget or the update's deadline would pass. What is left is raised by PTB as usual, and
    the caller decides (``_send``). A sendMessage that got no answer in time is not sent again (it may have
    gone out); every other call Anshin makes is idempotent."""

    def __init__(self, policy: RetryPolicy | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.policy = policy or RetryPolicy()

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        url = str(kwargs.get("url", args[0] if args else ""))
        method = url.rsplit("/", 1)[-1]
        started = time.monotonic()
        attempt = 0
        while True:
            attempt += 1
            left = time_left()  # an update's deadline: wait for the answer no longer than that
            if left is not None:
                if left <= 0:
                    raise NetworkError("No time left")  # not sent
                read = kwargs.get("read_timeout")
                default = self.read_timeout if self.read_timeout is not None else left
                kwargs["read_timeout"] = min(read if isinstance(read, int | float) else default, left)
            try:
                code, payload = await super().do_request(*args, **kwargs)
            except NetworkError as error:  # httpx errors and timeouts, as HTTPXRequest raises them
                if method == "sendMessage" and _no_answer(error):
                    raise
                delay = self.policy.wait(attempt, started)
                if delay is None or not await self._pause(method, delay):
                    raise
            else:
                answer = _answer(payload)
                if answer is not None and code != 429 and code < 500:
                    return code, payload
                delay = self.policy.wait(attempt, started, _retry_after(answer) if answer and code == 429 else None)
                if delay is None or not await self._pause(method, delay):
                    return code, payload  # PTB raises RetryAfter, NetworkError or TelegramError from it

    @staticmethod
    async def _pause(method: str, delay: float) -> bool:
        log.info("telegram: %s retried in %.1f s", method, delay)  # the method's name only
        return await pause(delay)


def _readable_by_ptb(raw: dict[str, Any]) -> bool:
    if not readable(raw):
        return False
    try:
        Update.de_json(raw, None)
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError, OverflowError, OSError):
        return False
    return True


class UpdatesRequest(HTTPXRequest):
    """HTTPXRequest for ``getUpdates`` whose answer is trimmed to what Anshin reads before PTB builds it, and
    rid of updates PTB cannot read (``updates.skip_unreadable``; PTB would fetch the batch again and again)."""

    def __init__(self, metrics: ReachMetrics | None = None, **options: Any) -> None:
        super().__init__(**options)
        self.metrics = metrics

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        code, payload = await super().do_request(*args, **kwargs)
        if code != 200:
            return code, payload
        payload, skipped = skip_unreadable(trim_updates_answer(payload), _readable_by_ptb)
        if self.metrics is not None:
            for _ in range(skipped):
                self.metrics.error("unreadable_update")
        return code, payload


def create_bot(token: str, api: str = "https://api.telegram.org", retry: RetryPolicy | None = None,
               timeout: float = 30.0, request: BaseRequest | None = None,
               metrics: ReachMetrics | None = None) -> ExtBot[None]:
    """A bot whose calls go to ``<api>/bot<token>/<method>``; ``request`` replaces the HTTP layer (benchmark).
    ``metrics`` counts the polled updates skipped as unreadable."""
    quiet_framework_loggers()  # before the Bot: it logs its URL, token included, at DEBUG
    api = api.rstrip("/")
    return ExtBot(token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot",
                  request=request or Retry(retry, connection_pool_size=64, read_timeout=timeout),
                  get_updates_request=request or UpdatesRequest(metrics, connection_pool_size=1,
                                                                read_timeout=timeout))


class SharedKeyboard(InlineKeyboardMarkup):
    """A keyboard built once and sent many times: its JSON form is computed once (PTB would walk every button
    on every call, most of a reply's cost). PTB objects are frozen after ``__init__``, so it cannot go stale."""

    __slots__ = ("_as_dict",)

    def __init__(self, rows: list[list[InlineKeyboardButton]]) -> None:
        super().__init__(rows)
        with self._unfrozen():
            self._as_dict = super().to_dict()

    def to_dict(self, recursive: bool = True) -> dict[str, Any]:
        return dict(self._as_dict) if recursive else super().to_dict(recursive=False)


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


@lru_cache(maxsize=4096)
def _keyboard(buttons: tuple[tuple[Button, ...], ...]) -> SharedKeyboard | None:
    """Keyboards depend only on screen, language and audience: build each PTB object once."""
    rows = [[InlineKeyboardButton(b["text"], url=b.get("url"), callback_data=b.get("callback_data")) for b in row]
            for row in keyboard_rows(buttons)]
    return SharedKeyboard(rows) if rows else None


def _reply_params(reply: Reply) -> dict[str, Any]:
    return {"text": message_text(reply), "reply_markup": _keyboard(reply.buttons), "link_preview_options": NO_PREVIEW}


# What the Bot API refuses for good (blocked, chat gone, a bad request): not worth another try.
_FINAL = (BadRequest, Forbidden, InvalidToken, Conflict, ChatMigrated, EndPointNotFound)


async def _send(bot: ExtBot[None], chat_id: int, params: dict[str, Any], metrics: ReachMetrics | None) -> None:
    """Send; ``Undelivered`` when the retries ran out of time, ``MaybeDelivered`` when the call got no answer."""
    try:
        await bot.send_message(chat_id=chat_id, **params)
    except _FINAL as error:  # blocked by the user, chat gone
        dropped("sendMessage", error, metrics)
    except TelegramError as error:  # 429, 5xx, network: the retries ran out of time
        if _no_answer(error):
            raise MaybeDelivered("sendMessage") from error
        raise Undelivered("sendMessage") from error


async def _edit(bot: ExtBot[None], chat_id: int, message_id: int, params: dict[str, Any],
                metrics: ReachMetrics | None) -> bool:
    """Edit in place; False when Telegram refuses (too old, not ours) so the caller sends instead."""
    try:
        await bot.edit_message_text(chat_id=chat_id, message_id=message_id, **params)
    except BadRequest as error:
        return "not modified" in error.message  # the same screen pressed twice (or an edit repeated): shown
    except _FINAL as error:
        dropped("editMessageText", error, metrics)
    except TelegramError as error:
        raise Undelivered("editMessageText") from error
    return True


async def _answer_press(bot: ExtBot[None], query_id: str, metrics: ReachMetrics | None) -> None:
    """Stop the button's spinner (``common.stop_spinner``)."""
    try:
        await bot.answer_callback_query(query_id)
    except _FINAL as error:  # too old, already answered
        dropped("answerCallbackQuery", error, metrics)
    except TelegramError as error:
        raise Undelivered("answerCallbackQuery") from error


def create_application(engine: Engine, bot: ExtBot[None], default_lang: str | None = None,
                       gate: FloodGate | None = None, metrics: ReachMetrics | None = None,
                       polling: bool = True, handling: Handling | None = None) -> AnyApplication:
    """An Application with Anshin's handlers, no persistence and no job queue: nothing is kept per chat.
    Updates are handled concurrently (a retry for one chat does not hold up the others); ``handling`` holds
    them for a bounded shutdown (``poll``)."""
    quiet_framework_loggers()
    flood = gate if gate is not None else FloodGate()
    groups = group_gate()
    handling = handling or Handling()

    def sender(chat_id: int) -> Callable[[Reply], Awaitable[None]]:
        return lambda reply: _send(bot, chat_id, _reply_params(reply), metrics)

    async def to_group(chat_id: int, lang: str | None) -> None:
        params = group_reply(engine, lang, bot.username)
        params["reply_markup"] = InlineKeyboardMarkup.de_json(params["reply_markup"], bot)
        params["link_preview_options"] = NO_PREVIEW
        await group_answer(groups, chat_id, lambda: _send(bot, chat_id, params, metrics), metrics)

    async def on_message(update: Update, context: Context) -> None:
        message = update.message
        if message is None:
            return
        lang = (message.from_user.language_code if message.from_user else None) or default_lang
        media = None if message.text is not None else media_kind(
            lambda name: getattr(message, name, None) or message.api_kwargs.get(name))  # fields newer than PTB
        action = message_action(message.chat.type, message.text, media, lang, bot.username)
        if action.kind == "group":
            await to_group(message.chat.id, lang)
        elif action.event is not None:
            await respond(engine, action.event, message.chat.id, flood, sender(message.chat.id), metrics=metrics)

    async def on_press(update: Update, context: Context) -> None:
        query = update.callback_query
        if query is None:
            return
        await stop_spinner(lambda: _answer_press(bot, query.id, metrics), metrics)  # always: no endless spinner
        message = query.message
        if message is None or message.chat.type != "private":
            return  # inline-mode or group buttons are not ours to answer
        chat_id, message_id = message.chat.id, message.message_id

        async def edit(reply: Reply) -> bool:
            return await _edit(bot, chat_id, message_id, _reply_params(reply), metrics)

        event = Event("press", query.data or "", query.from_user.language_code or default_lang)
        # PTB reads an inaccessible message (date 0: too old to edit) as a Message too; is_accessible tells.
        await respond(engine, event, chat_id, flood, sender(chat_id), edit if message.is_accessible else None, metrics)

    async def on_added(update: Update, context: Context) -> None:
        change = update.my_chat_member
        if change is not None and added_to_group(change.chat.type, change.old_chat_member.status,
                                                 change.new_chat_member.status):
            await to_group(change.chat.id, change.from_user.language_code or default_lang)

    builder = ApplicationBuilder().bot(bot).job_queue(None).concurrent_updates(True)
    if not polling:
        builder = builder.updater(None)
    application: AnyApplication = builder.build()
    def guarded(callback: Callable[[Update, Context], Awaitable[None]]) -> Callable[[Update, Context],
                                                                                     Coroutine[Any, Any, None]]:
        """A reply that could not be delivered in time: a webhook's update is answered 503 and comes again
        (PTB would pass the error to its error handler and answer 200), a polled one is counted as lost."""

        async def run(update: Update, context: Context) -> None:
            try:
                if not await handling.run(callback(update, context)):
                    undelivered(metrics)  # cut short at shutdown
            except (Undelivered, MaybeDelivered):
                if not defer():
                    undelivered(metrics)

        return run

    application.add_handlers([
        MessageHandler(filters.UpdateType.MESSAGE, guarded(on_message)),  # edited messages, channel posts: silence
        CallbackQueryHandler(guarded(on_press)),
        ChatMemberHandler(guarded(on_added), ChatMemberHandler.MY_CHAT_MEMBER),
    ])
    application.add_error_handler(_on_error)
    application.bot_data[_HANDLING] = handling
    return application


_HANDLING = "anshin_handling"  # the application's ``delivery.Handling``, in its bot_data


async def _on_error(update: object, context: Context) -> None:
    """Instead of PTB's default (the traceback, with the update in it): the error's type only."""
    log.error("telegram: an update failed: %s", type(context.error).__name__)


async def poll(application: AnyApplication, stop: asyncio.Event | None = None, handle_signals: bool = True,
               timeout: int = 30) -> None:
    """Long polling until SIGTERM/SIGINT or ``stop`` (PTB's ``run_polling`` owns the event loop; this does not)."""
    stop = stop or asyncio.Event()
    updater = application.updater
    if updater is None:
        raise ValueError("create_application(..., polling=True) makes an application that can poll")
    with stop_on_signals(stop) if handle_signals else contextlib.nullcontext(stop):
        try:  # (start-up calls are retried while Telegram is down: SIGTERM stops them too)
            if not (await unless_stopped(stop, application.initialize())  # getMe
                    and await unless_stopped(stop, updater.start_polling(  # deletes a webhook first
                        timeout=timeout, allowed_updates=list(ALLOWED_UPDATES), drop_pending_updates=False))):
                return
            await application.start()
            await stop.wait()
        finally:
            if updater.running:
                await updater.stop()
            handling = application.bot_data.get(_HANDLING)
            if isinstance(handling, Handling):
                await handling.drain()  # at most its grace: then what is left is cancelled
            if application.running:
                await application.stop()
            await application.shutdown()


_MESSAGES = ("message", "edited_message", "channel_post", "edited_channel_post", "business_message",
             "edited_business_message")


def _is(value: object, kind: type) -> bool:
    return isinstance(value, kind) and not isinstance(value, bool)


def _user_ok(user: object) -> bool:
    return user is None or (isinstance(user, dict) and _is(user.get("id"), int)
                            and isinstance(user.get("language_code", ""), str))


def _message_ok(message: object) -> bool:
    if not isinstance(message, dict):
        return False
    chat = message.get("chat")
    return (isinstance(chat, dict) and _is(chat.get("id"), int) and isinstance(chat.get("type"), str)
            and _is(message.get("message_id"), int) and _user_ok(message.get("from"))
            and all(isinstance(message.get(name, ""), str) for name in ("text", "caption")))


def readable(raw: dict[str, Any]) -> bool:
    """The fields PTB's handlers read have the Bot API's types. PTB does not check them (aiogram's
    pydantic models do): a forged or mangled update could make it fail on a list where an id belongs."""
    for name in _MESSAGES:
        if name in raw and not _message_ok(raw[name]):
            return False
    query = raw.get("callback_query")
    if query is not None and not (isinstance(query, dict) and isinstance(query.get("id"), str)
                                  and _user_ok(query.get("from")) and query.get("from") is not None
                                  and isinstance(query.get("data", ""), str)
                                  and ("message" not in query or _message_ok(query["message"]))):
        return False
    for name in ("my_chat_member", "chat_member"):
        change = raw.get(name)
        if change is not None and not (
                isinstance(change, dict) and _message_ok({**change, "message_id": 0})
                and change.get("from") is not None
                and all(isinstance(change.get(k), dict) and isinstance(change[k].get("status"), str)
                        for k in ("old_chat_member", "new_chat_member"))):
            return False
    return True


def webhook_app(application: AnyApplication, secret: str, path: str,
                metrics: ReachMetrics | None = None, handling: Handling | None = None) -> web.Application:
    """``common.webhook_app`` feeding PTB: the update is handled before Telegram gets its 200."""

    async def feed(raw: dict[str, Any]) -> None:
        if not readable(raw):
            return  # not a shape Telegram sends: do not make Telegram resend it
        try:
            update = Update.de_json(raw, application.bot)
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError, OverflowError, OSError):
            return  # a shape PTB cannot read (OverflowError, OSError: a date out of range): not resent
        await application.process_update(update)

    return common.webhook_app(feed, secret, path, metrics, handling)


async def serve_webhook(application: AnyApplication, url: str, secret: str, host: str, port: int, path: str,
                        stop: asyncio.Event | None = None, metrics: ReachMetrics | None = None,
                        prepare: Callable[[], Any] | None = None) -> None:
    """Register the webhook with Telegram, then serve until SIGTERM/SIGINT or ``stop`` is set."""
    stop = stop or asyncio.Event()
    with stop_on_signals(stop):  # (from the start: getMe is retried while Telegram is down)
        try:
            if not await unless_stopped(stop, application.initialize()):
                return
            await application.start()
            await serve_until_stopped(
                webhook_app(application, secret, path, metrics), host, port,
                lambda: application.bot.set_webhook(url, secret_token=secret, allowed_updates=list(ALLOWED_UPDATES)),
                stop, prepare)
        finally:
            if application.running:
                await application.stop()
            await application.shutdown()


async def run(engine: Engine, token: str, api: str, default_lang: str | None = None,
              metrics: ReachMetrics | None = None, webhook: WebhookSettings | None = None) -> None:
    """`anshin telegram --framework ptb`: poll, or serve ``webhook``, until SIGTERM/SIGINT."""
    bot = create_bot(token, api, metrics=metrics)
    application = create_application(engine, bot, default_lang, metrics=metrics, polling=webhook is None)
    if webhook is None:
        prepare_in_background(engine.prepare_text)
        await poll(application)
    else:
        await serve_webhook(application, webhook.url, webhook.secret, webhook.host, webhook.port, webhook.path,
                            metrics=metrics, prepare=engine.prepare_text)


async def setup(engine: Engine, bot: ExtBot[None], default_locale: str | None = None) -> list[str]:
    """setMyCommands, setMyDescription and setMyShortDescription in every shipped language."""
    done: list[str] = []
    async with bot:
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
    return done
