"""Telegram rules shared by every Telegram adapter (aiogram today, python-telegram-bot later).

Framework-neutral: plain values in, engine events or Bot API JSON out. An adapter reads its own update
objects, asks this module what the update means, calls the engine, and sends what this module builds.

Decisions, documented in README.md ("Telegram"):
- A press edits the pressed message in place, except when that message carried referral cards (they
  stay in the chat) or the answer is an emergency: then the answer is a new message.
- Groups, supergroups and channels get no conversation: a command or a mention in a group, or the bot
  being added, gets one kind message with a link to a private chat, naming nobody. Everything else
  there is silence.
- Edited messages, service messages and unknown update types are silence (Telegram expects no answer).
- Media is never downloaded: the kind of attachment is read from the field names only.

Also shared by the adapters: the answer loop (``respond``), the group answer under its own flood gate, the
retry policy (``bot.channels.delivery``: budget, deadlines, redelivery), and the aiohttp webhook server (secret
check, each update handled once, non-2xx when a reply could not be delivered in time, /metrics).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from aiohttp import web

from bot.channels.delivery import (
    WEBHOOK_DEADLINE,
    Handling,
    MaybeDelivered,
    RecentEvents,
    RetryPolicy,
    Undelivered,
    defer,
    first_attempt,
    once,
)
from bot.channels.server import HANDLING, MAX_BODY, BodyError, load_json, read_body, webhook_routes
from bot.channels.telegram.updates import trim_update
from bot.engine import COMMANDS, MAX_BUTTON_ID_BYTES, Button, Engine, Event, Reply, decode_button
from bot.metrics import ReachMetrics

__all__ = [
    "ALLOWED_UPDATES",
    "BOT_COMMANDS",
    "GROUP_CHATS",
    "MAX_BUTTONS",
    "MAX_TEXT",
    "MEDIA_FIELDS",
    "SECRET_HEADER",
    "TELEGRAM_MESSAGES",
    "Action",
    "FloodGate",
    "MaybeDelivered",
    "RetryPolicy",
    "SetupCall",
    "Undelivered",
    "WebhookSettings",
    "added_to_group",
    "dropped",
    "edits_in_place",
    "group_answer",
    "group_gate",
    "group_reply",
    "inline_keyboard",
    "keyboard_rows",
    "media_kind",
    "message_action",
    "message_params",
    "message_text",
    "parse_command",
    "private_link",
    "respond",
    "setup_calls",
    "stop_spinner",
    "undelivered",
    "webhook_app",
]

MAX_TEXT = 4096  # sendMessage/editMessageText text limit, in characters
MAX_BUTTONS = 100  # inline keyboard limit
ALLOWED_UPDATES = ("message", "callback_query", "my_chat_member")
GROUP_CHATS = ("group", "supergroup")
BOT_COMMANDS = ("start", "help", "language", "privacy")
# Message ids this channel needs; bot/engine/render.py checks them in every locale.
TELEGRAM_MESSAGES = (
    "sys.tg.group", "sys.tg.btn.private", "sys.tg.description", "sys.tg.short_description",
    *(f"sys.tg.cmd.{name}" for name in BOT_COMMANDS),
)
# Message fields that make a message an attachment, checked in this order (an animation also has a
# document; a venue also has a location). The value is the engine's media kind.
MEDIA_FIELDS: tuple[tuple[str, str], ...] = (
    ("animation", "animation"), ("photo", "photo"), ("live_photo", "photo"), ("video", "video"),
    ("video_note", "video_note"), ("voice", "voice"), ("audio", "audio"), ("sticker", "sticker"),
    ("document", "document"), ("contact", "contact"), ("venue", "location"), ("location", "location"),
    ("poll", "poll"), ("dice", "other"), ("game", "other"), ("paid_media", "other"), ("story", "other"),
    ("checklist", "other"), ("invoice", "other"),
)


def media_kind(field: Callable[[str], object]) -> str | None:
    """The engine media kind of a message, from ``field(name)`` (truthy when the field is present)."""
    for name, kind in MEDIA_FIELDS:
        if field(name):
            return kind
    return None


def parse_command(text: str, bot_username: str | None) -> tuple[str, str] | None:
    """``/name[@bot] [argument]`` -> (name, argument); None when the text is not a command for us."""
    if not text.startswith("/") or len(text) < 2:
        return None
    head, _, argument = text[1:].partition(" ")
    name, _, addressee = head.partition("@")
    if addressee and (bot_username is None or addressee.lower() != bot_username.lower()):
        return None
    return name.lower(), argument.strip()


@dataclass(frozen=True)
class Action:
    """What to do with a message: ask the engine, send the group answer, or stay silent."""

    kind: Literal["engine", "group", "silent"]
    event: Event | None = None


SILENT = Action("silent")


def message_action(
    chat_type: str, text: str | None, media: str | None, lang: str | None, bot_username: str | None,
) -> Action:
    """Translate one new message into an engine event (private chats) or the group policy."""
    if chat_type in GROUP_CHATS:
        command = parse_command(text or "", bot_username)
        mentioned = bool(text and bot_username and f"@{bot_username.lower()}" in text.lower())
        return Action("group") if command is not None or mentioned else SILENT
    if chat_type != "private":
        return SILENT  # channels: the bot never posts there
    if media is not None:
        return Action("engine", Event("media", media, lang))
    if not text:
        return SILENT  # a service message (pinned, auto-delete timer...): nothing to answer
    command = parse_command(text, bot_username)
    if command is None:
        return Action("engine", Event("text", text, lang))
    name, argument = command
    if name == "start":
        return Action("engine", Event("start", argument, lang))
    return Action("engine", Event("command", name if name in COMMANDS else "help", lang))


def edits_in_place(engine: Engine, callback_data: str, reply: Reply) -> bool:
    """A press edits its message unless that message held referral cards or the answer is urgent."""
    if reply.emergency:
        return False
    state = decode_button(callback_data)
    node = engine.content.nodes.get(state.screen) if state is not None else None
    return node is not None and not node.referrals


def _cut(text: str) -> str:
    text = text.strip() or "…"
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def inline_keyboard(reply: Reply) -> list[list[dict[str, str]]]:
    """Reply buttons as Bot API InlineKeyboardButton rows; button ids are the callback_data."""
    return keyboard_rows(reply.buttons)


def keyboard_rows(buttons: tuple[tuple[Button, ...], ...]) -> list[list[dict[str, str]]]:
    """Engine button rows as InlineKeyboardButton JSON rows: at most 100, ids that fit callback_data."""
    rows: list[list[dict[str, str]]] = []
    count = 0
    for row in buttons:
        out: list[dict[str, str]] = []
        for button in row:
            if count >= MAX_BUTTONS:
                break
            if button.url is not None:
                out.append({"text": button.label, "url": button.url})
            elif button.id and len(button.id.encode("utf-8")) <= MAX_BUTTON_ID_BYTES:
                out.append({"text": button.label, "callback_data": button.id})
            else:
                continue
            count += 1
        if out:
            rows.append(out)
    return rows


def message_text(reply: Reply) -> str:
    """The reply text within Telegram's 1-4096 characters."""
    return _cut(reply.text)


