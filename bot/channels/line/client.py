"""The Messaging API through line-bot-sdk 3's async client: replies, leaving groups and rooms.

Only the reply API: it is free and needs no user id. Never push, never the profile API, never message content.
``Configuration(host=...)`` sends every call to one base URL (``ANSHIN_LINE_API``: a fake in the tests) instead
of api.line.me and api-data.line.me.

A reply is posted through the SDK client's REST layer (its aiohttp session, its ``ApiException`` for a non-2xx
answer, the configuration's bearer token) with the message JSON that ``messages`` built once per screen, not
through ``AsyncMessagingApi.reply_message``: that method validates its pydantic models again and serialises them
anew for every event, about 0.5 ms for a screen with ten quick replies (more than the rest of Anshin's work on an
event), for messages that never change; a 2xx is a delivered reply (its ``sentMessages`` are not read). The
session is the SDK's, made once without ``trust_env``: the SDK's own reads ``~/.netrc`` and the proxy variables in
a thread for every request; a proxy set in HTTPS_PROXY at start-up is still used. A failed reply is retried on 429,
5xx and network errors within a few seconds (a reply token does not live long), and counted as
``delivery_failure`` when it is given up; never sent again by push. Leaving a group or a room goes through the
SDK's typed ``AsyncMessagingApi``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import urllib.request
from typing import Any

import aiohttp
from linebot.v3.messaging import ApiException, AsyncApiClient, AsyncMessagingApi, Configuration

from bot.channels.delivery import RetryPolicy
from bot.metrics import ReachMetrics

__all__ = ["DEFAULT_API", "LineApi"]

DEFAULT_API = "https://api.line.me"
REPLY_PATH = "/v2/bot/message/reply"
log = logging.getLogger(__name__)
# A reply token is good once and not for long: a failed reply is tried again within about a second (three tries
# when LINE answers at once), never for minutes as a Telegram reply is.
REPLY_RETRY = RetryPolicy(budget=1.0, backoff=0.25, max_delay=2.0)


class LineApi:
    """One SDK client (one aiohttp session) per process."""

    def __init__(self, access_token: str, base: str | None = None, timeout: float = 10.0,
                 retry: RetryPolicy = REPLY_RETRY, metrics: ReachMetrics | None = None) -> None:
        self.configuration = Configuration(host=base.rstrip("/") if base else None, access_token=access_token)
        self.configuration.proxy = urllib.request.getproxies().get("https") if not base else None
        self.client = AsyncApiClient(self.configuration)
        rest = self.client.rest_client
        self._sdk_session = rest.pool_manager  # owns the connector (and its TLS context); closed last
        rest.pool_manager = aiohttp.ClientSession(connector=self._sdk_session.connector, connector_owner=False,
                                                  trust_env=False)
        self.api = AsyncMessagingApi(self.client)
        self.reply_url = (self.configuration.host or DEFAULT_API) + REPLY_PATH
        self.headers = {"Accept": "application/json", "Content-Type": "application/json",
                        "User-Agent": self.client.user_agent, "Authorization": f"Bearer {access_token}"}
        self.timeout = timeout
        self.retry = retry
        self.metrics = metrics

    async def close(self) -> None:
        await self.client.close()
        await self._sdk_session.close()

    async def _with_retries(self, name: str, call: Any) -> bool:
        attempt, started = 0, time.monotonic()
        while True:
            attempt += 1
            try:
                await call()
                return True
            except ApiException as error:
                status = error.status or 0
                delay = self.retry.wait(attempt, started) if status == 429 or status >= 500 else None
                failure = f"HTTP {status}"
            except (TimeoutError, aiohttp.ClientError, ValueError) as error:  # reset, timeout, unreadable
                delay, failure = self.retry.wait(attempt, started), type(error).__name__
            if delay is None:
                log.warning("line: %s failed: %s", name, failure)  # never the token, the body or an id
                if self.metrics is not None:
                    self.metrics.error("delivery_failure")
                return False
            log.info("line: %s retried in %.2f s", name, delay)
            await asyncio.sleep(delay)

    async def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> bool:
        """Reply to one event; False when LINE refused it (e.g. the token expired) or retries ran out."""
        body = {"replyToken": reply_token, "messages": messages}

        async def call() -> None:
            await self.client.rest_client.post_request(self.reply_url, headers=dict(self.headers), body=body,
                                                       _request_timeout=self.timeout)

        return await self._with_retries("reply", call)

    async def leave(self, chat: tuple[str, str]) -> bool:
        """Leave a group or a room (``("group", id)`` or ``("room", id)``)."""
        kind, chat_id = chat
        leave = self.api.leave_group if kind == "group" else self.api.leave_room

        async def call() -> None:
            await leave(chat_id, _request_timeout=self.timeout)

        return await self._with_retries(f"leave {kind}", call)
