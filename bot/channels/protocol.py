"""The JSON protocol of ``anshin simulate`` and the web chat: one event as a JSON object in, one answer out.

Nothing is remembered between events: a button id printed by one run works in any later run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from bot.engine import Engine, Event, EventError, Reply, event_from_json

__all__ = ["MAX_LINE_BYTES", "Recorder", "answer_line", "answer_text", "encode_replies", "read_event", "replies_for"]

MAX_LINE_BYTES = 1 << 20  # a longer line is refused, not parsed
MAX_INT_DIGITS = 20  # no event has a number; a longer one is refused before Python converts it (slow, or refused)
Recorder = Callable[[Event, Sequence[Reply]], None]


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("a number too long")
    return int(text)


def read_event(line: str) -> Event | str:
    """The event a line holds, or an error that says what a valid event looks like (never echoing input)."""
    # A character is at most 4 bytes of UTF-8: only a line that long needs encoding to be measured.
    if len(line) > MAX_LINE_BYTES // 4 and len(line.encode("utf-8", "replace")) > MAX_LINE_BYTES:
        return f"line longer than {MAX_LINE_BYTES} bytes"
    try:
        data = json.loads(line, parse_int=_bounded_int)
    except (ValueError, RecursionError) as error:  # (JSONDecodeError is a ValueError)
        reason = (error.msg if isinstance(error, json.JSONDecodeError) else
                  "nested too deeply" if isinstance(error, RecursionError) else "a number too long")
        return f"not JSON ({reason}); send one event per line such as {{\"start\": \"\"}}"
    try:
        return event_from_json(data)
    except EventError as error:
        return str(error)


def replies_for(engine: Engine, line: str, record: Recorder | None = None) -> Sequence[Reply] | str:
    """The engine's replies to one line, or the error that ``read_event`` gives."""
    event = read_event(line)
    if isinstance(event, str):
        return event
    replies = engine.handle(event)
    if record is not None:
        record(event, replies)
    return replies


def answer_line(engine: Engine, line: str, record: Recorder | None = None) -> dict[str, Any]:
    """The answer to one input line: replies, or an error. ``record`` (e.g. ``ReachMetrics.record``) sees
    the event and the replies, never the raw line."""
    replies = replies_for(engine, line, record)
    if isinstance(replies, str):
        return {"error": replies}
    return {"replies": [reply.to_json() for reply in replies]}


def encode_replies(replies: Sequence[Reply]) -> str:
    """``{"replies": [...]}`` as ``json.dumps(..., ensure_ascii=False)`` writes it, from each reply's cached
    encoding."""
    return '{"replies": [' + ", ".join(reply.json_text for reply in replies) + "]}"


def answer_text(engine: Engine, line: str, record: Recorder | None = None) -> str:
    """``answer_line`` encoded as one JSON line: what the simulator writes."""
    replies = replies_for(engine, line, record)
    if isinstance(replies, str):
        return json.dumps({"error": replies}, ensure_ascii=False)
    return encode_replies(replies)
