"""The parts of a Telegram update Anshin never reads, left out before a framework builds objects of it.

Anshin answers a message from its text, the kind of its attachment, its chat and the sender's language, and
a press from its callback data, the sender's language and the chat and id of the message pressed (the
button id carries the conversation). Telegram sends more: a pressed message comes back whole, its text and
keyboard included, and a message carries its entities and the message it replies to. Building those into
aiogram's pydantic models (or python-telegram-bot's objects) was the largest single cost of reading an
update: a press on a screen of eight buttons took 125 µs to validate, 45 µs without the pressed message's
text and keyboard. Nothing reads them, and what is not built cannot be kept or shown anywhere by mistake.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, AnyStr

__all__ = ["PRESSED_MESSAGE_FIELDS", "UNREAD_MESSAGE_FIELDS", "skip_unreadable", "trim_update", "trim_updates_answer"]

log = logging.getLogger(__name__)

# Of a pressed message: what editing it in place needs (chat, id) and what tells an accessible message from an
# inaccessible one (a date of 0). Its text, keyboard and sender are Anshin's own last screen.
PRESSED_MESSAGE_FIELDS = ("message_id", "date", "chat", "message_thread_id")
# Of a message received: nested messages, entity lists and keyboards. The text stays (it is the question) and
# so does every attachment field (``common.MEDIA_FIELDS``: their presence is the media kind).
UNREAD_MESSAGE_FIELDS = frozenset({
    "entities", "caption_entities", "reply_to_message", "external_reply", "quote", "reply_markup",
    "link_preview_options",
})


def trim_update(raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` without the fields above; any other shape is left as it came, for the framework to refuse."""
    message = raw.get("message")
    if isinstance(message, dict) and not UNREAD_MESSAGE_FIELDS.isdisjoint(message):
        raw = {**raw, "message": {k: v for k, v in message.items() if k not in UNREAD_MESSAGE_FIELDS}}
    query = raw.get("callback_query")
    if isinstance(query, dict) and isinstance(pressed := query.get("message"), dict):
        kept = {name: pressed[name] for name in PRESSED_MESSAGE_FIELDS if name in pressed}
        raw = {**raw, "callback_query": {**query, "message": kept}}
    return raw


def trim_updates_answer(content: AnyStr) -> AnyStr:
    """A ``getUpdates`` answer (text or bytes, returned as it came) with each update trimmed; an answer of
    another shape is returned unchanged, for the framework to report as it would."""
    try:
        answer = json.loads(content)
    except (ValueError, RecursionError):
        return content
    if not (isinstance(answer, dict) and answer.get("ok") is True and isinstance(answer.get("result"), list)):
        return content
    answer["result"] = [trim_update(u) if isinstance(u, dict) else u for u in answer["result"]]
    trimmed = json.dumps(answer, ensure_ascii=False)
    return trimmed if isinstance(content, str) else trimmed.encode("utf-8")


def skip_unreadable(content: AnyStr, readable: Callable[[dict[str, Any]], bool]) -> tuple[AnyStr, int]:
    """A ``getUpdates`` answer (as it came, text or bytes) with every update that ``readable`` refuses replaced by
    its bare ``update_id``, and how many were. A library reads a batch whole: one unreadable update made it fetch
    the same batch again and again, and nobody after it was answered. A bare update is one the library reads,
    confirms with the next offset and hands to no handler; each skipped one is logged, without its content."""
    try:
        answer = json.loads(content)
    except (ValueError, RecursionError):
        return content, 0
    if not (isinstance(answer, dict) and answer.get("ok") is True and isinstance(answer.get("result"), list)):
        return content, 0
    kept: list[Any] = []
    skipped = 0
    for update in answer["result"]:
        if isinstance(update, dict) and readable(update):
            kept.append(update)
            continue
        skipped += 1
        if isinstance(update, dict) and type(update.get("update_id")) is int:
            kept.append({"update_id": update["update_id"]})
        # (an entry without an integer update_id cannot even be confirmed: left out)
    if not skipped:
        return content, 0
    log.warning("telegram: %d update(s) could not be read; skipped", skipped)
    answer["result"] = kept
    screened = json.dumps(answer, ensure_ascii=False)
    return (screened if isinstance(content, str) else screened.encode("utf-8")), skipped