def message_params(reply: Reply) -> dict[str, Any]:
    """sendMessage/editMessageText parameters (without chat and message ids) for one reply."""
    params: dict[str, Any] = {"text": _cut(reply.text), "link_preview_options": {"is_disabled": True}}
    keyboard = inline_keyboard(reply)
    if keyboard:
        params["reply_markup"] = {"inline_keyboard": keyboard}
    return params


def private_link(bot_username: str) -> str:
    return f"https://t.me/{bot_username}"


def group_reply(engine: Engine, lang: str | None, bot_username: str) -> dict[str, Any]:
    """The one kind group answer: Anshin talks only in private; a button opens the private chat."""
    catalogs = engine.content.catalogs
    locale = catalogs.negotiate(lang)
    button = {"text": catalogs.gettext(locale, "sys.tg.btn.private"), "url": private_link(bot_username)}
    return {"text": _cut(catalogs.gettext(locale, "sys.tg.group")), "reply_markup": {"inline_keyboard": [[button]]},
            "link_preview_options": {"is_disabled": True}}


@dataclass(frozen=True)
class SetupCall:
    method: str  # Bot API method name
    params: dict[str, Any]


def setup_calls(engine: Engine, default_locale: str | None = None) -> list[SetupCall]:
    """setMyCommands, setMyDescription and setMyShortDescription per two-letter locale, then a default."""
    catalogs = engine.content.catalogs
    default = default_locale if default_locale in catalogs.locales else catalogs.default
    # Telegram takes two-letter codes: pt_BR speaks for "pt" unless a plain "pt" locale is shipped.
    codes: dict[str, str] = {}
    for code in sorted(catalogs.locales, key=len):
        language = code.split("_")[0]
        if len(language) == 2:
            codes.setdefault(language, code)
    targets: list[tuple[str, str | None]] = [(code, language) for language, code in codes.items()]
    targets.append((default, None))
    calls: list[SetupCall] = []
    for locale, language_code in targets:
        scope = {"language_code": language_code} if language_code else {}
        commands = [{"command": name, "description": catalogs.gettext(locale, f"sys.tg.cmd.{name}")[:256]}
                    for name in BOT_COMMANDS]
        calls.append(SetupCall("setMyCommands", {"commands": commands, **scope}))
        calls.append(SetupCall("setMyDescription",
                               {"description": catalogs.gettext(locale, "sys.tg.description")[:512], **scope}))
        calls.append(SetupCall("setMyShortDescription", {
            "short_description": catalogs.gettext(locale, "sys.tg.short_description")[:120], **scope}))
    return calls


