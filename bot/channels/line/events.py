"""What a LINE webhook event means: an engine event to answer, a group to leave, or silence.

Plain JSON in, plain values out, whatever shape LINE (or anyone) posts: nothing here raises on a missing or
mistyped field. Decisions, documented in README.md ("LINE"):
- ``follow`` opens the start screen; a text is typed text (``/start <payload>`` from a campaign link opens that
  audience's menu, ``/help`` and the other commands their screens); a postback is a button press whose data is
  the engine's button id; image, video, audio, file, sticker and location get the media advice and are never
  downloaded (nothing here even reads their ids).
- The webhook carries no language: every event is read in ``lang`` (the operator's default); a button id carries
  the language chosen in the conversation.
- ``join`` (a group or a room) gets at most one message and the bot leaves; a message in a group or a room makes
  it leave again, silently. ``unfollow``, ``leave``, ``unsend``, ``memberJoined``, ``memberLeft``, events in
  standby mode and unknown types are silence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from bot.engine import COMMANDS, Event

__all__ = ["MAX_TEXT", "MEDIA_TYPES", "Action", "event_action", "event_id", "read_body"]

MAX_TEXT = 5000  # LINE's text message limit; longer typed text cannot come from LINE
# LINE message types that are attachments -> the engine's media kind.
MEDIA_TYPES = {"image": "photo", "video": "video", "audio": "voice", "file": "document", "sticker": "sticker",
               "location": "location"}
CHATS = ("group", "room")
CHAT_ID = re.compile(r"[A-Za-z0-9]{1,100}")
Kind = Literal["engine", "join", "leave", "silent"]


@dataclass(frozen=True)
class Action:
    """What to do with one event. ``chat`` is the group or room to leave, ``("group", id)``: used for the one
    API call and dropped; never logged, kept or counted."""

    kind: Kind
    reply_token: str | None = None
    event: Event | None = None
    chat: tuple[str, str] | None = None


SILENT = Action("silent")


def read_body(data: Any) -> list[Any] | None:
    """The events of a webhook body, or None when it is not ``{"events": [...]}``."""
    if not isinstance(data, dict):
        return None
    events = data.get("events")
    return events if isinstance(events, list) else None


def event_id(raw: Any) -> str | None:
    """The event's ``webhookEventId``: the same on a redelivery (``deliveryContext.isRedelivery``)."""
    value = raw.get("webhookEventId") if isinstance(raw, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= 128 else None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _chat(source: dict[str, Any]) -> tuple[str, str] | None:
    """The group or room an event comes from. An id that is not LINE's shape (``C``/``R`` and hex digits) is
    read as no chat: it is never put into an API path."""
    kind = source.get("type")
    chat = source.get(f"{kind}Id") if kind in CHATS else None
    return (str(kind), chat) if isinstance(chat, str) and CHAT_ID.fullmatch(chat) else None


def text_event(text: str, lang: str | None) -> Event:
    """Typed text; ``/start [payload]`` and the engine's commands (the prefilled text of a campaign link)."""
    stripped = text.strip()
    if stripped.startswith("/"):
        name, _, argument = stripped[1:].partition(" ")
        name = name.lower()
        if name == "start":
            return Event("start", argument.strip(), lang)
        if name in COMMANDS:
            return Event("command", name, lang)
    return Event("text", text[:MAX_TEXT], lang)


def event_action(raw: Any, lang: str | None) -> Action:
    """Translate one webhook event (any JSON value) into what to do."""
    if not isinstance(raw, dict) or raw.get("mode", "active") != "active":
        return SILENT  # standby: another channel of the module answers this chat
    kind = raw.get("type")
    source = _object(raw.get("source"))
    token = raw.get("replyToken") if isinstance(raw.get("replyToken"), str) and raw.get("replyToken") else None
    chat = _chat(source)
    if kind == "join":
        return Action("join", token, chat=chat) if chat else SILENT
    if chat is not None:
        return Action("leave", chat=chat) if kind == "message" else SILENT
    if source.get("type") != "user" or token is None:
        return SILENT
    if kind == "follow":
        return Action("engine", token, Event("start", "", lang))
    if kind == "postback":
        postback = _object(raw.get("postback"))
        return Action("engine", token, Event("press", _text(postback.get("data")), lang))
    if kind != "message":
        return SILENT
    message = _object(raw.get("message"))
    message_type = message.get("type")
    if message_type == "text":
        return Action("engine", token, text_event(_text(message.get("text")), lang))
    if message_type is None:
        return SILENT
    return Action("engine", token, Event("media", MEDIA_TYPES.get(str(message_type), "other"), lang))
