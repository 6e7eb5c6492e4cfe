"""The web chat's HTTP side against a real server on 127.0.0.1: same answers as the simulator,
kind 4xx JSON for bad input, security headers, and logs that hold nothing from requests."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from aiohttp import ClientSession

from bot.channels.protocol import answer_line
from bot.channels.web.app import Limits, create_app, html_lang, start_web
from bot.channels.web.guard import RateLimiter
from bot.engine import Engine

CANARY = "CANARY-ひみつ-4711"
JSON = {"Content-Type": "application/json"}


class Server:
    def __init__(self, url: str, session: ClientSession) -> None:
        self.url = url
        self.session = session

    async def post(self, body: bytes | str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
        async with self.session.post(self.url + "/api/event", data=body, headers=headers or JSON) as response:
            return response.status, await response.json(content_type=None), response.headers

    async def event(self, event: dict[str, str]) -> tuple[int, Any]:
        status, answer, _ = await self.post(json.dumps(event, ensure_ascii=False))
        return status, answer


async def serve(engine: Engine, limits: Limits | None = None) -> AsyncIterator[Server]:
    runner, port = await start_web(create_app(engine, limits), "127.0.0.1", 0)
    try:
        async with ClientSession() as session:
            yield Server(f"http://127.0.0.1:{port}", session)
    finally:
        await runner.cleanup()


@pytest.fixture
async def server(fixture_engine: Engine) -> AsyncIterator[Server]:
    async for running in serve(fixture_engine):
        yield running


EVENTS = [
    {"start": ""}, {"start": "p-en-spring2027"}, {"press": "1:ja:x:start.menu:teen.menu"},
    {"press": "1:en:t:teen.menu:meet"}, {"command": "help", "lang": "en-US"}, {"media": "photo"},
    {"text": "こんにちは"}, {"press": "1:ja:t:teen.menu:no_such_trigger"},
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: next(iter(e)))
async def test_the_endpoint_answers_like_the_simulator(server: Server, fixture_engine: Engine,
                                                       event: dict[str, str]) -> None:
    status, answer = await server.event(event)
    assert status == 200
    assert answer == answer_line(fixture_engine, json.dumps(event))


@pytest.mark.parametrize("forged", ["", "1:ja", "garbage", "1:xx:t:teen.menu:meet", "9:ja:t:teen.menu:meet",
                                    "1:ja:t:no.such:meet", "1:ja:t:teen.menu:" + "x" * 500])
async def test_forged_ids_get_the_outdated_screen(server: Server, fixture_engine: Engine, forged: str) -> None:
    status, answer = await server.event({"press": forged})
    outdated = fixture_engine.content.catalogs.gettext("ja", "start.outdated")
    assert status == 200
    assert answer["replies"][0]["text"].startswith(outdated)
    assert answer["replies"][0]["referrals"], "even the outdated screen names a human service"


@pytest.mark.parametrize("body", [b"{bad", b"[]", b'"start"', b"{}", b'{"start": 1}', b'{"press": "a", "text": "b"}',
                                  b'{"command": "rm"}', b'{"wat": ""}', b"", b"\xff\xfe", b"[" * 10_000])
async def test_bad_events_get_a_400_json_error(server: Server, body: bytes) -> None:
    status, answer, headers = await server.post(body)
    assert status == 400
    assert set(answer) == {"error"} and answer["error"]
    assert headers["Content-Type"].startswith("application/json")
    assert "Traceback" not in answer["error"]


async def test_a_huge_body_is_refused_with_413(server: Server) -> None:
    status, answer, _ = await server.post(json.dumps({"text": "あ" * 200_000}))
    assert (status, answer) == (413, {"error": "request body too large"})


async def test_a_long_message_within_the_limit_is_answered(server: Server) -> None:
    status, answer = await server.event({"text": "あ" * 5000})
    assert status == 200 and answer["replies"]


async def test_wrong_methods_and_paths_get_json(server: Server) -> None:
    session = server.session
    for method, path, expected in [("GET", "/api/event", 405), ("PUT", "/api/event", 405),
                                   ("DELETE", "/", 405), ("POST", "/", 405), ("GET", "/nope", 404),
                                   ("GET", "/../../etc/passwd", 404), ("POST", "/api/ui", 405)]:
        async with session.request(method, server.url + path) as response:
            assert response.status == expected, (method, path)
            assert response.headers["Content-Type"].startswith("application/json")
            assert set(await response.json()) == {"error"}


async def test_a_body_that_is_not_json_typed_gets_415(server: Server) -> None:
    status, answer, _ = await server.post('{"start": ""}', {"Content-Type": "text/plain"})
    assert status == 415 and "application/json" in answer["error"]


async def test_every_response_carries_the_security_headers(server: Server) -> None:
    for method, path in [("GET", "/"), ("GET", "/app.js"), ("GET", "/app.css"), ("GET", "/api/ui"),
                         ("GET", "/nope"), ("GET", "/api/event")]:
        async with server.session.request(method, server.url + path) as response:
            headers = response.headers
            csp = headers["Content-Security-Policy"]
            assert "default-src 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["Referrer-Policy"] == "no-referrer"
            assert headers["Cache-Control"] == "no-store"


async def test_the_page_has_no_inline_script_and_no_external_resource(server: Server) -> None:
    async with server.session.get(server.url + "/") as response:
        html = await response.text()
    assert '<script src="app.js" defer></script>' in html
    assert html.count("<script") == 1 and " on" + "click=" not in html and "style=" not in html
    assert "http://" not in html and "https://" not in html
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"


async def test_the_page_texts_come_from_the_catalogues(server: Server, fixture_engine: Engine) -> None:
    for asked, locale in [("ja", "ja"), ("en-US", "en"), ("fr", "ja"), ("x" * 500, "ja")]:
        async with server.session.get(server.url + "/api/ui", params={"lang": asked}) as response:
            ui = await response.json()
        assert ui["lang"] == locale
        assert ui["texts"]["quick_exit"] == fixture_engine.content.catalogs.gettext(locale, "web.quick_exit")
        assert all(not text.startswith("web.") for text in ui["texts"].values()), "every page text translated"
        assert [entry["code"] for entry in ui["locales"]] == ["ja", "en"]
        assert ui["exit_url"].startswith("https://")


async def test_too_many_requests_get_429_with_retry_after(fixture_engine: Engine) -> None:
    async for running in serve(fixture_engine, Limits(burst=5, per_second=0.5)):
        statuses = [(await running.event({"start": ""}))[0] for _ in range(8)]
        assert statuses == [200] * 5 + [429] * 3
        _, answer, headers = await running.post('{"start": ""}')
        assert int(headers["Retry-After"]) >= 1 and "wait" in answer["error"]
        async with running.session.get(running.url + "/") as page:
            assert page.status == 200, "the page itself is not rate limited"


def test_the_rate_limiter_forgets_idle_clients_and_keeps_no_addresses() -> None:
    now = [0.0]
    limiter = RateLimiter(Limits(burst=2, per_second=1.0, max_clients=3), clock=lambda: now[0])
    for i in range(10):
        assert limiter.allow(f"192.0.2.{i}") == 0
    assert len(limiter) <= 4
    assert not any(b"192.0.2" in key for key in limiter._buckets)
    assert limiter.allow("192.0.2.9") == 0 and limiter.allow("192.0.2.9") > 0
    now[0] += 5
    assert limiter.allow("192.0.2.9") == 0


async def test_nothing_from_a_request_reaches_the_logs(fixture_engine: Engine,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async for running in serve(fixture_engine):
        url = running.url
        await running.event({"text": CANARY})
        await running.post("{" + CANARY)
        await running.post(json.dumps({"text": CANARY * 20_000}))
        await running.event({"press": CANARY})
        async with running.session.get(f"{url}/{CANARY}?q={CANARY}", headers={"User-Agent": CANARY}) as r:
            assert r.status == 404
        async with running.session.get(f"{url}/api/ui?lang={CANARY}") as r:
            assert r.status == 200
        reader, writer = await asyncio.open_connection("127.0.0.1", int(url.rsplit(":", 1)[1]))
        writer.write(f"GARBAGE {CANARY} HTTP/9\r\n\r\n".encode())
        await writer.drain()
        await reader.read()
        writer.close()
    logged = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "POST /api/event 200" in logged and "GET - 404" in logged, "the access log does run"
    assert CANARY not in logged and "CANARY" not in logged
    assert "127.0.0.1" not in logged


def test_the_log_check_can_fail(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    logging.getLogger("bot.channels.web.access").info("POST %s 200", CANARY)
    assert CANARY in "\n".join(r.getMessage() for r in caplog.records)


def test_the_static_files_are_served_from_the_package() -> None:
    from bot.channels.web import app as module

    names = {path.name for path in module.STATIC.iterdir()}
    assert {"index.html", "app.js", "app.css"} <= names


@pytest.mark.parametrize(("locale", "lang"), [("ja", "ja"), ("en", "en"), ("pt_BR", "pt-BR"), ("zh_Hans", "zh-Hans"),
                                              ("ja_Easy", "ja"), ("fil", "fil")])
def test_the_page_language_is_a_valid_html_lang(locale: str, lang: str) -> None:
    assert html_lang(locale) == lang


# --- bad encodings, huge numbers, aiohttp's own errors, an O(1) rate limiter (issue 21) --------------------------

HUGE = "1" * 5000  # past Python's 4,300-digit limit for int(): a ValueError nobody caught (500)
GZIP = gzip.compress(b'{"start": ""}')
BAD_BODIES = {
    "a 5,000-digit integer": ('{"start": "", "lang": ' + HUGE + "}").encode(),
    "a 30-digit integer": b'{"text": 1' + b"0" * 29 + b"}",
    "a negative huge integer": ('{"text": "x", "n": -' + HUGE + "}").encode(),
}
BAD_ENCODINGS = {  # Content-Encoding -> body
    "gzip": GZIP[:10] + b"\xff" * 8 + GZIP[18:], "deflate": b"not deflate at all", "br": b"\x00\x01", "zstd": b"\x00",
}


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
async def test_a_huge_number_gets_a_400_json_error(server: Server, kind: str) -> None:
    status, answer, _ = await server.post(BAD_BODIES[kind])
    assert (status, set(answer)) == (400, {"error"}), answer
    assert "number" in answer["error"] and HUGE[:50] not in answer["error"]


@pytest.mark.parametrize("encoding", sorted(BAD_ENCODINGS))
async def test_a_body_that_does_not_decode_gets_a_400_json_error_with_the_headers(server: Server,
                                                                                  encoding: str) -> None:
    status, head, body = await raw(server, b"POST /api/event HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                                   b"Content-Encoding: " + encoding.encode() + b"\r\n", BAD_ENCODINGS[encoding])
    assert status == 400, (status, body)
    assert set(json.loads(body)) == {"error"}
    assert "default-src 'none'" in head.get("content-security-policy", ""), head


@pytest.mark.parametrize("request_line", [b"ZQX /<svg/onload=alert(1)> HTTP/1.1",
                                          b"GET /<svg/onload=alert(1)> HTTP/9.9", b"GET /\x00\x01 HTTP/1.1",
                                          b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"])
async def test_aiohttps_own_parse_errors_are_short_json_with_the_security_headers(server: Server,
                                                                                  request_line: bytes) -> None:
    status, head, body = await raw(server, request_line + b"\r\nHost: x\r\n")
    assert status == 400
    assert head["content-type"].startswith("application/json") and set(json.loads(body)) == {"error"}
    assert b"svg" not in body and b"ZQX" not in body, "nothing from the request is echoed"
    assert "default-src 'none'" in head["content-security-policy"] and head["x-content-type-options"] == "nosniff"


async def raw(server: Server, head: bytes, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Bytes as they are (what aiohttp's client would refuse to send); the status, headers and body."""
    reader, writer = await asyncio.open_connection("127.0.0.1", int(server.url.rsplit(":", 1)[1]))
    try:
        length = b"Content-Length: %d\r\n" % len(body) if body else b""
        writer.write(head + length + b"Connection: close\r\n\r\n" + body)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()
    top, _, content = answer.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, content


