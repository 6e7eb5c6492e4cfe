"""One running Telegram channel per mode, driven through the fake Bot API over real HTTP.

Scenario tests take a ``Harness`` and call ``send(update)``, which hands the update over as Telegram does (to a
webhook: again and again while it answers non-2xx) and returns once the bot has finished with it; a webhook
harness also has ``post_update(update)``, one POST. Two adapters (aiogram, python-telegram-bot) in two modes
each: four entries in ``HARNESSES``.

Time runs ``1 / SCALE`` times faster than in production: the same retry policy, webhook deadline and shutdown
grace, every wait multiplied by ``SCALE`` (a 5-minute retry budget lasts 6 s, the 50 s webhook deadline 1 s, and
Telegram's ``retry_after`` of 60 s 1.2 s), so that the tests prove the production contract in little time.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from telegram import Update
from telegram.ext import TypeHandler

from bot.channels.delivery import OVERRUN, SHUTDOWN_GRACE, WEBHOOK_DEADLINE, Handling
from bot.channels.server import Runner
from bot.channels.telegram import ptb_bot as ptb
from bot.channels.telegram.aiogram_bot import Retry, create_bot, create_dispatcher, poll, webhook_app
from bot.channels.telegram.common import FloodGate, RetryPolicy
from bot.engine import Engine
from bot.metrics import ReachMetrics
from tests.fakes.bot_api import TOKEN, FakeBotAPI

__all__ = ["DEADLINE", "FAST_POLICY", "FAST_RETRY", "GRACE", "HARNESSES", "REDELIVERY", "SCALE", "SECRET", "Harness",
           "handling"]

SECRET = "s3cret-Token_for-tests"
SCALE = 0.02
FAST_RETRY = Retry(scale=SCALE)
FAST_POLICY = RetryPolicy(scale=SCALE)
DEADLINE = WEBHOOK_DEADLINE * SCALE
GRACE = SHUTDOWN_GRACE * SCALE


def handling(deadline: float | None = None) -> Handling:
    """The production deadlines and grace, scaled."""
    return Handling(deadline, GRACE, OVERRUN * SCALE)
REDELIVERY = 0.2  # how soon the harness, as Telegram, delivers again an update its webhook answered non-2xx


class Harness(Protocol):
    api: FakeBotAPI
    webhook: bool

    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def send(self, update: dict[str, Any], timeout: float = 20.0) -> int: ...
    async def post(self, body: bytes, secret: str | None, extra: dict[str, str] | None = None) -> int: ...


async def _until(api: FakeBotAPI, condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    """Wait for ``condition``; fail at once, with the reason, if the fake Bot API itself broke (a test fails fast
    and says why, rather than after ten seconds of waiting for calls that cannot come)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if api.crashes:
            raise AssertionError(f"{what}: the fake Bot API failed: {api.crashes[0]}")
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.005)


class AiogramPolling:
    webhook = False

    def __init__(self, api: FakeBotAPI, engine: Engine, gate: FloodGate | None = None,
                 metrics: ReachMetrics | None = None) -> None:
        self.api, self.engine, self.gate, self.metrics = api, engine, gate, metrics
        self.done: Counter[int] = Counter()  # update_id -> times handled (concurrent updates finish in any order)

    async def start(self) -> None:
        self.dispatcher = create_dispatcher(self.engine, gate=self.gate, metrics=self.metrics,
                                            handling=handling())
        feed: Callable[..., Awaitable[Any]] = self.dispatcher.feed_update

        async def counted(*args: Any, **kwargs: Any) -> Any:
            try:
                return await feed(*args, **kwargs)
            finally:
                self.done[args[1].update_id] += 1

        self.dispatcher.feed_update = counted  # type: ignore[method-assign]
        bot = create_bot(TOKEN, self.api.base, retry=FAST_RETRY, metrics=self.metrics)
        self.task = asyncio.create_task(poll(self.dispatcher, bot, handle_signals=False, timeout=1))
        await _until(self.api, lambda: bool(self.api.calls("getUpdates")) or self.task.done(), "polling did not start")

    async def stop(self) -> None:
        if not self.task.done():
            await self.dispatcher.stop_polling()
        await asyncio.wait_for(self.task, 5)

    async def send(self, update: dict[str, Any], timeout: float = 20.0) -> int:
        update_id = update["update_id"]
        expected = self.done[update_id] + 1
        self.api.push(update)
        await _until(self.api, lambda: self.done[update_id] >= expected, "update not handled", timeout=timeout)
        return 200

    async def post(self, body: bytes, secret: str | None, extra: dict[str, str] | None = None) -> int:
        raise NotImplementedError("polling has no webhook")


