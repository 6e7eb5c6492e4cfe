"""Fuzzing the Telegram webhook: Updates of every type in the Bot API spec (random, missing and unknown
fields, huge strings) and random button data, posted over real HTTP to each webhook in ``HARNESSES``.

No example may crash the bot (a 5xx, an ERROR log line, a traceback); the answer is 200 for an Update,
400 for JSON without an integer update_id or with a number longer than 20 digits (5,000 digits too), 400 for a
body whose Content-Encoding does not decode (a corrupt gzip), 413 over 1 MiB; every press is answered; every
request the bot sends is valid against the Bot API spec. ``CI=true`` selects the ``ci`` profile (10,000 examples per
test); locally a smaller ``dev`` profile runs.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.telegram.common import FloodGate
from bot.engine import Engine
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.harness import HARNESSES, SECRET, Harness
from tests.fakes.update_strategies import callback_data, update_types, updates
from tests.fakes.updates import Updates

_COMMON = {"deadline": None, "database": None, "suppress_health_check": list(HealthCheck)}
settings.register_profile("ci", max_examples=10_000, **_COMMON)
settings.register_profile("dev", max_examples=400, **_COMMON)
PROFILE = "ci" if os.environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"
WEBHOOKS = sorted(name for name, harness in HARNESSES.items() if getattr(harness, "webhook", False))
MAX_BODY = 1 << 20


class Running:
    """One webhook harness on its own event loop, driven from hypothesis' synchronous examples."""

    def __init__(self, name: str, engine: Engine) -> None:
        self.loop = asyncio.new_event_loop()
        self.api = FakeBotAPI()
        self.loop.run_until_complete(self.api.start())
        self.hook: Harness = HARNESSES[name](self.api, engine, FloodGate(limit=10**9))
        self.loop.run_until_complete(self.hook.start())

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> int:
        return self.loop.run_until_complete(self.hook.post(body, SECRET, headers))

    def close(self) -> None:
        self.loop.run_until_complete(self.hook.stop())
        self.loop.run_until_complete(self.api.stop())
        self.loop.close()


@pytest.fixture(params=WEBHOOKS)
def running(request: pytest.FixtureRequest, fixture_engine: Engine,
            caplog: pytest.LogCaptureFixture) -> Iterator[Running]:
    caplog.set_level(logging.WARNING)
    bot = Running(request.param, fixture_engine)
    try:
        yield bot
    finally:
        bot.close()
    records = caplog.get_records("call")  # (caplog.records here would be the teardown's only)
    crashes = [f"{r.name}: {r.getMessage()}" for r in records if r.levelno >= logging.ERROR or r.exc_info]
    assert crashes == [], "an example crashed the bot"
    assert bot.api.problems() == [], "a request broke the Bot API spec"


def expected_status(body: bytes, update: Any) -> int:
    if len(body) > MAX_BODY:
        return 413
    if any(len(str(abs(number))) > 20 for number in numbers(update)):
        return 400  # no number of Telegram's is that long
    return 200 if isinstance(update, dict) and type(update.get("update_id")) is int else 400


def numbers(value: Any) -> Iterator[int]:
    if type(value) is int:
        yield value
    elif isinstance(value, dict | list):
        for item in value.values() if isinstance(value, dict) else value:
            yield from numbers(item)


def fuzz(strategy: st.SearchStrategy[Any], check: Callable[[Any], None]) -> None:
    settings(settings.get_profile(PROFILE))(given(strategy)(check))()


def test_every_update_type_in_the_spec_is_drawn() -> None:
    names = [name for name, _ in update_types()]
    assert {"message", "callback_query", "my_chat_member", "inline_query", "poll", "chat_boost"} <= set(names)
    assert len(names) >= 20


def private(update: dict[str, Any]) -> dict[str, Any]:
    """Make a drawn message one the bot acts on: a message in a private chat."""
    message = update.get("message")
    if isinstance(message, dict) and isinstance(message.get("chat"), dict):
        message["chat"]["type"] = "private"
    return update


