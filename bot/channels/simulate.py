"""``anshin simulate``: the bot as a JSON-lines filter, one event per line in, one answer per line out, flushed."""

from __future__ import annotations

from typing import IO

from bot.channels.protocol import answer_text
from bot.engine import Engine

__all__ = ["run_simulator"]


def run_simulator(engine: Engine, stdin: IO[str], stdout: IO[str]) -> int:
    for line in stdin:
        if not line.strip():
            continue
        stdout.write(answer_text(engine, line) + "\n")
        stdout.flush()
    return 0
