"""Button ids and ``/start`` payloads: the whole conversation state, carried by the client.

A button id is ``1:<locale>:<audience>:<screen>:<trigger>``. It is untrusted input, so decoding only
checks the syntax here; the engine checks the meaning against the compiled machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = [
    "MAX_BUTTON_ID_BYTES",
    "MAX_PAYLOAD_CHARS",
    "ButtonState",
    "StartRequest",
    "decode_button",
    "encode_button",
    "parse_payload",
]

MAX_BUTTON_ID_BYTES = 64  # Telegram's callback_data limit
MAX_PAYLOAD_CHARS = 64  # Telegram's deep-link /start parameter limit
VERSION = "1"
_FIELD = re.compile(r"^[A-Za-z0-9_.@]{1,48}$")
_LOCALE = re.compile(r"^[a-z]{2,3}(_[A-Za-z]{2,4})?$")
_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{0,64}$")
_AUDIENCE_WORDS = {"t": "t", "teen": "t", "p": "p", "parent": "p", "s": "s", "school": "s", "x": "x"}


@dataclass(frozen=True)
class ButtonState:
    locale: str
    audience: str  # t, p, s or x; upper case after a crisis reply (the person button stays first)
    screen: str
    trigger: str


def encode_button(locale: str, audience: str, screen: str, trigger: str) -> str:
    return f"{VERSION}:{locale}:{audience}:{screen}:{trigger}"


def decode_button(button_id: object) -> ButtonState | None:
    """The state a button id carries, or None when it is not one of ours (forged, cut, old format)."""
    if not isinstance(button_id, str) or len(button_id.encode("utf-8", "replace")) > MAX_BUTTON_ID_BYTES:
        return None
    parts = button_id.split(":")
    if len(parts) != 5 or parts[0] != VERSION:
        return None
    _, locale, audience, screen, trigger = parts
    if not _LOCALE.match(locale) or audience not in ("t", "p", "s", "x", "T", "P", "S", "X"):
        return None
    if not _FIELD.match(screen) or not _FIELD.match(trigger):
        return None
    return ButtonState(locale, audience, screen, trigger)


@dataclass(frozen=True)
class StartRequest:
    """What a deep link asks for; every part is optional."""

    audience: str = "x"
    locale: str | None = None
    campaign: str | None = None
    valid: bool = True


def parse_payload(payload: str) -> StartRequest:
    """``<audience>[-<locale>[-<campaign>]]``, e.g. ``p-ja-spring2027``; anything else is not valid."""
    if not payload:
        return StartRequest()
    if not _PAYLOAD.match(payload):
        return StartRequest(valid=False)
    parts = payload.split("-")
    if len(parts) > 3 or parts[0].lower() not in _AUDIENCE_WORDS:
        return StartRequest(valid=False)
    audience = _AUDIENCE_WORDS[parts[0].lower()]
    locale = parts[1] if len(parts) > 1 and parts[1] else None
    if locale is not None and not _LOCALE.match(locale):
        return StartRequest(audience=audience, valid=False)
    campaign = parts[2] if len(parts) > 2 and parts[2] else None
    return StartRequest(audience=audience, locale=locale, campaign=campaign)
