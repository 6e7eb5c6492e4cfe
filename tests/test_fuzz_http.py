"""Fuzzing every HTTP endpoint Anshin serves (the web chat's page, files, API and counters; each webhook's path,
/healthz and /metrics: Telegram on both libraries, and LINE) with raw requests: any method, content type and
Content-Encoding (gzip, deflate, corrupt, truncated, unknown), bodies that are valid events or updates, JSON holding
numbers of up to 5,000 digits, deep nesting, bytes that are not UTF-8, or nothing.

No example may crash a server: never a 5xx, a traceback or an ERROR log line; the web chat answers every request
with its security headers and every API error as JSON. ``CI=true`` runs the ``ci`` profile (see
test_fuzz_telegram.py)."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from aiohttp import web
from hypothesis import strategies as st

from bot.channels.web.app import create_app, metrics_app, start_web
from bot.engine import Engine
from bot.metrics import ReachMetrics
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.harness import HARNESSES, SECRET, Harness
from tests.fakes.line_api import FakeLineAPI
from tests.fakes.line_events import sign
from tests.fakes.line_harness import PATH as LINE_PATH
from tests.fakes.line_harness import LineHarness
from tests.fakes.updates import Updates
from tests.test_fuzz_telegram import fuzz

HEADER = "X-Telegram-Bot-Api-Secret-Token"
HUGE = "9" * 5000


class Servers:
    """The web chat (and its counters) and both webhooks, on an event loop of their own."""

    def __init__(self, engine: Engine) -> None:
        self.loop = asyncio.new_event_loop()
        self.api = FakeBotAPI()
        self.loop.run_until_complete(self.api.start())
        metrics = ReachMetrics.for_engine(engine)
        self.runners: list[web.AppRunner] = []
        self.targets: dict[str, tuple[int, tuple[str, ...]]] = {}  # name -> (port, paths)
        for name, app, paths in (("web chat", create_app(engine, metrics=metrics),
                                  ("/", "/app.js", "/app.css", "/api/event", "/api/ui?lang=en", "/metrics")),
                                 ("web counters", metrics_app(metrics), ("/metrics",))):
            runner, port = self.loop.run_until_complete(start_web(app))
            self.runners.append(runner)
            self.targets[name] = (port, paths)
        self.hooks: list[Harness] = []
        for name in ("aiogram-webhook", "ptb-webhook"):
            hook = HARNESSES[name](self.api, engine, None, metrics)
            self.loop.run_until_complete(hook.start())
            self.hooks.append(hook)
            port = int(hook.url.rsplit(":", 1)[1].split("/")[0])  # type: ignore[attr-defined]
            self.targets[name] = (port, ("/telegram/hook", "/healthz", "/metrics"))
        self.line_api = FakeLineAPI()
        self.loop.run_until_complete(self.line_api.start())
        self.line = LineHarness(self.line_api, engine, metrics=metrics)
        self.loop.run_until_complete(self.line.start())
        self.targets["line"] = (int(self.line.base.rsplit(":", 1)[1]), (LINE_PATH, "/healthz", "/metrics"))

    def request(self, port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        return self.loop.run_until_complete(exchange(port, raw))

    def close(self) -> None:
        self.loop.run_until_complete(self.line.stop())
        self.loop.run_until_complete(self.line_api.stop())
        for hook in self.hooks:
            self.loop.run_until_complete(hook.stop())
        for runner in self.runners:
            self.loop.run_until_complete(runner.cleanup())
        self.loop.run_until_complete(self.api.stop())
        self.loop.close()


async def exchange(port: int, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 15)
    except ConnectionError:
        answer = b""
    finally:
        writer.close()
    top, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = top.decode("latin-1").split("\r\n") if top else ("- 0",)
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


@pytest.fixture(scope="module")
def servers(fixture_engine: Engine) -> Iterator[Servers]:
    running = Servers(fixture_engine)
    yield running
    running.close()


def bodies() -> st.SearchStrategy[bytes]:
    events = st.sampled_from(({"start": ""}, {"text": "こんにちは"}, {"press": "1:ja:x:start.menu:teen.menu"},
                              {"command": "help"}, {"media": "photo"})).map(lambda e: json.dumps(e).encode())
    update = st.builds(lambda n: json.dumps(Updates(start_id=2**40 + n).text("/start")).encode(), st.integers(0, 10**6))
    huge = st.builds(lambda d, sign: ('{"start": "", "update_id": 1, "n": ' + sign + "9" * d + "}").encode(),
                     st.integers(19, 5000), st.sampled_from(("", "-")))
    deep = st.integers(1, 50_000).map(lambda n: b"[" * n + b"]" * n)
    return st.one_of(events, update, huge, deep, st.binary(max_size=300), st.just(b""),
                     st.just(b'{"text": "\xff\xfe"}'), st.just(HUGE.encode()))


ENCODE = {
    "": lambda b: b, "gzip": gzip.compress, "deflate": zlib.compress,
    "corrupt gzip": lambda b: (lambda g: g[:10] + bytes(x ^ 0x5A for x in g[10:40]) + g[40:])(gzip.compress(b)),
    "truncated gzip": lambda b: gzip.compress(b)[:12], "br": lambda b: b, "zstd": lambda b: b,
    "gzip, deflate": lambda b: zlib.compress(gzip.compress(b)), "x-unknown": lambda b: b,
}

REQUESTS = st.fixed_dictionaries({
    "server": st.sampled_from(("web chat", "web counters", "aiogram-webhook", "ptb-webhook", "line")),
    "method": st.sampled_from(("GET", "POST", "POST", "POST", "PUT", "HEAD", "DELETE", "OPTIONS")),
    "path": st.integers(0, 10),
    "type": st.sampled_from(("application/json", "text/plain", "", "application/json; charset=latin-1")),
    "encoding": st.sampled_from(sorted(ENCODE)),
    "secret": st.sampled_from((SECRET, SECRET, "wrong", "")),
    "body": bodies(),
})


def request_bytes(case: dict[str, Any], paths: tuple[str, ...]) -> bytes:
    path = paths[case["path"] % len(paths)] if case["path"] < 9 else "/%E3%81%82/../nope"
    encoding = case["encoding"].replace("corrupt gzip", "gzip").replace("truncated gzip", "gzip")
    body = ENCODE[case["encoding"]](case["body"])
    head = [f"{case['method']} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
            f"Content-Length: {len(body)}"]
    if case["type"]:
        head.append(f"Content-Type: {case['type']}")
    if encoding:
        head.append(f"Content-Encoding: {encoding}")
    if case["secret"]:
        head.append(f"{HEADER}: {case['secret']}")
        # LINE signs the raw body: a right signature when the secret is right, so that the body is read on
        head.append(f"X-Line-Signature: {sign(body) if case['secret'] == SECRET else case['secret']}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def test_fuzzed_requests_to_every_endpoint_never_crash_a_server(servers: Servers,
                                                               caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    seen: dict[str, set[int]] = {}

    def check(case: dict[str, Any]) -> None:
        port, paths = servers.targets[case["server"]]
        status, headers, body = servers.request(port, request_bytes(case, paths))
        seen.setdefault(case["server"], set()).add(status)
        assert 200 <= status < 500, (case["server"], case["method"], status, body[:200])
        assert b"Traceback" not in body and b'File "' not in body
        if case["server"] == "web chat":
            assert "default-src 'none'" in headers.get("content-security-policy", ""), headers
            if status >= 400 and case["method"] != "HEAD":
                assert headers["content-type"].startswith("application/json"), (status, headers)
                assert set(json.loads(body)) == {"error"}

    fuzz(REQUESTS, check)
    crashes = [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert crashes == [], "a request crashed a server"
    assert set(seen) == set(servers.targets), seen
    assert all(len(statuses) >= 2 for statuses in seen.values()), seen
    assert servers.api.problems() == [] and servers.line_api.problems() == []
