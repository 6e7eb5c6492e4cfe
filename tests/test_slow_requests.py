"""Slow or half-sent requests are timed out on every server Anshin exposes (the web chat, the Telegram webhook on each
library, and LINE's): a connection that sends nothing, part of a request line, part of its headers, or half a body,
and an idle keep-alive connection, are all closed within seconds (they stayed open for good: 2,000 of them held 24
MiB). Each kind is opened against each server at once, with the production timeouts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest

from bot.channels.server import BODY_TIMEOUT, IDLE_TIMEOUT, LINGER
from bot.channels.web.app import create_app, start_web
from bot.engine import Engine
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.harness import HARNESSES, SECRET
from tests.fakes.line_api import FakeLineAPI
from tests.fakes.line_harness import LineHarness

HEADER = "X-Telegram-Bot-Api-Secret-Token"
SLACK = 2.5  # the event loop's timer resolution and a busy machine


@pytest.fixture
async def servers(api: FakeBotAPI, fixture_engine: Engine) -> AsyncIterator[dict[str, tuple[str, int, str]]]:
    """name -> (host, port, path to POST to, with its secret header line)."""
    runner, port = await start_web(create_app(fixture_engine))
    hooks = [HARNESSES[name](api, fixture_engine) for name in ("aiogram-webhook", "ptb-webhook")]
    for hook in hooks:
        await hook.start()
    found = {"web chat": ("127.0.0.1", port, "/api/event\r\nContent-Type: application/json")}
    for name, hook in zip(("aiogram webhook", "ptb webhook"), hooks, strict=True):
        parts = urlsplit(hook.url)  # type: ignore[attr-defined]
        found[name] = (str(parts.hostname), int(parts.port or 0), f"{parts.path}\r\n{HEADER}: {SECRET}")
    line_api = FakeLineAPI()
    await line_api.start()
    line = LineHarness(line_api, fixture_engine)
    await line.start()
    parts = urlsplit(line.url)
    found["line webhook"] = (str(parts.hostname), int(parts.port or 0), f"{parts.path}\r\nX-Line-Signature: x")
    try:
        yield found
    finally:
        await line.stop()
        await line_api.stop()
        for hook in hooks:
            await hook.stop()
        await runner.cleanup()


def sends(path_and_headers: str) -> dict[str, bytes]:
    path, extra = path_and_headers.split("\r\n", 1)
    head = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode()
    return {
        "nothing": b"",
        "part of a request line": b"POST /api/ev",
        "part of the headers": head + b"X-Padding: aaaa",
        "half a body": head + b"Content-Length: 100\r\n\r\n" + b'{"start": "',
    }


async def closed_after(host: str, port: int, data: bytes, keep_alive: bytes | None = None) -> tuple[float, bytes]:
    """Open a connection, send ``data`` (or a whole request, ``keep_alive``, and then nothing), and wait until the
    server closes it: the seconds it took and what came back."""
    reader, writer = await asyncio.open_connection(host, port)
    began = time.monotonic()
    try:
        writer.write(keep_alive or data)
        await writer.drain()
        if keep_alive is not None:
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            began = time.monotonic()  # idle from the end of the answer
        received = await asyncio.wait_for(reader.read(), IDLE_TIMEOUT + BODY_TIMEOUT + LINGER + 10)
        return time.monotonic() - began, received
    finally:
        writer.close()


async def test_slow_and_half_sent_requests_are_closed_within_seconds(
        servers: dict[str, tuple[str, int, str]]) -> None:
    checks: list[tuple[str, str, asyncio.Task[tuple[float, bytes]]]] = []
    for name, (host, port, path) in servers.items():
        for kind, data in sends(path).items():
            checks.append((name, kind, asyncio.create_task(closed_after(host, port, data))))
        keep_alive = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" if name != "web chat" else \
            b"GET /api/ui HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        checks.append((name, "idle keep-alive", asyncio.create_task(closed_after(host, port, b"", keep_alive))))
    results = {(name, kind): await task for name, kind, task in checks}
    report = {f"{name}: {kind}": f"{took:.1f} s" for (name, kind), (took, _) in results.items()}
    print("\nclosed after:", report)
    for (name, kind), (took, received) in results.items():
        if kind == "half a body":
            assert took < BODY_TIMEOUT + LINGER + SLACK, (name, kind, took)
            assert received.startswith(b"HTTP/1.1 408"), (name, received[:80])
        else:
            assert took < IDLE_TIMEOUT + SLACK, (name, kind, took)
            assert b"Traceback" not in received and b"POST /api/ev" not in received


def test_the_timeouts_are_short() -> None:
    """What the issue asked for: a header and body read timeout and a short keep-alive."""
    assert IDLE_TIMEOUT <= 10 and BODY_TIMEOUT <= 15 and LINGER <= 5
