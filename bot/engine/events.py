"""What comes in (events) and what goes out (replies): plain data, the same for every channel."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

__all__ = [
    "COMMANDS",
    "MAX_TEXT_CHARS",
    "MEDIA_KINDS",
    "Button",
    "Event",
    "EventError",
    "Reply",
    "event_from_json",
]

COMMANDS = ("help", "language", "privacy", "cancel")
MEDIA_KINDS = ("photo", "video", "voice", "sticker", "document", "location", "contact", "animation",
               "audio", "video_note", "poll", "other")
MAX_TEXT_CHARS = 4096  # longer free text is cut before anything looks at it
EventKind = Literal["start", "text", "press", "command", "media"]
_KINDS: tuple[EventKind, ...] = ("start", "text", "press", "command", "media")


class EventError(ValueError):
    """An event line that is not one of the documented events."""


@dataclass(frozen=True)
class Event:
    kind: EventKind
    value: str = ""
    lang: str | None = None  # the client's language code (ja, en-US), if it sent one


@dataclass(frozen=True)
class Button:
    label: str
    id: str | None = None
    url: str | None = None
    # The catalogue's short form of the label (``<msgid>.short``), where one is written: for media whose buttons
    # hold few characters (LINE: 20). Not part of the simulator protocol.
    short: str | None = None

    @property
    def short_label(self) -> str:
        return self.short or self.label

    def to_json(self) -> dict[str, str]:
        if self.url is not None:
            return {"label": self.label, "url": self.url}
        return {"label": self.label, "id": self.id or ""}


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    referrals: tuple[str, ...] = ()
    emergency: bool = False
    # For metrics and tests, never shown: the screen, its language, and whether it leads with help.
    screen: str = field(default="", compare=False)
    locale: str = field(default="", compare=False)
    crisis: bool = field(default=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [[button.to_json() for button in row] for row in self.buttons],
            "referrals": list(self.referrals),
            "emergency": self.emergency,
        }

    @cached_property
    def json_text(self) -> str:
        """``to_json()`` encoded, once per reply: replies are immutable and the renderer reuses them, so a
        popular screen is not serialised again for every user who presses its button."""
        return json.dumps(self.to_json(), ensure_ascii=False)

    def button_ids(self) -> list[str]:
        return [b.id for row in self.buttons for b in row if b.id is not None]


def event_from_json(data: Any) -> Event:
    """Read one simulator event, e.g. ``{"press": "1:ja:x:start.menu:teen.menu", "lang": "ja"}``."""
    if not isinstance(data, dict):
        raise EventError("an event is a JSON object such as {\"start\": \"\"}")
    lang = data.get("lang")
    if lang is not None and (not isinstance(lang, str) or len(lang) > 35):
        raise EventError("'lang' must be a short language code such as \"ja\" or \"en-US\"")
    kinds = [kind for kind in _KINDS if kind in data]
    unknown = sorted(set(data) - set(_KINDS) - {"lang"})
    if unknown:
        raise EventError(f"unknown key; an event has one of: {', '.join(_KINDS)}")  # never echo input
    if len(kinds) != 1:
        raise EventError(f"an event has exactly one of: {', '.join(_KINDS)}")
    kind = kinds[0]
    value = data[kind]
    if not isinstance(value, str):
        raise EventError(f"{kind!r} must be a string")
    if kind == "command" and value not in COMMANDS:
        raise EventError(f"unknown command; use one of: {', '.join(COMMANDS)}")
    if kind == "media" and value not in MEDIA_KINDS:
        raise EventError(f"unknown media; use one of: {', '.join(MEDIA_KINDS)}")
    return Event(kind=kind, value=value, lang=lang)