class FloodGate:
    """Per-chat flood control: at most ``limit`` answers per ``window`` seconds; emergencies always pass.

    Chats are counted under a keyed hash with a key made at start-up, kept only in memory and only while
    they count: the table is renewed every window, and a chat's count moves to the new one only if the
    chat writes again. No chat id is stored, and memory follows the chats of the last two windows, not
    every chat ever seen.
    """

    def __init__(self, limit: int = 20, window: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._key = os.urandom(16)
        self._renewed = clock()
        self._current: dict[bytes, tuple[float, int]] = {}  # chat key -> (start of its window, answers)
        self._previous: dict[bytes, tuple[float, int]] = {}

    def allow(self, chat_id: int, emergency: bool = False) -> bool:
        now = self._clock()
        if now - self._renewed >= self.window:
            # Anything counted before the previous table began has a window that has ended: let it go.
            self._previous = self._current if now - self._renewed < 2 * self.window else {}
            self._current, self._renewed = {}, now
        key = self._chat(chat_id)
        start, count = self._current.get(key) or self._previous.get(key) or (now, 0)
        if now - start >= self.window:
            start, count = now, 0
        self._current[key] = (start, count + 1)
        return emergency or count < self.limit

    def refund(self, chat_id: int) -> None:
        """Take back the last ``allow`` of this chat: the answer could not be delivered (it will be tried again)."""
        key = self._chat(chat_id)
        counted = self._current.get(key)
        if counted is not None and counted[1] > 0:
            self._current[key] = (counted[0], counted[1] - 1)

    def _chat(self, chat_id: int) -> bytes:
        return hashlib.blake2b(chat_id.to_bytes(16, "big", signed=True), key=self._key, digest_size=8).digest()

    def counted(self) -> int:
        """Chats counted now, in either table."""
        return len(self._current.keys() | self._previous.keys())


def group_gate() -> FloodGate:
    """The flood gate for group answers: the one kind message, at most three times a minute per group (a class
    typing /start@bot thirty times gets it three times, not thirty)."""
    return FloodGate(limit=3, window=60.0)


# --- Shared by the adapters: the answer loop, retries, logging, the webhook server -------------------

Send = Callable[[Reply], Awaitable[None]]
Edit = Callable[[Reply], Awaitable[bool]]


async def respond(engine: Engine, event: Event, chat_id: int, gate: FloodGate, send: Send, edit: Edit | None = None,
                  metrics: ReachMetrics | None = None) -> None:
    """Ask the engine, count the event, and show every reply the flood gate lets through.

    For a press, ``edit`` shows a reply in the pressed message and returns False when Telegram refuses
    (too old, not ours): only the first reply may edit, and only where ``edits_in_place`` allows.
    Each reply is one step (``delivery.once``): when the update comes again after a reply could not be
    delivered in time, the replies that did go out are not sent again, and the event is counted once.
    """
    replies = engine.handle(event)
    if metrics is not None and first_attempt():
        metrics.record(event, replies)
    for index, reply in enumerate(replies):
        may_edit = edit if index == 0 else None
        await once(partial(_show, engine, event, chat_id, reply, gate, send, may_edit, metrics))


async def _show(engine: Engine, event: Event, chat_id: int, reply: Reply, gate: FloodGate, send: Send,
                edit: Edit | None, metrics: ReachMetrics | None) -> None:
    if not gate.allow(chat_id, reply.emergency):
        if metrics is not None:
            metrics.error("rate_limited")
        return
    try:
        if edit is not None and edits_in_place(engine, event.value, reply) and await edit(reply):
            return
        await send(reply)
    except Undelivered:
        gate.refund(chat_id)  # not shown: it will be tried again
        raise
    except MaybeDelivered:
        if not reply.emergency:
            _unknown(metrics)
            return
        # An urgent answer is better twice than never: the one time it may be doubled.
        log.warning("telegram: sendMessage got no answer in time; an urgent reply is sent again")
        try:
            await send(reply)
        except MaybeDelivered:
            _unknown(metrics)


def _unknown(metrics: ReachMetrics | None) -> None:
    log.warning("telegram: sendMessage got no answer in time; it may have gone out, so it is not sent again")
    if metrics is not None:
        metrics.error("delivery_unknown")


async def group_answer(gate: FloodGate, chat_id: int, send: Callable[[], Awaitable[None]],
                       metrics: ReachMetrics | None = None) -> None:
    """The group answer, if the group's flood gate lets it through; one step of the update."""

    async def step() -> None:
        if not gate.allow(chat_id):
            if metrics is not None:
                metrics.error("rate_limited")
            return
        try:
            await send()
        except Undelivered:
            gate.refund(chat_id)
            raise
        except MaybeDelivered:
            _unknown(metrics)

    await once(step)


async def stop_spinner(answer: Callable[[], Awaitable[None]], metrics: ReachMetrics | None = None) -> None:
    """answerCallbackQuery, a step of its own that never holds the reply back: when its retries run out of time
    the reply still goes out, and a webhook's update is left to come again for the answer (a polled one's is
    given up). ``answer`` raises ``Undelivered`` for an error that may pass and drops any other."""
    try:
        await once(answer)
    except Undelivered as error:
        if not defer():
            dropped("answerCallbackQuery", error, metrics)


def dropped(method: str, error: Exception, metrics: ReachMetrics | None) -> None:
    """A message given up on (blocked, chat gone, retries spent): one line with the method and the
    error's type, and a ``delivery_failure`` count; nothing else."""
    log.warning("telegram: %s failed: %s", method, type(error).__name__)
    if metrics is not None:
        metrics.error("delivery_failure")


def undelivered(metrics: ReachMetrics | None) -> None:
    """A polled update whose reply could not be delivered within the retry budget, or was cut short at shutdown:
    Telegram will not send it again (polling confirms updates as it fetches them), so it is counted as lost."""
    log.warning("telegram: a reply was not delivered within the retry budget")
    if metrics is not None:
        metrics.error("delivery_failure")


def added_to_group(chat_type: str, old_status: str, new_status: str) -> bool:
    """A my_chat_member change that is the bot joining a group: the moment for the one group answer."""
    return chat_type in GROUP_CHATS and new_status in ("member", "administrator") and old_status in ("left", "kicked")


SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WebhookSettings:
    url: str  # the public https URL registered with Telegram
    secret: str  # X-Telegram-Bot-Api-Secret-Token, checked on every POST
    host: str
    port: int
    path: str  # the URL's path, served here


def webhook_app(feed: Callable[[dict[str, Any]], Awaitable[None]], secret: str, path: str,
                metrics: ReachMetrics | None = None, handling: Handling | None = None) -> web.Application:
    """An aiohttp app taking Telegram's POSTs on ``path``, and ``GET /healthz`` for a load balancer.

    A wrong or missing secret gets 401 (compared in constant time, before the body is read); another method
    405; a body over 1 MiB 413, one that does not arrive within ``server.BODY_TIMEOUT`` 408, one that does not
    decode (a corrupt gzip) 400; a body that is not JSON, or JSON that is not an object with an integer
    ``update_id`` (integers of at most 20 digits), 400. ``feed`` gets the update's JSON object, without what
    Anshin never reads (``updates.trim_update``), and returns once it is handled; it ignores an update its
    framework cannot read, which gets 200 so that Telegram does not resend it forever. No answer carries a
    stack trace or anything from the request. GET /metrics when ``metrics`` is given.

    Delivery (``bot.channels.delivery``): each update_id is handled once per worker (a repeat gets 200 at once;
    one arriving while the first is handled gets the first's answer). An update whose reply could not be
    delivered within the deadline (``handling``; by default ``delivery.WEBHOOK_DEADLINE``), or that is cut short
    at shutdown, gets 503 and Telegram sends it again; the replies that did go out are remembered by update_id
    and not sent twice.
    """
    expected = secret.encode("utf-8")
    handling = handling or Handling(WEBHOOK_DEADLINE)
    recent = RecentEvents(handling)

    async def handle(update: dict[str, Any]) -> None:
        try:
            await feed(trim_update(update))
        except (Undelivered, MaybeDelivered):
            raise
        except Exception as error:  # never a traceback with the update in it; Telegram need not resend
            log.error("telegram: an update failed: %s", type(error).__name__)

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
        if not hmac.compare_digest(given, expected):
            return web.Response(status=401, text="Unauthorized")
        if handling.stopping:
            return _busy()
        try:
            raw = load_json(await read_body(request))
        except BodyError as error:  # too large, too slow, or a Content-Encoding that does not decode
            refused = web.Response(status=error.status, text=error.reason)
            refused.force_close()  # the rest of that body is not worth waiting for
            return refused
        except (ValueError, RecursionError):  # not JSON, not UTF-8, nested too deeply, an integer too long
            return web.Response(status=400, text="Bad Request")
        if not isinstance(raw, dict) or type(raw.get("update_id")) is not int:
            return web.Response(status=400, text="Bad Request: not an Update")
        if await recent.handle(raw["update_id"], lambda: handle(raw)):
            return web.Response(status=200)
        if metrics is not None:
            metrics.error("delivery_deferred")
        return _busy()

    app = web.Application(client_max_size=MAX_BODY)
    app[HANDLING] = handling
    return webhook_routes(app, path, receive, metrics)


def _busy() -> web.Response:
    """Not handled now: Telegram delivers the update again later (it keeps them for 24 hours)."""
    return web.Response(status=503, text="Service Unavailable: try again later", headers={"Retry-After": "5"})
