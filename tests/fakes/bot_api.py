"""A fake Telegram Bot API server on 127.0.0.1 (aiohttp, random free port), for real HTTP in tests.

It serves ``getUpdates`` from scripted updates (long polling), answers every method with a plausible
result, records every request (validated against the spec by ``bot_api_spec``), and can fail the next
calls of a method with 429 ``retry_after`` or a 5xx (``fail``), or with a broken connection (``fault``):
a timeout (held, then dropped), a connection reset, or a cut-off JSON answer; or it can carry a call out and
answer too late (``fault(..., "slow")``), or fail every call for a while (``outage``). A failed call is recorded
with its ``fault``; ``delivered`` lists the calls that were carried out, i.e. what a user would see.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.bot_api_spec import decode_form, validate

__all__ = ["BOT_ID", "BOT_USERNAME", "FAULTS", "SENDING", "TOKEN", "FakeBotAPI", "Request"]

TOKEN = "123456789:AAH-fake-token-for-tests-only_0123456"
BOT_ID = 123456789
BOT_USERNAME = "anshin_test_bot"
FAULTS = ("timeout", "reset", "malformed", "slow")  # what ``fault`` can do besides an HTTP error status
SENDING = frozenset({"sendMessage", "editMessageText", "answerCallbackQuery"})  # what a user sees


@dataclass
class Request:
    method: str
    params: dict[str, Any]
    problems: list[str]
    token: str
    fault: str | None = None  # "429", "500", "timeout", ...: this call failed and delivered nothing
    body: str = "form"  # how the parameters came: "json" (application/json) or "form"


@dataclass
class FakeBotAPI:
    requests: list[Request] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)  # the fake's own failures: a broken test setup, not the bot
    base: str = ""
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _failures: dict[str, list[tuple[int | str, float | None]]] = field(default_factory=dict)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))
    _outages: list[tuple[float, tuple[str, ...], frozenset[str], int]] = field(default_factory=list)
    _outage_calls: itertools.count[int] = field(default_factory=itertools.count)

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        self._arrived.set()  # wake a pending long poll so the server shuts down at once
        if self._runner is not None:
            await self._runner.cleanup()

    # scripting ---------------------------------------------------------------------------------
    def push(self, *updates: dict[str, Any]) -> None:
        """Queue updates for getUpdates."""
        self._updates.extend(updates)
        self._arrived.set()

    def fail(self, method: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """The next ``times`` calls of ``method`` fail with ``status`` (429 with ``retry_after``)."""
        self._failures.setdefault(method, []).extend([(status, retry_after)] * times)

    def fault(self, method: str, kind: str, times: int = 1, hold: float = 1.0) -> None:
        """The next ``times`` calls of ``method`` fail without an answer: ``timeout`` holds the request for
        ``hold`` seconds and then drops the connection, ``reset`` drops it at once, ``malformed`` answers
        502 with a cut-off JSON body (a proxy in front of the Bot API). None of them delivers anything, except
        ``slow``: the call is carried out (a user sees the message) and answered only after ``hold`` seconds."""
        assert kind in FAULTS, kind
        self._failures.setdefault(method, []).extend([(kind, hold)] * times)

    def outage(self, seconds: float, methods: frozenset[str] = SENDING,
               kinds: tuple[str, ...] = ("500", "reset", "502", "429"), retry_after: int = 60) -> None:
        """For ``seconds`` from now every call of ``methods`` fails, in turn with each of ``kinds``: an HTTP
        status (429 with ``retry_after``) or a fault of ``FAULTS``."""
        self._outages.append((time.monotonic() + seconds, kinds, frozenset(methods), retry_after))

    def delivered(self, *methods: str) -> list[Request]:
        """Calls that were carried out: each is a message a user sees."""
        return [r for r in self.calls(*methods) if r.fault is None or r.fault == "slow"]

    def calls(self, *methods: str) -> list[Request]:
        return [r for r in self.requests if r.method in methods]

    def problems(self) -> list[str]:
        return [*(f"fake Bot API failed: {c}" for c in self.crashes),
                *(f"{r.method}: {p}" for r in self.requests for p in r.problems)]

    def pending(self) -> int:
        return len(self._updates)

    async def wait_for(self, method: str, count: int, timeout: float = 5.0) -> list[Request]:
        deadline = time.monotonic() + timeout
        while len(self.calls(method)) < count:
            if self.crashes:
                raise AssertionError(f"the fake Bot API failed: {self.crashes[0]}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} called {len(self.calls(method))} times, expected {count}")
            await asyncio.sleep(0.01)
        return self.calls(method)

    # serving -----------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.Response:
        """Answer as the Bot API would; if the fake itself fails (a bug, a missing spec), record why and answer
        500, so that waiting tests fail at once naming the cause (``wait_for``, the harness's waits)."""
        try:
            return await self._answer(request)
        except ConnectionError:  # the client hung up (a long poll cut short at shutdown): not the fake's failure
            return web.Response(status=499)
        except Exception as error:
            self.crashes.append(f"{request.match_info['method']}: {type(error).__name__}: {error}")
            return web.json_response({"ok": False, "error_code": 500, "description": "fake Bot API failed"},
                                     status=500)

    async def _answer(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.content_type == "application/json":
            # As the Bot API reads a JSON body: values keep their JSON types, so an object sent as a string
            # of JSON is a wrong type here, not something to decode.
            data = json.loads(await request.text())
            params = data if isinstance(data, dict) else {"(body)": data}
        else:
            params = decode_form(method, {k: v for k, v in (await request.post()).items() if isinstance(v, str)})
        body = "json" if request.content_type == "application/json" else "form"
        record = Request(method, params, validate(method, params), request.match_info["token"], body=body)
        self.requests.append(record)
        for until, kinds, methods, retry_after in self._outages:
            if method in methods and time.monotonic() < until:
                kind = kinds[next(self._outage_calls) % len(kinds)]
                record.fault = kind
                if kind in FAULTS:
                    return await self._broken(request, kind, 0.2, method, params)
                return self._error(int(kind), retry_after if kind == "429" else None)
        failures = self._failures.get(method)
        if failures and isinstance(failures[0][0], str):
            kind, hold = failures.pop(0)
            record.fault = str(kind)
            return await self._broken(request, str(kind), hold or 0.0, method, params)
        if failures:
            status, retry_after = failures.pop(0)
            assert isinstance(status, int)
            record.fault = str(status)
            return self._error(status, retry_after)
        if method == "getUpdates":
            return web.json_response({"ok": True, "result": await self._get_updates(params)})
        return web.json_response({"ok": True, "result": self._result(method, params)})

    @staticmethod
    def _error(status: int, retry_after: float | None) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": _DESCRIPTIONS.get(status, "Error")}
        if retry_after is not None:
            body["parameters"] = {"retry_after": int(retry_after)}
        return web.json_response(body, status=status)

    async def _broken(self, request: web.Request, kind: str, hold: float, method: str,
                      params: dict[str, Any]) -> web.Response:
        if kind == "slow":  # carried out now, answered late: the client may give up first
            result = self._result(method, params)
            await asyncio.sleep(hold)
            return web.json_response({"ok": True, "result": result})
        if kind == "malformed":
            cut = '{"ok": true, "result": {"message_id": 12'
            return web.Response(status=502, text=cut, content_type="application/json")
        if kind == "timeout":
            await asyncio.sleep(hold)
        if request.transport is not None:
            request.transport.abort()  # no status line at all: the client sees the connection go
        return web.Response(status=504)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        if isinstance(offset, int):
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._arrived.clear()
            timeout = min(float(params.get("timeout", 0) or 0), 1.0)
            try:
                await asyncio.wait_for(self._arrived.wait(), timeout)
            except TimeoutError:
                return []
        return self._updates[:100]

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "Anshin", "username": BOT_USERNAME,
                    "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
        if method in ("sendMessage", "editMessageText"):
            chat_id = params.get("chat_id", 1)
            message: dict[str, Any] = {
                "message_id": params.get("message_id") or next(self._ids), "date": int(time.time()),
                "chat": {"id": chat_id if isinstance(chat_id, int) else 1, "type": "private", "first_name": "U"},
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Anshin", "username": BOT_USERNAME},
                "text": params.get("text", ""),
            }
            if "reply_markup" in params:
                message["reply_markup"] = params["reply_markup"]
            return message
        if method == "getWebhookInfo":
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        return True


_DESCRIPTIONS = {429: "Too Many Requests: retry after 1", 500: "Internal Server Error",
                 502: "Bad Gateway", 400: "Bad Request: message is not modified"}
