"""Telegram's errors, injected by the fake Bot API, against the delivery contract (README "Delivery"): each reply
is delivered once after retries within the budget (polling) or the deadline and Telegram's redelivery (webhook),
or given up with one content-free log line and a count; no reply is doubled (a repeated update_id, a send that
got no answer in time, a redelivered press); other chats are served meanwhile; an unreadable polled update is
skipped; a group's answers are limited. Runs once per entry of ``HARNESSES`` (both adapters, polling and
webhook), on the production policy with time scaled (``harness.SCALE``)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
from aiogram.types import Update
from telegram import Update as PtbUpdate

from bot.channels.telegram import ptb_bot as ptb
from bot.channels.telegram.aiogram_bot import create_bot, create_dispatcher
from bot.engine import Engine, Event
from bot.metrics import ReachMetrics
from tests.conftest import FIXTURE_CONTENT
from tests.fakes.bot_api import BOT_USERNAME, TOKEN, FakeBotAPI
from tests.fakes.harness import DEADLINE, FAST_POLICY, FAST_RETRY, HARNESSES, SCALE, AiogramWebhook, Harness
from tests.fakes.updates import Updates

CANARY = "CanaryFault7731"
USER_ID = 640519283377
GROUP_ID = -1001234567890  # Updates.group_message's chat

# (fault, how to inject it): HTTP errors through ``fail``, broken connections through ``fault``.
FAULTS = {
    "429": lambda api, method, n: api.fail(method, 429, times=n, retry_after=1),  # Telegram sends >= 1,
    "500": lambda api, method, n: api.fail(method, 500, times=n),
    "502": lambda api, method, n: api.fail(method, 502, times=n),
    "timeout": lambda api, method, n: api.fault(method, "timeout", times=n, hold=0.3),
    "reset": lambda api, method, n: api.fault(method, "reset", times=n),
    "malformed": lambda api, method, n: api.fault(method, "malformed", times=n),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_a_reply_is_delivered_once_after_a_fault(bot: Harness, fault: str) -> None:
    FAULTS[fault](bot.api, "sendMessage", 2)
    await bot.send(Updates(user_id=USER_ID).text("/start"))
    attempts = bot.api.calls("sendMessage")
    [delivered] = bot.api.delivered("sendMessage")
    assert [a.fault for a in attempts] == [fault, fault, None]
    assert all(a.params == delivered.params for a in attempts), "every try sends the same message"


@pytest.mark.parametrize("fault", ["reset", "500"])
async def test_a_press_is_answered_and_its_edit_delivered_once_after_a_fault(
        bot: Harness, fixture_engine: Engine, fault: str) -> None:
    data = fixture_engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    FAULTS[fault](bot.api, "editMessageText", 1)
    FAULTS[fault](bot.api, "answerCallbackQuery", 1)
    await bot.send(Updates(user_id=USER_ID).press(data, message_id=77))
    assert len(bot.api.delivered("editMessageText")) == 1 and bot.api.calls("sendMessage") == []
    assert len(bot.api.delivered("answerCallbackQuery")) == 1


async def test_a_reply_that_keeps_failing_is_given_up_after_the_budget_with_one_content_free_line(
        bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    """Polling: retried for the whole budget (5 minutes, scaled), then dropped with one line and a count.
    Webhook: answered 503 at the deadline (Telegram sends the update again), and answered once Telegram is back."""
    caplog.set_level(logging.DEBUG)
    bot.api.fail("sendMessage", 500, times=10_000)
    user = Updates(user_id=USER_ID, first_name=CANARY, username=CANARY.lower())
    update = user.text(f"/start t-ja-{CANARY}")
    began = time.monotonic()
    status = await (bot.post_update(update) if isinstance(bot, AiogramWebhook) else bot.send(update))
    spent = time.monotonic() - began
    tries = len(bot.api.calls("sendMessage"))
    assert bot.api.delivered("sendMessage") == []
    if bot.webhook:
        # (it stops trying as soon as the next wait would not end before the deadline)
        assert status == 503 and DEADLINE / 2 < spent <= DEADLINE + 0.3, spent
    else:
        budget = FAST_POLICY.budget * SCALE
        assert budget * 0.9 < spent < budget + 2, f"given up after {spent:.1f} s, the budget is {budget:.1f} s"
        dropped = [r for r in caplog.records if "not delivered within the retry budget" in r.getMessage()]
        assert len(dropped) == 1 and dropped[0].levelno == logging.WARNING
    assert tries > 5, "retried, not given up after a handful of tries"
    everything = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert CANARY.lower() not in everything.lower() and str(USER_ID) not in everything
    bot.api._failures.clear()  # Telegram is back
    if bot.webhook:
        assert await bot.send(update) == 200  # Telegram delivers the update again: now it is answered
    await bot.send(user.text("/help"))
    assert len(bot.api.delivered("sendMessage")) == (2 if bot.webhook else 1)


@pytest.mark.parametrize("fault", ["timeout", "429"])
async def test_other_chats_are_served_while_one_reply_waits(bot: Harness, fault: str) -> None:
    hold = 0.8  # within the webhook's deadline: delivered at the first delivery
    if fault == "timeout":
        bot.api.fault("sendMessage", "timeout", hold=hold)
    else:
        bot.api.fail("sendMessage", 429, retry_after=round(hold / SCALE))
    stuck = asyncio.create_task(bot.send(Updates(user_id=USER_ID).text("/start")))
    await bot.api.wait_for("sendMessage", 1)
    began = time.monotonic()
    for n in range(1, 6):
        await asyncio.wait_for(bot.send(Updates(user_id=USER_ID + n).text("/help")), hold)
    served = time.monotonic() - began
    chats = [r.params["chat_id"] for r in bot.api.delivered("sendMessage")]
    assert sorted(chats) == [USER_ID + n for n in range(1, 6)], "the others were answered first"
    assert served < hold / 2, f"the others waited {served:.2f} s behind the stuck reply"
    assert await asyncio.wait_for(stuck, 10) == 200  # (polling's send may return when any update is done)
    deadline = time.monotonic() + 10
    while not any(r.params["chat_id"] == USER_ID for r in bot.api.delivered("sendMessage")):
        assert time.monotonic() < deadline, "the held reply was never delivered"
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    assert [r.params["chat_id"] for r in bot.api.delivered("sendMessage")].count(USER_ID) == 1


# --- idempotent retries: a call that got no answer in time ----------------------------------------------------


@asynccontextmanager
async def direct(framework: str, api: FakeBotAPI, engine: Engine,
                 timeout: float) -> AsyncIterator[Callable[[dict[str, Any]], Awaitable[None]]]:
    """One adapter with the client timeout given, handling updates directly (no polling, no webhook)."""
    if framework == "aiogram":
        bot = create_bot(TOKEN, api.base, retry=FAST_RETRY, timeout=timeout)
        dispatcher = create_dispatcher(engine)

        async def handle(raw: dict[str, Any]) -> None:
            await asyncio.wait_for(dispatcher.feed_update(bot, Update.model_validate(raw, context={"bot": bot})), 10)

        try:
            yield handle
        finally:
            await bot.session.close()
        return
    application = ptb.create_application(engine, ptb.create_bot(TOKEN, api.base, FAST_POLICY, timeout), polling=False)
    async with application:

        async def handle_ptb(raw: dict[str, Any]) -> None:
            await asyncio.wait_for(application.process_update(PtbUpdate.de_json(raw, application.bot)), 10)

        yield handle_ptb


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_a_send_that_got_no_answer_in_time_is_not_sent_again(api: FakeBotAPI, fixture_engine: Engine,
                                                                  framework: str) -> None:
    """The Bot API carried the sendMessage out but answered after the client's timeout: sending it again would
    show the message twice. An edit that timed out is tried again: editing twice shows it once."""
    api.fault("sendMessage", "slow", hold=1.5)
    api.fault("editMessageText", "slow", hold=1.5)
    data = fixture_engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    async with direct(framework, api, fixture_engine, timeout=0.5) as handle:
        await handle(Updates(user_id=USER_ID).text("/start"))
        await handle(Updates(user_id=USER_ID).press(data, message_id=77))
    assert [r.fault for r in api.calls("sendMessage")] == ["slow"], "sent once: the first went out"
    assert [r.fault for r in api.calls("editMessageText")] == ["slow", None]


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_an_urgent_reply_that_got_no_answer_in_time_is_sent_again(api: FakeBotAPI, shipped_engine: Engine,
                                                                       framework: str) -> None:
    """A crisis answer is better twice than never: the one reply that may be doubled."""
    api.fault("sendMessage", "slow", hold=1.5)
    async with direct(framework, api, shipped_engine, timeout=0.5) as handle:
        await handle(Updates(user_id=USER_ID).text("死にたい"))
    calls = api.calls("sendMessage")
    assert [r.fault for r in calls] == ["slow", None] and calls[0].params["text"] == calls[1].params["text"]


# --- a 60 s outage, a long 429, duplicates, unreadable updates, groups -------------------------------------------


async def test_a_60_second_outage_loses_no_reply_and_doubles_none(bot: Harness, fixture_engine: Engine) -> None:
    """Every sending call fails for 60 s (scaled) with 5xx, dropped connections and 429 retry_after=60 in turn,
    getUpdates too (5xx and resets). Updates arriving meanwhile (messages, media, a press, a group command) each
    get their answer exactly once: polling retries within its budget; a webhook answers 503, Telegram delivers
    the update again, and the steps that did go out (a press's answerCallbackQuery) are not repeated."""
    outage = 60 * SCALE
    bot.api.outage(outage)
    bot.api.outage(outage, frozenset({"getUpdates"}), kinds=("500", "reset"))
    press = fixture_engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    users = [Updates(user_id=USER_ID + n) for n in range(6)]
    updates = [users[0].text("/start"), users[1].text("/help"), users[2].text("こんにちは"),
               users[3].media("photo"), users[4].press(press, message_id=77),
               users[5].group_message(f"/start@{BOT_USERNAME}")]
    began = time.monotonic()
    assert await asyncio.gather(*(bot.send(update) for update in updates)) == [200] * len(updates)
    took = time.monotonic() - began
    await asyncio.sleep(0.5)  # anything doubled would have arrived by now
    shown = Counter(r.params["chat_id"] for r in bot.api.delivered("sendMessage", "editMessageText"))
    assert shown == {**{USER_ID + n: 1 for n in range(5)}, GROUP_ID: 1}, f"after {took:.1f} s: {shown}"
    assert len(bot.api.delivered("answerCallbackQuery")) == 1
    assert took >= outage, "every reply waited for the outage to end"
    refused = len([r for r in bot.api.requests if r.fault is not None])
    print(f"\n{type(bot).__name__}: a 60 s outage ({outage:.1f} s scaled): {refused} calls refused, "
          f"{len(bot.api.requests) - refused} answered; every update answered once {took:.1f} s after it began")
    assert refused > len(updates), "the outage was felt"


async def test_a_429_longer_than_a_minute_is_waited_for_not_dropped(bot: Harness) -> None:
    """retry_after=61 (scaled): polling waits for it, within its budget; a webhook answers 503 at once (the wait
    would not end before its deadline) and the update, delivered again, is answered once."""
    bot.api.fail("sendMessage", 429, retry_after=61)
    update = Updates(user_id=USER_ID).text("/start")
    began = time.monotonic()
    status = await (bot.post_update(update) if isinstance(bot, AiogramWebhook) else bot.send(update))
    spent = time.monotonic() - began
    if bot.webhook:
        assert status == 503 and spent < DEADLINE / 2, "no waiting for nothing"
        assert await bot.send(update) == 200
    else:
        assert 61 * SCALE <= spent < 61 * SCALE + 1
    assert [r.fault for r in bot.api.calls("sendMessage")] == ["429", None]
    assert len(bot.api.delivered("sendMessage")) == 1


async def test_the_same_update_twice_is_answered_once(bot: Harness) -> None:
    if not bot.webhook:
        pytest.skip("polling: Telegram hands each update_id over once (the next offset confirms it)")
    update = Updates(user_id=USER_ID).text("/start")
    assert await bot.send(update) == 200
    assert await bot.send(update) == 200
    bot.api.fail("sendMessage", 429, retry_after=20)  # the next update is held for a while (0.4 s)...
    held = Updates(user_id=USER_ID + 1).text("/help")
    assert await asyncio.gather(bot.send(held), bot.send(held)) == [200, 200]  # ...and posted twice meanwhile
    assert Counter(r.params["chat_id"] for r in bot.api.delivered("sendMessage")) == {USER_ID: 1, USER_ID + 1: 1}


async def test_a_redelivered_press_repeats_no_step_that_went_out(bot: Harness, fixture_engine: Engine) -> None:
    """The spinner was stopped (answerCallbackQuery went out) but the edit could not be delivered before the
    deadline: the webhook answers 503; when Telegram sends the press again, only the edit is made."""
    if not bot.webhook:
        pytest.skip("polling: an update is never delivered twice")
    data = fixture_engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    bot.api.fail("editMessageText", 500, times=10_000)
    press = Updates(user_id=USER_ID).press(data, message_id=77)
    assert isinstance(bot, AiogramWebhook)
    assert await bot.post_update(press) == 503
    assert len(bot.api.delivered("answerCallbackQuery")) == 1 and bot.api.delivered("editMessageText") == []
    bot.api._failures.clear()
    assert await bot.post_update(press) == 200
    assert len(bot.api.calls("answerCallbackQuery")) == 1, "the spinner was stopped once"
    assert len(bot.api.delivered("editMessageText")) == 1 and bot.api.calls("sendMessage") == []


async def test_a_first_message_whose_getme_fails_comes_again_and_is_answered_once(
        api: FakeBotAPI, fixture_engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """aiogram asks getMe at the first message (then caches it): a getMe that fails until the deadline is the
    same as a reply that could not go out, 503 and Telegram's redelivery, not a 200 for an unanswered update (a
    clean-clone CI run lost a step of a conversation this way on a loaded machine)."""
    harness = AiogramWebhook(api, fixture_engine)
    await harness.start()
    try:
        api.fail("getMe", 500, times=10_000)
        update = Updates(user_id=USER_ID).text("/start")
        assert await harness.post_update(update) == 503
        assert api.calls("sendMessage") == []
        api._failures.clear()
        assert await harness.post_update(update) == 200
        assert len(api.delivered("sendMessage")) == 1
    finally:
        await harness.stop()
    assert "an update failed" not in caplog.text


@pytest.mark.parametrize("name", ["aiogram-polling", "ptb-polling"])
async def test_an_unreadable_update_is_skipped_and_the_next_is_answered(
        api: FakeBotAPI, fixture_engine: Engine, caplog: pytest.LogCaptureFixture, name: str) -> None:
    """A polled batch holding an update the library cannot read (a date that is not a number): it is skipped,
    counted and logged without its content, polling goes on, and the next user is answered."""
    caplog.set_level(logging.WARNING)
    metrics = ReachMetrics.for_engine(fixture_engine)
    harness = HARNESSES[name](api, fixture_engine, None, metrics)
    await harness.start()
    try:
        broken = Updates(user_id=USER_ID, first_name=CANARY).text(f"hello {CANARY}")
        broken["message"]["date"] = "not-a-date"
        api.push(broken)
        await harness.send(Updates(user_id=USER_ID + 1).text("/start"))
        fetched = len(api.calls("getUpdates"))
        await asyncio.sleep(1.0)
        polls = len(api.calls("getUpdates")) - fetched
    finally:
        await harness.stop()
    assert [r.params["chat_id"] for r in api.delivered("sendMessage")] == [USER_ID + 1]
    assert polls < 5, f"{polls} getUpdates in a second of quiet: polling spins on the batch"
    assert 'anshin_errors_total{kind="unreadable_update"} 1.0' in metrics.exposition().decode()
    assert len([r for r in caplog.records if "could not be read" in r.getMessage()]) == 1
    assert CANARY not in caplog.text and str(USER_ID) not in caplog.text


async def test_a_group_gets_at_most_three_answers_a_minute(bot: Harness) -> None:
    """Thirty /start@bot in one group: the kind pointer to a private chat three times, not thirty."""
    user = Updates(user_id=USER_ID)
    for _ in range(30):
        await bot.send(user.group_message(f"/start@{BOT_USERNAME}"))
    assert len(bot.api.delivered("sendMessage")) == 3
    await bot.send(Updates(user_id=USER_ID + 1).text("/start"))  # a private chat is not held back by it
    assert len(bot.api.delivered("sendMessage")) == 4


# --- counted: the real process's /metrics --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_a_dropped_reply_is_counted_on_the_metrics_page(api: FakeBotAPI, framework: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    secret = "faults-secret_0123456789"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    env.update(ANSHIN_TELEGRAM_TOKEN=TOKEN, ANSHIN_TELEGRAM_API=api.base, ANSHIN_CONTENT=str(FIXTURE_CONTENT),
               ANSHIN_WEBHOOK_URL=url, ANSHIN_WEBHOOK_SECRET=secret, ANSHIN_PORT=str(port))
    args = ["-m", "bot", "telegram", "--webhook", "--framework", framework]
    process = await asyncio.create_subprocess_exec(sys.executable, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        await api.wait_for("setWebhook", 1, timeout=30)
        api.fail("sendMessage", 403, times=2)  # the user blocked the bot: not retried, dropped at once
        async with aiohttp.ClientSession() as client:
            for n in range(3):
                update = Updates(user_id=USER_ID + n, first_name=CANARY).text("/help")
                async with client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": secret}) as r:
                    assert r.status == 200
            async with client.get(f"http://127.0.0.1:{port}/metrics") as response:
                metrics = await response.text()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 15)
    assert 'anshin_errors_total{kind="delivery_failure"} 2.0' in metrics
    assert len(api.delivered("sendMessage")) == 1
    lines = [line for line in err.decode().splitlines() if "sendMessage failed" in line]
    assert len(lines) == 2 and CANARY not in err.decode() and str(USER_ID) not in err.decode()
