"""aiogram's types are built when first used (bot/channels/telegram/aiogram_types.py), and every one can be."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import resource, sys, time
start = time.perf_counter()
from bot.channels.telegram.aiogram_types import deferred_types
import aiogram.types as types
print(len(deferred_types), sum(not c.__pydantic_complete__ for c in deferred_types))
update = types.Update.model_validate({"update_id": 1, "message": {"message_id": 2, "date": 0,
    "chat": {"id": 3, "type": "private"}, "from": {"id": 3, "is_bot": False, "first_name": "U"}, "text": "/start"}})
print(update.message.text, types.Update.__pydantic_complete__)
import aiogram.methods as methods
from pydantic import BaseModel
models = [m for module in (types, methods) for m in map(module.__dict__.get, module.__all__)
          if isinstance(m, type) and issubclass(m, BaseModel)]
waiting = sum(not m.__pydantic_complete__ for m in models)
failed = [m.__name__ for m in models if not m.__pydantic_complete__ and (m.model_rebuild(), m.__pydantic_complete__)[1]
          is False]
print(len(models), waiting, sum(m.__pydantic_complete__ for m in models), failed)
"""


def test_types_are_held_back_then_each_can_be_built() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    held, incomplete = map(int, done.stdout.splitlines()[0].split())
    assert held > 350 and incomplete == held, "aiogram.types' eager rebuild was not held back"
    assert done.stdout.splitlines()[1] == "/start True", "an update validates, building its types on first use"
    models, waiting, built, failed = done.stdout.splitlines()[2].split(" ", 3)
    assert int(models) > 500 and int(waiting) > 500, "types and methods are built when first used"
    assert int(built) == int(models) and failed == "[]", "every type and method can be built when it is first used"


def test_the_test_suite_runs_with_the_types_held_back() -> None:
    """conftest.py imports aiogram the way a worker does, so every Telegram test exercises the deferred types."""
    from bot.channels.telegram.aiogram_types import deferred_types

    assert len(deferred_types) > 350
