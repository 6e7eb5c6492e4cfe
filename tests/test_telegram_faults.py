"""Telegram's errors, injected by the fake Bot API: each reply is delivered once after retries, or dropped
after a bounded number of tries with one content-free log line and a count, and other chats are served
meanwhile. Runs once per entry of ``HARNESSES`` (both adapters, polling and webhook)."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time

import aiohttp
import pytest
from aiogram.types import Update

from bot.channels.telegram.aiogram_bot import Retry, create_bot, create_dispatcher
from bot.engine import Engine
from tests.conftest import FIXTURE_CONTENT
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.harness import FAST_RETRY, Harness
from tests.fakes.updates import Updates

CANARY = "CanaryFault7731"
USER_ID = 640519283377

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
    from bot.engine import Event

    data = fixture_engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    FAULTS[fault](bot.api, "editMessageText", 1)
    FAULTS[fault](bot.api, "answerCallbackQuery", 1)
    await bot.send(Updates(user_id=USER_ID).press(data, message_id=77))
    assert len(bot.api.delivered("editMessageText")) == 1 and bot.api.calls("sendMessage") == []
    assert len(bot.api.delivered("answerCallbackQuery")) == 1


async def test_a_reply_that_keeps_failing_is_dropped_after_bounded_tries_with_one_content_free_line(
        bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    bot.api.fail("sendMessage", 500, times=100)
    user = Updates(user_id=USER_ID, first_name=CANARY, username=CANARY.lower())
    began = time.monotonic()
    await bot.send(user.text(f"/start t-ja-{CANARY}"))
    assert time.monotonic() - began < 10
    assert len(bot.api.calls("sendMessage")) == FAST_RETRY.attempts and bot.api.delivered("sendMessage") == []
    dropped = [r for r in caplog.records if "sendMessage failed" in r.getMessage()]
    assert len(dropped) == 1 and dropped[0].levelno == logging.WARNING
    everything = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert CANARY.lower() not in everything.lower() and str(USER_ID) not in everything
    bot.api._failures.clear()  # Telegram is back: the next message goes through
    await bot.send(user.text("/help"))
    assert len(bot.api.delivered("sendMessage")) == 1


@pytest.mark.parametrize("fault", ["timeout", "429"])
async def test_other_chats_are_served_while_one_reply_waits(bot: Harness, fault: str) -> None:
    hold = 1.6
    if fault == "timeout":
        bot.api.fault("sendMessage", "timeout", hold=hold)
    else:
        bot.api.fail("sendMessage", 429, retry_after=int(hold))
    stuck = asyncio.create_task(bot.send(Updates(user_id=USER_ID).text("/start")))
    await bot.api.wait_for("sendMessage", 1)
    began = time.monotonic()
    others = [Updates(user_id=USER_ID + n, start_id=100 * n).text("/help") for n in range(1, 6)]
    for update in others:
        await asyncio.wait_for(bot.send(update), hold)
    served = time.monotonic() - began
    chats = [r.params["chat_id"] for r in bot.api.delivered("sendMessage")]
    assert sorted(chats) == [USER_ID + n for n in range(1, 6)], "the others were answered first"
    assert served < hold / 2, f"the others waited {served:.2f} s behind the stuck reply"
    await asyncio.wait_for(stuck, 10)  # (polling's send may return when any update is done: wait for it)
    deadline = time.monotonic() + 10
    while not any(r.params["chat_id"] == USER_ID for r in bot.api.delivered("sendMessage")):
        assert time.monotonic() < deadline, "the held reply was never delivered"
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.2)
    assert [r.params["chat_id"] for r in bot.api.delivered("sendMessage")].count(USER_ID) == 1


async def test_a_real_client_timeout_is_retried_and_delivered_once(api: FakeBotAPI, fixture_engine: Engine) -> None:
    """aiogram's own request timeout (not a dropped connection): the Bot API holds the call past it."""
    bot = create_bot(TOKEN, api.base, retry=Retry(attempts=3, backoff=0.05), timeout=0.5)
    dispatcher = create_dispatcher(fixture_engine)
    api.fault("sendMessage", "timeout", hold=1.5)
    try:
        update = Update.model_validate(Updates(user_id=USER_ID).text("/start"), context={"bot": bot})
        await asyncio.wait_for(dispatcher.feed_update(bot, update), 10)
    finally:
        await bot.session.close()
    assert [r.fault for r in api.calls("sendMessage")] == ["timeout", None]


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