class CountingTable(OrderedDict[bytes, tuple[float, float]]):
    """The rate limiter's table, counting every bucket anything walks past."""

    visited = 0

    def _count(self, values: Iterator[Any]) -> Iterator[Any]:
        for value in values:
            CountingTable.visited += 1
            yield value

    def __iter__(self) -> Iterator[bytes]:
        return self._count(super().__iter__())

    def items(self) -> Any:  # (lazily: taking the first costs one)
        return self._count(iter(super().items()))

    def keys(self) -> Any:
        return self._count(super().__iter__())

    def values(self) -> Any:
        return self._count(iter(super().values()))


def test_the_rate_limiter_forgets_in_constant_time() -> None:
    """With 20,000 clients tracked, each new address must not walk the table (it sorted it: 3.6 ms a request)."""
    limits = Limits()
    limiter = RateLimiter(limits, clock=lambda: 0.0)
    for n in range(limits.max_clients):
        limiter.allow(f"10.{n >> 16}.{(n >> 8) & 255}.{n & 255}")
    limiter._buckets = CountingTable(limiter._buckets)
    CountingTable.visited = 0
    for n in range(1000):
        assert limiter.allow(f"192.0.{n >> 8}.{n & 255}") == 0
    assert len(limiter) == limits.max_clients, "the oldest were forgotten"
    assert CountingTable.visited <= 2 * 1000, f"{CountingTable.visited} buckets walked for 1,000 requests"


def test_the_constant_time_check_can_fail() -> None:
    table = CountingTable({b"a": (1.0, 0.0), b"b": (1.0, 0.0)})
    CountingTable.visited = 0
    sorted(table, key=lambda c: table[c][1])
    dict(table.items())
    assert CountingTable.visited == 4
