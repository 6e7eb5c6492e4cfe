"""Fuzzing the LINE webhook: events of every type in webhook.yml (random, missing and unknown fields, huge strings)
and random postback data, posted signed over real HTTP to the LINE channel in batches of one to three.

No example may crash the bot (a 5xx, an ERROR log line, a traceback); the answer is 200 for a body of events and
413 over 1 MiB; every message, postback and follow from a user gets exactly one reply; every request the bot sends
is valid against messaging-api.yml. ``CI=true`` selects the ``ci`` profile (10,000 examples); locally ``dev``.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.engine import Engine
from tests.fakes.line_api import FakeLineAPI
from tests.fakes.line_events import body, encode, sign
from tests.fakes.line_harness import LineHarness
from tests.fakes.line_strategies import event_types, events
from tests.fakes.update_strategies import callback_data

_COMMON = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}
settings.register_profile("line-ci", max_examples=10_000, **_COMMON)
settings.register_profile("line-dev", max_examples=400, **_COMMON)
PROFILE = "line-ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "line-dev"
MAX_BODY = 1 << 20
USER = {"type": "user", "userId": "U" + "3" * 32}


class Running:
    """The LINE channel on its own event loop, driven from hypothesis' synchronous examples."""

    def __init__(self, engine: Engine) -> None:
        self.loop = asyncio.new_event_loop()
        self.api = FakeLineAPI()
        self.loop.run_until_complete(self.api.start())
        self.line = LineHarness(self.api, engine)
        self.loop.run_until_complete(self.line.start())

    def post(self, raw: bytes) -> int:
        return self.loop.run_until_complete(self.line.post(raw, sign(raw)))

    def close(self) -> None:
        self.loop.run_until_complete(self.line.stop())
        self.loop.run_until_complete(self.api.stop())
        self.loop.close()


@pytest.fixture
def running(fixture_engine: Engine, caplog: pytest.LogCaptureFixture) -> Iterator[Running]:
    caplog.set_level(logging.WARNING)
    bot = Running(fixture_engine)
    try:
        yield bot
    finally:
        bot.close()
    crashes = [f"{r.name}: {r.getMessage()}" for r in caplog.get_records("call")
               if r.levelno >= logging.ERROR or r.exc_info]
    assert crashes == [], "an example crashed the bot"
    assert bot.api.problems() == [], "a request broke messaging-api.yml"
    assert {c.operation for c in bot.api.calls} <= {"replyMessage", "leaveGroup", "leaveRoom"}


def answered(event: dict[str, Any]) -> bool:
    """An event the bot must answer: a message, postback or follow from a user, active, with a reply token."""
    return (event.get("type") in ("message", "postback", "follow") and event.get("mode") == "active"
            and event.get("source") == USER and isinstance(event.get("replyToken"), str) and event["replyToken"] != ""
            and (event["type"] != "message" or (isinstance(event.get("message"), dict)
                 and event["message"].get("type") is not None)))


def from_user(event: dict[str, Any]) -> dict[str, Any]:
    return {**event, "source": USER, "mode": "active"}


# One stream of cases: any event of any type; a message, postback or follow from a user (commands, phrases,
# media, huge texts); a postback with random data.
CASES = st.one_of(
    st.tuples(st.just("any"), st.lists(events(), min_size=1, max_size=3)),
    st.tuples(st.just("user"), st.lists(events(types=("message", "postback", "follow")).map(from_user),
                                        min_size=1, max_size=3)),
    st.tuples(st.just("press"), st.lists(events(types=("postback",), broken=False).map(from_user).flatmap(
        lambda e: callback_data().map(lambda d: {**e, "postback": {"data": d}})), min_size=1, max_size=2)),
)


def test_every_event_type_in_webhook_yml_is_drawn() -> None:
    assert {"message", "postback", "follow", "join", "leave", "unsend", "memberJoined", "memberLeft"} <= set(
        event_types())


def test_fuzzed_events_never_crash_the_bot_and_every_user_event_is_answered(running: Running) -> None:
    ids = itertools.count()
    counts: dict[str, int] = {}
    types: set[str] = set()

    def check(case: tuple[str, list[Any]]) -> None:
        kind, drawn = case
        counts[kind] = counts.get(kind, 0) + 1
        for event in drawn:
            if isinstance(event, dict):
                event["webhookEventId"] = f"fuzz{next(ids)}"  # distinct: none is taken for a redelivery
                types.add(str(event.get("type")))
        raw = encode(body(*drawn))
        before = len(running.api.of("replyMessage"))
        status = running.post(raw)
        if len(raw) > MAX_BODY:
            assert status == 413
            return
        assert status == 200, (status, raw[:300])
        expected = sum(1 for event in drawn if isinstance(event, dict) and answered(event))
        made = len(running.api.of("replyMessage")) - before
        assert made == expected if kind != "any" else made >= expected, (made, expected, raw[:500])

    settings(settings.get_profile(PROFILE))(given(CASES)(check))()
    assert len(types & set(event_types())) >= (19 if PROFILE == "line-ci" else 12), types
    assert min(counts.values()) > sum(counts.values()) // 20, counts
    assert running.api.replies(), "examples reached the engine and were answered"
