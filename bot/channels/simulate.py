"""``anshin simulate``: the bot as a JSON-lines filter, one event in, one answer out, flushed.

Nothing is remembered between lines: a button id printed by one run works in any later run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import IO, Any

from bot.engine import Engine, Event, EventError, Reply, event_from_json

__all__ = ["MAX_LINE_BYTES", "answer_line", "run_simulator"]

MAX_LINE_BYTES = 1 << 20  # a longer line is refused, not parsed


def answer_line(engine: Engine, line: str,
                record: Callable[[Event, Sequence[Reply]], None] | None = None) -> dict[str, Any]:
    """The answer to one input line: replies, or an error that says what a valid event looks like.
    ``record`` (e.g. ``ReachMetrics.record``) sees the event and the replies, never the raw line."""
    if len(line.encode("utf-8", "replace")) > MAX_LINE_BYTES:
        return {"error": f"line longer than {MAX_LINE_BYTES} bytes"}
    try:
        data = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        reason = error.msg if isinstance(error, json.JSONDecodeError) else "nested too deeply"
        return {"error": f"not JSON ({reason}); send one event per line such as {{\"start\": \"\"}}"}
    try:
        event = event_from_json(data)
    except EventError as error:
        return {"error": str(error)}
    replies = engine.handle(event)
    if record is not None:
        record(event, replies)
    return {"replies": [reply.to_json() for reply in replies]}


def run_simulator(engine: Engine, stdin: IO[str], stdout: IO[str]) -> int:
    for line in stdin:
        if not line.strip():
            continue
        stdout.write(json.dumps(answer_line(engine, line), ensure_ascii=False) + "\n")
        stdout.flush()
    return 0
