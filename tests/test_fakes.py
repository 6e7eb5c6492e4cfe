"""The fakes fail fast: a broken test setup fails the test at once, naming the cause (issue 20)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.fakes import bot_api
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.harness import Harness
from tests.fakes.updates import Updates


async def test_a_broken_fake_bot_api_fails_the_waiting_test_at_once(bot: Harness, api: FakeBotAPI,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(method: str, params: dict[str, Any]) -> list[str]:
        raise FileNotFoundError("api.json")  # as when the spec the fake validates against is missing

    monkeypatch.setattr(bot_api, "validate", broken)
    start = time.monotonic()
    with pytest.raises(AssertionError, match=r"the fake Bot API failed: .*FileNotFoundError: api\.json"):
        await bot.send(Updates().text("/start"))
        await api.wait_for("sendMessage", 1)
    assert time.monotonic() - start < 5, "failed only after the waits timed out"
    assert api.problems()[0].startswith("fake Bot API failed")
    monkeypatch.undo()  # the fake works again: the bot goes on serving, and stops as usual
    api.crashes.clear()  # seen; the fixture's own check would fail the test otherwise
    await bot.send(Updates().text("/help"))
    await api.wait_for("sendMessage", 1)