class AiogramWebhook:
    webhook = True
    path = "/telegram/hook"

    def __init__(self, api: FakeBotAPI, engine: Engine, gate: FloodGate | None = None,
                 metrics: ReachMetrics | None = None) -> None:
        self.api, self.engine, self.gate, self.metrics = api, engine, gate, metrics

    async def start(self) -> None:
        self.bot = create_bot(TOKEN, self.api.base, retry=FAST_RETRY)
        app = webhook_app(create_dispatcher(self.engine, gate=self.gate, metrics=self.metrics), self.bot, SECRET,
                          self.path, self.metrics, handling(DEADLINE))
        self.app = app
        self.runner = Runner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}{self.path}"
        self.client = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.client.close()
        await self.runner.cleanup()
        await self.bot.session.close()

    async def post_update(self, update: dict[str, Any]) -> int:
        """One POST of the update; its status."""
        async with self.client.post(self.url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
            return r.status

    async def send(self, update: dict[str, Any], timeout: float = 20.0) -> int:
        """As Telegram: POST the update until the webhook answers 2xx (a 4xx is final: returned as it is)."""
        deadline = time.monotonic() + timeout
        while (status := await self.post_update(update)) >= 500:
            if self.api.crashes:  # (the 503 is the fake's fault, not Telegram's: fail at once, saying why)
                raise AssertionError(f"update not handled: the fake Bot API failed: {self.api.crashes[0]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the webhook kept answering {status}")
            await asyncio.sleep(REDELIVERY)
        return status

    async def post(self, body: bytes, secret: str | None, extra: dict[str, str] | None = None) -> int:
        headers = {"Content-Type": "application/json", **(extra or {})}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with self.client.post(self.url, data=body, headers=headers) as response:
            return response.status


class PtbPolling:
    """python-telegram-bot polling; a last handler group counts the updates PTB has finished with."""

    webhook = False

    def __init__(self, api: FakeBotAPI, engine: Engine, gate: FloodGate | None = None,
                 metrics: ReachMetrics | None = None) -> None:
        self.api, self.engine, self.gate, self.metrics = api, engine, gate, metrics
        self.done: Counter[int] = Counter()  # update_id -> times handled (concurrent updates finish in any order)

    async def _count(self, update: Update, context: object) -> None:
        self.done[update.update_id] += 1

    async def start(self) -> None:
        bot = ptb.create_bot(TOKEN, self.api.base, retry=FAST_POLICY, metrics=self.metrics)
        self.application = ptb.create_application(self.engine, bot, gate=self.gate, metrics=self.metrics,
                                                  handling=handling())
        self.application.add_handler(TypeHandler(Update, self._count), group=99)
        self.stopped = asyncio.Event()
        self.task = asyncio.create_task(ptb.poll(self.application, self.stopped, handle_signals=False, timeout=1))
        await _until(self.api, lambda: bool(self.api.calls("getUpdates")) or self.task.done(), "polling did not start")

    async def stop(self) -> None:
        self.stopped.set()
        await asyncio.wait_for(self.task, 5)

    async def send(self, update: dict[str, Any], timeout: float = 20.0) -> int:
        update_id = update["update_id"]
        expected = self.done[update_id] + 1
        self.api.push(update)
        await _until(self.api, lambda: self.done[update_id] >= expected, "update not handled", timeout=timeout)
        return 200

    async def post(self, body: bytes, secret: str | None, extra: dict[str, str] | None = None) -> int:
        raise NotImplementedError("polling has no webhook")


class PtbWebhook(AiogramWebhook):
    """python-telegram-bot behind the shared aiohttp webhook server."""

    async def start(self) -> None:
        bot = ptb.create_bot(TOKEN, self.api.base, retry=FAST_POLICY)
        self.application = ptb.create_application(self.engine, bot, gate=self.gate, metrics=self.metrics,
                                                  polling=False)
        await self.application.initialize()
        await self.application.start()
        app = ptb.webhook_app(self.application, SECRET, self.path, self.metrics, handling(DEADLINE))
        self.app = app
        self.runner = Runner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}{self.path}"
        self.client = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.client.close()
        await self.runner.cleanup()
        await self.application.stop()
        await self.application.shutdown()


HARNESSES: dict[str, Callable[..., Harness]] = {
    "aiogram-polling": AiogramPolling,
    "aiogram-webhook": AiogramWebhook,
    "ptb-polling": PtbPolling,
    "ptb-webhook": PtbWebhook,
}
