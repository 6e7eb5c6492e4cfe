"""A fake LINE Messaging API on 127.0.0.1 (aiohttp, random free port), for real HTTP in tests.

Every request is recorded with the operation it is for (``replyMessage``, ``leaveGroup``, ``createRichMenu``...)
and checked against messaging-api.yml (``line_spec``), plus the limits LINE documents that the file does not
encode (a quick reply's label at most 20 characters, a text at most 5000). It answers as LINE does: a reply gets
``{"sentMessages": [...]}`` (line-bot-sdk 3.27 refuses ``{}``), a reply token is good once; the rich menu calls
keep their menus, images, aliases and default in memory. ``fail`` makes the next calls of an operation answer
with an HTTP error, ``fault`` with a timeout or a dropped connection.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.line_spec import operation, validate_request

__all__ = ["ACCESS_TOKEN", "FakeLineAPI", "LineCall"]

ACCESS_TOKEN = "fake-line-channel-access-token/for+tests=only_0123456789"
MAX_LABEL = 20  # LINE's documentation: quick reply and template action labels
MAX_TEXT = 5000  # LINE's documentation: text message


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def documented_limits(body: Any) -> list[str]:
    """LINE's documented limits that messaging-api.yml leaves out, for the messages of a reply."""
    problems: list[str] = []
    messages = body.get("messages") if isinstance(body, dict) else None
    for n, message in enumerate(messages if isinstance(messages, list) else []):
        if not isinstance(message, dict):
            continue
        text = message.get("text")
        if isinstance(text, str) and not 1 <= _length(text) <= MAX_TEXT:
            problems.append(f"messages[{n}].text: {_length(text)} characters, must be 1-{MAX_TEXT}")
        items = (message.get("quickReply") or {}).get("items") or []
        for i, item in enumerate(items if isinstance(items, list) else []):
            label = (item.get("action") or {}).get("label") if isinstance(item, dict) else None
            if not isinstance(label, str) or not 1 <= _length(label) <= MAX_LABEL:
                problems.append(f"messages[{n}].quickReply.items[{i}].action.label: {label!r} must be 1-{MAX_LABEL}"
                                " characters")
    return problems


@dataclass
class LineCall:
    method: str
    path: str
    operation: str  # operationId from messaging-api.yml, or "" for a request no operation matches
    body: Any
    problems: list[str]
    token: str  # the bearer token the call carried
    fault: str | None = None  # "400", "500", "timeout", "reset": this call failed and delivered nothing


