"""SIGTERM stops a real `anshin telegram` process within a few seconds, whatever it is waiting for: on each
library, polling and webhook, while a reply waits on a 429 that asks for 40 seconds. What it abandons is left for
Telegram to deliver again (a webhook's update gets 503), and nothing is sent after it stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time

import aiohttp
import pytest

from bot.channels.delivery import OVERRUN, SHUTDOWN_GRACE
from tests.conftest import FIXTURE_CONTENT
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.updates import Updates

SECRET = "shutdown-secret_0123456789"
HEADER = "X-Telegram-Bot-Api-Secret-Token"
BOUND = SHUTDOWN_GRACE + OVERRUN  # the most the work in hand may hold a stop up


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("mode", ["polling", "webhook"])
@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_sigterm_stops_within_seconds_while_a_reply_waits_on_a_429(
        api: FakeBotAPI, framework: str, mode: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/hook"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    env.update(ANSHIN_TELEGRAM_TOKEN=TOKEN, ANSHIN_TELEGRAM_API=api.base, ANSHIN_CONTENT=str(FIXTURE_CONTENT))
    args = ["-m", "bot", "telegram", "--framework", framework]
    if mode == "webhook":
        env.update(ANSHIN_WEBHOOK_URL=url, ANSHIN_WEBHOOK_SECRET=SECRET, ANSHIN_PORT=str(port))
        args.append("--webhook")
    process = await asyncio.create_subprocess_exec(sys.executable, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    posted: asyncio.Task[int] | None = None
    try:
        await api.wait_for("setWebhook" if mode == "webhook" else "getUpdates", 1, timeout=30)
        api.fail("sendMessage", 429, times=100, retry_after=40)  # fits the webhook deadline: it waits
        update = Updates().text("/start")
        if mode == "webhook":
            async def post() -> int:
                async with aiohttp.ClientSession() as client, client.post(
                        url, json=update, headers={HEADER: SECRET}) as response:
                    return response.status

            posted = asyncio.create_task(post())
        else:
            api.push(update)
        await api.wait_for("sendMessage", 1, timeout=10)
        await asyncio.sleep(0.3)
    finally:
        process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        _, err = await asyncio.wait_for(process.communicate(), 30)
        took = time.monotonic() - stopping
    calls = len(api.calls("sendMessage"))
    await asyncio.sleep(0.5)
    print(f"{framework} {mode}: stopped {took:.2f} s after SIGTERM")
    assert took < BOUND, f"stopped {took:.1f} s after SIGTERM"
    assert process.returncode == 0, err.decode()[-500:]
    assert len(api.calls("sendMessage")) == calls == 1, "nothing is sent after SIGTERM"
    assert "Traceback" not in err.decode()
    if posted is not None:
        assert await posted == 503, "the abandoned update is left for Telegram to deliver again"


@pytest.mark.parametrize("mode", ["polling", "webhook"])
@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_sigterm_stops_a_worker_still_starting_while_telegram_is_down(
        api: FakeBotAPI, framework: str, mode: str) -> None:
    """Start-up calls (getMe, deleteWebhook, setWebhook) are retried for minutes while the Bot API fails: SIGTERM
    stops them too."""
    for method in ("getMe", "deleteWebhook", "setWebhook"):
        api.fail(method, 502, times=10_000)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    env.update(ANSHIN_TELEGRAM_TOKEN=TOKEN, ANSHIN_TELEGRAM_API=api.base, ANSHIN_CONTENT=str(FIXTURE_CONTENT))
    args = ["-m", "bot", "telegram", "--framework", framework]
    if mode == "webhook":
        env.update(ANSHIN_WEBHOOK_URL=f"http://127.0.0.1:{port}/hook", ANSHIN_WEBHOOK_SECRET=SECRET,
                   ANSHIN_PORT=str(port))
        args.append("--webhook")
    process = await asyncio.create_subprocess_exec(sys.executable, *args, env=env, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while len([r for r in api.requests if r.fault]) < 3:
            assert time.monotonic() < deadline and process.returncode is None, "the worker did not start"
            await asyncio.sleep(0.05)
    finally:
        process.send_signal(signal.SIGTERM)
        stopping = time.monotonic()
        _, err = await asyncio.wait_for(process.communicate(), 30)
        took = time.monotonic() - stopping
    print(f"{framework} {mode}, starting: stopped {took:.2f} s after SIGTERM")
    assert took < BOUND and process.returncode == 0, (took, err.decode()[-500:])
    assert "Traceback" not in err.decode()
