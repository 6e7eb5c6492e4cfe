"""The webhook refuses forged and broken traffic with a 4xx and no stack trace, is not held up by slow
clients, and answers a load balancer's health check. Runs on every webhook entry of ``HARNESSES``."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from bot.engine import Engine
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.harness import HARNESSES, SECRET, Harness
from tests.fakes.updates import Updates

WEBHOOKS = sorted(name for name, harness in HARNESSES.items() if getattr(harness, "webhook", False))
HEADER = "X-Telegram-Bot-Api-Secret-Token"
CHANNELS = Path(__file__).resolve().parent.parent / "bot" / "channels"



@pytest.fixture(params=WEBHOOKS)
async def hook(request: pytest.FixtureRequest, api: FakeBotAPI, fixture_engine: Engine,
               caplog: pytest.LogCaptureFixture) -> AsyncIterator[Harness]:
    caplog.set_level(logging.DEBUG)
    harness = HARNESSES[request.param](api, fixture_engine, None)
    await harness.start()
    yield harness
    await harness.stop()
    records = caplog.get_records("call")  # (caplog.records here would be the teardown's only)
    errors = [r.getMessage() for r in records if r.exc_info or r.exc_text or r.levelno >= logging.ERROR]
    hung_up = "Error handling request from … (ConnectionResetError)"  # aiohttp: a slow client gave up; no content
    assert [e for e in errors if e != hung_up] == [], "a request made the server log an error or a traceback"


def url_of(hook: Harness) -> str:
    url = getattr(hook, "url", None)
    assert isinstance(url, str), "a webhook harness exposes the URL it serves"
    return url


async def request(method: str, url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> tuple[int, str]:
    async with aiohttp.ClientSession() as client, client.request(method, url, data=body, headers=headers) as r:
        return r.status, await r.text()


def assert_no_trace(text: str) -> None:
    assert "Traceback" not in text and 'File "' not in text and "Error:" not in text, text[:300]


async def raw_exchange(url: str, head: bytes, body: bytes = b"") -> bytes:
    """Send bytes as they are (headers aiohttp's client would refuse) and read the status line."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head + body)
        await writer.drain()
        return await asyncio.wait_for(reader.readline(), 5)
    finally:
        writer.close()


def test_the_secret_is_compared_in_constant_time() -> None:
    """Wherever the secret header is checked, the comparison is hmac.compare_digest, never ``==``."""
    checks = 0
    for path in sorted(CHANNELS.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        if "SECRET_HEADER" not in source or "request.headers" not in source:
            continue
        checks += 1
        assert "hmac.compare_digest(" in source, path.name
        assert not re.search(r"(==|!=)\s*(secret|expected)\b|\b(secret|expected)\s*(==|!=)", source), path.name
    assert checks >= 1


async def test_a_wrong_or_missing_secret_gets_401_and_nothing_is_sent(hook: Harness) -> None:
    url, body = url_of(hook), json.dumps(Updates().text("/start")).encode()
    for headers in ({}, {HEADER: ""}, {HEADER: "wrong"}, {HEADER: SECRET[:-1]}, {HEADER: SECRET + "x"},
                    {HEADER: SECRET.upper()}, {HEADER: "x" * len(SECRET)}, {"X-Telegram-Bot-Api-Secret": SECRET}):
        status, text = await request("POST", url, body, {"Content-Type": "application/json", **headers})
        assert status == 401, headers
        assert_no_trace(text)
    assert hook.api.calls("sendMessage") == []


async def test_a_secret_header_that_is_not_ascii_gets_401(hook: Harness) -> None:
    url = url_of(hook)
    body = json.dumps(Updates().text("/start")).encode()
    path = urlsplit(url).path.encode()
    head = (b"POST " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + HEADER.encode() + b": " + "秘密".encode() + b"\xff\r\nContent-Length: " + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n")
    status_line = await raw_exchange(url, head, body)
    assert status_line.split()[1] == b"401", status_line
    assert hook.api.calls("sendMessage") == []


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_another_method_gets_405(hook: Harness, method: str) -> None:
    status, text = await request(method, url_of(hook), b"{}", {HEADER: SECRET})
    assert status == 405
    assert_no_trace(text)


BAD_BODIES = {
    "not json": b"this is not JSON",
    "not utf-8": b'{"update_id": 1, "message": "\xff\xfe"}',
    "empty": b"",
    "truncated": b'{"update_id": 1, "message": {',
    "nested too deeply": b"[" * 200_000 + b"]" * 200_000,
    "an array": b"[1, 2, 3]",
    "a string": b'"update"',
    "null": b"null",
    "no update_id": b'{"message": {"text": "hi"}}',
    "update_id a string": b'{"update_id": "17", "message": {}}',
    "update_id a float": b'{"update_id": 17.5}',
    "update_id true": b'{"update_id": true}',
    "a 5,000-digit number": b'{"update_id": 1' + b"1" * 5000 + b"}",  # int() refuses past 4,300: a ValueError
    "a 25-digit chat id": b'{"update_id": 7, "message": {"message_id": 1, "date": 1, "chat": {"id": 1'
                          + b"0" * 24 + b', "type": "private"}, "text": "/start"}}',
}


@pytest.mark.parametrize("kind", sorted(BAD_BODIES))
async def test_a_body_that_is_not_an_update_gets_400(hook: Harness, kind: str) -> None:
    status, text = await request("POST", url_of(hook), BAD_BODIES[kind],
                                 {HEADER: SECRET, "Content-Type": "application/json"})
    assert status == 400, kind
    assert_no_trace(text)
    assert hook.api.calls("sendMessage") == []


async def test_an_update_we_cannot_read_gets_200_so_telegram_does_not_resend_it(hook: Harness) -> None:
    for body in (b'{"update_id": 5, "message": 5}', b'{"update_id": 6, "message": {"chat": "x"}}',
                 b'{"update_id": 7}', b'{"update_id": 8, "callback_query": []}'):
        status, text = await request("POST", url_of(hook), body, {HEADER: SECRET})
        assert status == 200, body
        assert_no_trace(text)


@pytest.mark.parametrize("date", [2**62, -(2**62), 2**64, 253_402_300_800])
async def test_an_update_dated_out_of_range_gets_200_and_no_error(hook: Harness, date: int) -> None:
    """Found by fuzzing: a date past year 9999 made python-telegram-bot raise OSError/OverflowError."""
    update = Updates().text("/start")
    update["message"]["date"] = date
    status, text = await request("POST", url_of(hook), json.dumps(update).encode(), {HEADER: SECRET})
    assert status == 200
    assert_no_trace(text)


async def test_a_body_over_one_mebibyte_gets_413_and_one_just_under_is_handled(hook: Harness) -> None:
    update = Updates().text("/start")
    padded = json.dumps(update).encode()
    filler = (1 << 20) - len(padded) - 64
    under = json.dumps({**update, "padding": "x" * filler}).encode()
    over = json.dumps({**update, "padding": "x" * (filler + 200)}).encode()
    assert len(under) < 1 << 20 < len(over)
    status, text = await request("POST", url_of(hook), over, {HEADER: SECRET})
    assert status == 413
    assert_no_trace(text)
    assert hook.api.calls("sendMessage") == []

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit holds while reading
        for start in range(0, len(over), 65536):
            yield over[start:start + 65536]

    async with aiohttp.ClientSession() as client, client.post(url_of(hook), data=chunks(),
                                                              headers={HEADER: SECRET}) as response:
        assert response.status == 413
    status, _ = await request("POST", url_of(hook), under, {HEADER: SECRET})
    assert status == 200 and len(hook.api.calls("sendMessage")) == 1


async def test_the_health_endpoint_answers_a_load_balancer(hook: Harness) -> None:
    base = url_of(hook).rsplit("/", 2)[0]
    assert await request("GET", f"{base}/healthz") == (200, "ok")
    status, _ = await request("HEAD", f"{base}/healthz")
    assert status == 200
    status, _ = await request("POST", f"{base}/healthz", b"{}")
    assert status == 405
    assert hook.api.requests == [r for r in hook.api.requests if r.method in ("getMe", "setWebhook")]


async def test_slow_clients_do_not_hold_up_the_others(hook: Harness) -> None:
    """Slow-loris: connections that trickle their headers (or body) a byte at a time, while Telegram posts."""
    url = url_of(hook)
    parts = urlsplit(url)
    head = (f"POST {parts.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{HEADER}: {SECRET}\r\n"
            f"Content-Type: application/json\r\nContent-Length: 4096\r\nX-Padding: ").encode()
    stop = asyncio.Event()
    trickled = [0]

    async def loris(headers_too: bool) -> None:
        _, writer = await asyncio.open_connection(parts.hostname, parts.port)
        try:
            data = head if headers_too else head + b"x\r\n\r\n{"
            if not headers_too:
                writer.write(data)  # headers whole, then the body a byte at a time
            for n in range(10_000):
                if stop.is_set():
                    return
                writer.write(data[n % len(data):n % len(data) + 1] if headers_too else b" ")
                await writer.drain()
                trickled[0] += 1
                await asyncio.sleep(0.05)
        except ConnectionError:
            return
        finally:
            writer.close()

    slow = [asyncio.create_task(loris(headers_too=n % 2 == 0)) for n in range(40)]
    await asyncio.sleep(0.5)
    latencies: list[float] = []
    async with aiohttp.ClientSession() as client:
        for n in range(60):
            update = Updates(user_id=7_000_000 + n, start_id=n * 10).text("/help")
            began = time.monotonic()
            async with client.post(url, json=update, headers={HEADER: SECRET}) as response:
                assert response.status == 200
            latencies.append(time.monotonic() - began)
    stop.set()
    await asyncio.wait_for(asyncio.gather(*slow), 10)
    assert trickled[0] > 200, "the slow clients were still trickling"
    assert len(hook.api.calls("sendMessage")) == 60
    assert max(latencies) < 1.0, f"slowest normal request {max(latencies):.2f} s"


@pytest.mark.parametrize(("encoding", "body"), [
    ("gzip", gzip.compress(b'{"update_id": 1}')[:10] + b"\x00" * 12), ("deflate", b"not deflate"),
    ("gzip", b'{"update_id": 1}'), ("br", b"\x00\x01")])
async def test_a_body_that_does_not_decode_gets_400_and_no_error_line(hook: Harness, encoding: str,
                                                                     body: bytes) -> None:
    """A corrupt gzip gave aiohttp's 500 and two ERROR lines (the hook fixture fails on any ERROR line)."""
    status, text = await request("POST", url_of(hook), body, {HEADER: SECRET, "Content-Type": "application/json",
                                                              "Content-Encoding": encoding})
    assert status == 400, text
    assert_no_trace(text)
    assert hook.api.calls("sendMessage") == []


async def test_aiohttps_own_parse_errors_are_short_json_with_no_echo(hook: Harness) -> None:
    status_line = await raw_exchange(url_of(hook), b"ZQX /<svg/onload=alert(1)> HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status_line.split()[1] == b"400"
    parts = urlsplit(url_of(hook))
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(b"ZQX /<svg/onload=alert(1)> HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = await asyncio.wait_for(reader.read(), 5)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"application/json" in head and b"nosniff" in head and json.loads(body) == {"error": "bad request"}
    assert b"svg" not in answer