PressCase = tuple[str, bool, "str | None"]
# One stream of cases, so that the profile's examples cover all three: any Update of any type; a message in
# a private chat (commands, phrases, media, huge texts); a button press with random data.
ENCODINGS = ("gzip", "deflate", "corrupt gzip", "truncated gzip", "gzip said, plain sent", "br", "identity", "x")
CASES = st.one_of(
    st.tuples(st.just("any"), updates()),
    st.tuples(st.just("private"), updates(kinds=("message",)).map(private)),
    st.tuples(st.just("press"), st.tuples(callback_data(), st.booleans(),
                                          st.sampled_from(("ja", "en", None, "xx", "pt-BR")))),
    # a number of 21 to 5,000 digits put in as text (json.dumps cannot write one past 4,300 digits)
    st.tuples(st.just("huge number"), st.tuples(updates(), st.integers(21, 5000), st.booleans())),
    st.tuples(st.just("encoded"), st.tuples(updates(), st.sampled_from(ENCODINGS))),
)


def encoded(body: bytes, encoding: str) -> tuple[bytes, str, bool]:
    """The body as sent, its Content-Encoding header, and whether it decodes to ``body``."""
    packed = gzip.compress(body)
    return {
        "gzip": (packed, "gzip", True),
        "deflate": (zlib.compress(body), "deflate", True),
        "corrupt gzip": (packed[:10] + bytes(b ^ 0x5A for b in packed[10:30]) + packed[30:], "gzip", False),
        "truncated gzip": (packed[: len(packed) // 2], "gzip", False),
        "gzip said, plain sent": (body, "gzip", False),
        "br": (body, "br", False),  # (no brotli decoder installed: aiohttp refuses it)
        "identity": (body, "identity", True),
        "x": (body, "x-unknown", True),  # an encoding aiohttp does not know is passed through as it is
    }[encoding]


def test_fuzzed_updates_and_button_data_never_crash_the_bot(running: Running) -> None:
    seen: set[str] = set()
    counts: dict[str, int] = {}
    user = Updates(user_id=880011, lang="ja", start_id=2**40)  # (drawn update_ids stay below 2**31)

    def press(case: PressCase) -> None:
        data, accessible, lang = case
        user.lang = lang
        answered, shown = len(running.api.calls("answerCallbackQuery")), len(
            running.api.calls("sendMessage", "editMessageText"))
        assert running.post(json.dumps(user.press(data, accessible=accessible)).encode()) == 200
        assert len(running.api.calls("answerCallbackQuery")) == answered + 1, "no endless spinner"
        assert len(running.api.calls("sendMessage", "editMessageText")) > shown, "every press gets a screen"

    def check(case: tuple[str, Any]) -> None:
        kind, value = case
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "press":
            press(value)
            return
        if kind == "huge number":
            update, digits, negative = value
            text = json.dumps({**update, "n": "HUGE"}).replace('"HUGE"', ("-" if negative else "") + "9" * digits)
            status = running.post(text.encode())
            assert status == (413 if len(text) > MAX_BODY else 400), (status, digits)
            seen.update(update)
            return
        if kind == "encoded":
            update, encoding = value
            plain = json.dumps(update).encode()
            body, header, decodes = encoded(plain, encoding)
            status = running.post(body, {"Content-Encoding": header})
            assert status == (expected_status(plain, update) if decodes else 400), (status, encoding)
            seen.update(update)
            return
        body = json.dumps(value).encode()
        status = running.post(body)
        assert status == expected_status(body, value), (status, body[:300])
        seen.update(value)

    fuzz(CASES, check)
    assert len(seen & {name for name, _ in update_types()}) >= (20 if PROFILE == "ci" else 10), seen
    # each kind drawn, and not just once (hypothesis does not draw them evenly: one in 40 was too strict a share)
    assert len(counts) == 5 and min(counts.values()) >= max(3, sum(counts.values()) // 100), counts
    assert running.api.calls("sendMessage"), "examples reached the engine and were answered"
