"""The LINE channel running for real on 127.0.0.1, its Messaging API calls going to the fake LINE API.

``send(*events)`` posts the events as one signed webhook body, after checking the body against webhook.yml, and
returns the status once the bot has answered every event (LINE's webhook waits for the answer).
"""

from __future__ import annotations

from typing import Any

import aiohttp
from aiohttp import web

from bot.channels.line.client import REPLY_RETRY, LineApi
from bot.channels.line.webhook import LineBot, webhook_app
from bot.channels.recent import RecentIds
from bot.channels.server import Runner
from bot.engine import Engine
from bot.metrics import ReachMetrics
from tests.fakes.line_api import ACCESS_TOKEN, FakeLineAPI
from tests.fakes.line_events import CHANNEL_SECRET, body, encode, sign
from tests.fakes.line_spec import validate_events

__all__ = ["FAST_RETRY", "PATH", "LineHarness"]

FAST_RETRY = REPLY_RETRY  # already fast: a reply is given up within about a second
PATH = "/callback"


class LineHarness:
    def __init__(self, api: FakeLineAPI, engine: Engine, lang: str | None = None, basic_id: str | None = None,
                 metrics: ReachMetrics | None = None, window: RecentIds | None = None, timeout: float = 10.0) -> None:
        self.api, self.engine, self.lang, self.basic_id = api, engine, lang, basic_id
        self.metrics, self.window, self.timeout = metrics, window, timeout

    async def start(self) -> None:
        self.client_api = LineApi(ACCESS_TOKEN, self.api.base, timeout=self.timeout, retry=FAST_RETRY,
                                  metrics=self.metrics)
        self.bot = LineBot(self.engine, self.client_api, self.lang, self.metrics, self.basic_id, self.window)
        app = webhook_app(self.bot, CHANNEL_SECRET, PATH, self.metrics)
        self.runner = Runner(app, access_log=None)  # as serve_until_stopped runs it
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        self.url = self.base + PATH
        self.client = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.client.close()
        await self.runner.cleanup()
        await self.client_api.close()

    async def __aenter__(self) -> LineHarness:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def send(self, *events: dict[str, Any], valid: bool = True) -> int:
        """Post the events as one signed body; ``valid``: the body must be valid against webhook.yml."""
        data = body(*events)
        if valid:
            problems = validate_events(data)
            assert problems == [], f"the test posts an event LINE would not send: {problems}"
        raw = encode(data)
        return await self.post(raw, sign(raw))

    async def post(self, raw: bytes, signature: str | None, headers: dict[str, str] | None = None) -> int:
        sent = {"Content-Type": "application/json", **(headers or {})}
        if signature is not None:
            sent["X-Line-Signature"] = signature
        async with self.client.post(self.url, data=raw, headers=sent) as response:
            await response.read()
            return response.status