@dataclass
class FakeLineAPI:
    calls: list[LineCall] = field(default_factory=list)
    base: str = ""
    menus: dict[str, dict[str, Any]] = field(default_factory=dict)
    images: dict[str, bytes] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    default_menu: str | None = None
    _used_tokens: set[str] = field(default_factory=set)
    _failures: dict[str, list[tuple[str, float]]] = field(default_factory=dict)
    _runner: web.AppRunner | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def start(self) -> str:
        app = web.Application(client_max_size=8 << 20)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # scripting -----------------------------------------------------------------------------------------------
    def fail(self, operation_id: str, status: int, times: int = 1) -> None:
        """The next ``times`` calls of the operation answer ``status`` (e.g. 400: an expired reply token)."""
        self._failures.setdefault(operation_id, []).extend([(str(status), 0.0)] * times)

    def fault(self, operation_id: str, kind: str, times: int = 1, hold: float = 1.0) -> None:
        """The next calls fail without an answer: ``timeout`` holds the request ``hold`` seconds and drops the
        connection, ``reset`` drops it at once."""
        assert kind in ("timeout", "reset"), kind
        self._failures.setdefault(operation_id, []).extend([(kind, hold)] * times)

    def of(self, *operations: str) -> list[LineCall]:
        return [c for c in self.calls if c.operation in operations]

    def delivered(self, *operations: str) -> list[LineCall]:
        return [c for c in self.of(*operations) if c.fault is None]

    def replies(self) -> list[LineCall]:
        """Replies that reached a user."""
        return self.delivered("replyMessage")

    def problems(self) -> list[str]:
        return [f"{c.method} {c.path}: {p}" for c in self.calls for p in c.problems]

    async def wait_for(self, operation_id: str, count: int, timeout: float = 10.0) -> list[LineCall]:
        deadline = time.monotonic() + timeout
        while len(self.of(operation_id)) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{operation_id} called {len(self.of(operation_id))} times, expected {count}")
            await asyncio.sleep(0.01)
        return self.of(operation_id)

    # serving --------------------------------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path, method = request.path, request.method
        found = operation(method, path)
        raw = await request.read()
        body: Any = None
        problems: list[str] = []
        if request.content_type == "application/json" and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                problems.append("body is not JSON")
        if found is None or found.body_schema() is not None or not raw:
            problems.extend(validate_request(method, path, body))
        if found is not None and found.id == "replyMessage":
            problems.extend(documented_limits(body))
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer "):
            problems.append("no bearer token")
        call = LineCall(method, path, found.id if found else "", body, problems, auth.removeprefix("Bearer "))
        self.calls.append(call)
        failures = self._failures.get(call.operation)
        if failures:
            kind, hold = failures.pop(0)
            call.fault = kind
            if kind.isdigit():
                return web.json_response({"message": "The request failed (fake)"}, status=int(kind))
            if kind == "timeout":
                await asyncio.sleep(hold)
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=504)
        return self._answer(call, raw, request)

    def _answer(self, call: LineCall, raw: bytes, request: web.Request) -> web.Response:
        op, parts = call.operation, call.path.strip("/").split("/")
        if op == "replyMessage":
            token = call.body.get("replyToken") if isinstance(call.body, dict) else None
            if not isinstance(token, str) or token in self._used_tokens:
                call.fault = "400"
                return web.json_response({"message": "Invalid reply token"}, status=400)
            self._used_tokens.add(token)
            sent = [{"id": str(next(self._ids)), "quoteToken": f"q{n}"} for n, _ in enumerate(call.body["messages"])]
            return web.json_response({"sentMessages": sent})
        if op == "createRichMenu":
            menu_id = f"richmenu-{next(self._ids):032x}"
            self.menus[menu_id] = {**call.body, "richMenuId": menu_id}
            return web.json_response({"richMenuId": menu_id})
        if op == "getRichMenuList":
            return web.json_response({"richmenus": list(self.menus.values())})
        if op == "setRichMenuImage":
            menu_id = parts[3]
            if menu_id not in self.menus or menu_id in self.images:
                call.fault = "400"
                return web.json_response({"message": "cannot upload"}, status=400)
            self.images[menu_id] = raw
            return web.json_response({})
        if op == "deleteRichMenu":
            self.menus.pop(parts[3], None)
            self.images.pop(parts[3], None)
            self.aliases = {k: v for k, v in self.aliases.items() if v != parts[3]}
            return web.json_response({})
        if op == "setDefaultRichMenu":
            if parts[5] not in self.images:
                call.fault = "400"
                return web.json_response({"message": "the rich menu has no image"}, status=400)
            self.default_menu = parts[5]
            return web.json_response({})
        if op == "getDefaultRichMenuId":
            if self.default_menu is None:
                return web.json_response({"message": "no default"}, status=404)
            return web.json_response({"richMenuId": self.default_menu})
        if op == "getRichMenuAliasList":
            return web.json_response({"aliases": [{"richMenuAliasId": k, "richMenuId": v}
                                                  for k, v in self.aliases.items()]})
        if op == "createRichMenuAlias":
            alias, menu_id = call.body.get("richMenuAliasId"), call.body.get("richMenuId")
            if alias in self.aliases or menu_id not in self.menus:
                call.fault = "400"
                return web.json_response({"message": "conflict"}, status=400)
            self.aliases[alias] = menu_id
            return web.json_response({})
        if op == "updateRichMenuAlias":
            if parts[4] not in self.aliases or call.body.get("richMenuId") not in self.menus:
                call.fault = "400"
                return web.json_response({"message": "not found"}, status=400)
            self.aliases[parts[4]] = call.body["richMenuId"]
            return web.json_response({})
        if op == "deleteRichMenuAlias":
            self.aliases.pop(parts[4], None)
            return web.json_response({})
        return web.json_response({})
