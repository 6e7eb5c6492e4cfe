"""The flow engine: content in, ``handle(event) -> replies`` out; pure, no I/O, no channel imports."""

from bot.engine.check import check_content
from bot.engine.engine import ContentError, Engine, Routed, TextRouter
from bot.engine.events import COMMANDS, MEDIA_KINDS, Button, Event, EventError, Reply, event_from_json
from bot.engine.ids import MAX_BUTTON_ID_BYTES, decode_button, encode_button, parse_payload
from bot.engine.loader import load_content
from bot.engine.model import Content, Problem

__all__ = [
    "COMMANDS",
    "MAX_BUTTON_ID_BYTES",
    "MEDIA_KINDS",
    "Button",
    "Content",
    "ContentError",
    "Engine",
    "Event",
    "EventError",
    "Problem",
    "Reply",
    "Routed",
    "TextRouter",
    "check_content",
    "decode_button",
    "encode_button",
    "event_from_json",
    "load_content",
    "parse_payload",
]
