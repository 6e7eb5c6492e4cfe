"""The web chat's HTTP side against a real server on 127.0.0.1: same answers as the simulator,
kind 4xx JSON for bad input, security headers, and logs that hold nothing from requests."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
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
