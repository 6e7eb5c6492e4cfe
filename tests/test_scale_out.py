"""Scale-out on real parts: three `anshin telegram --webhook` processes behind Debian's nginx, configured
from deploy/nginx.conf (plain HTTP on 127.0.0.1, its own pid, log and temp paths, the current user).

Load goes through nginx and one worker is killed in the middle: every update still gets a 2xx (nginx
passes it to the next worker) and the fake Bot API receives each reply. A worker stopped with SIGTERM
finishes what it holds, so each reply arrives exactly once; a worker killed with SIGKILL may die after
sending a reply and before answering nginx, so that update is answered again by another worker (as
Telegram would resend it): those duplicates are counted, bounded by the requests in flight, and none is lost.

nginx missing: skipped, except in CI (`CI` set), where it fails: `.ci/run` installs it.
"""

from __future__ import annotations

import asyncio
import getpass
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.engine import Engine, Event
from tests.conftest import FIXTURE_CONTENT, PROJECT
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.updates import Updates
from tests.system import require_tool

SECRET = "scale-out_secret-0123456789"
HOOK_PATH = "/telegram/hook"
UPDATES = 1500
CONCURRENCY = 12
FIRST_CHAT = 810_000_000


def nginx_binary() -> str:
    return require_tool("nginx")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def nginx_conf(prefix: Path, port: int, workers: list[int], line_workers: list[int] | None = None) -> str:
    """deploy/nginx.conf with local edits only: plain HTTP on 127.0.0.1, these upstreams (``line_workers``: the
    LINE upstream's too, else it keeps the Telegram workers' ports), paths in ``prefix``."""
    conf = (PROJECT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    conf, listens = re.subn(r"listen 443 ssl;", f"listen 127.0.0.1:{port};", conf)
    conf, certs = re.subn(r"^\s*ssl_\w+ [^;]*;\n", "", conf, flags=re.M)
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;" for p in workers)
    conf, upstreams = re.subn(r"(upstream anshin_workers \{\n)(?:\s*server [^\n]*\n)+", rf"\g<1>{servers}\n", conf)
    line_servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;"
                              for p in (line_workers or workers))
    conf, line_upstreams = re.subn(r"(upstream anshin_line_workers \{\n)(?:\s*server [^\n]*\n)+",
                                   rf"\g<1>{line_servers}\n", conf)
    conf, logs = re.subn(r"access_log [^;]*;", f"access_log {prefix}/access.log anshin;", conf)
    temp = "".join(f"    {kind}_temp_path {prefix}/{kind}_temp;\n"
                   for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    conf, http = re.subn(r"^http \{\n", "http {\n" + temp, conf, flags=re.M)
    assert (listens, certs >= 2, upstreams, line_upstreams, logs, http) == (1, True, 1, 1, 1, 1), \
        "deploy/nginx.conf changed shape"
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""  # root: workers stay this user
    return user + conf


@contextmanager
def nginx(tmp_path: Path, workers: list[int], line_workers: list[int] | None = None) -> Iterator[tuple[int, Path]]:
    binary = nginx_binary()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    port = free_port()
    (prefix / "nginx.conf").write_text(nginx_conf(prefix, port, workers, line_workers), encoding="utf-8")
    args = [binary, "-e", f"{prefix}/error.log", "-p", f"{prefix}/", "-c", f"{prefix}/nginx.conf"]
    check = subprocess.run([*args, "-t", "-g", f"pid {prefix}/nginx.pid;"], capture_output=True, text=True,
                           timeout=30)
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([*args, "-g", f"pid {prefix}/nginx.pid; daemon off;"])
    try:
        deadline = time.monotonic() + 10
        while not _listening(port):
            assert process.poll() is None and time.monotonic() < deadline, (prefix / "error.log").read_text()
            time.sleep(0.05)
        yield port, prefix
    finally:
        process.send_signal(signal.SIGQUIT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


@asynccontextmanager
async def workers(api: FakeBotAPI, count: int) -> AsyncIterator[list[tuple[int, asyncio.subprocess.Process]]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    env.update(ANSHIN_TELEGRAM_TOKEN=TOKEN, ANSHIN_TELEGRAM_API=api.base, ANSHIN_CONTENT=str(FIXTURE_CONTENT),
               ANSHIN_WEBHOOK_URL=f"https://bot.example.org{HOOK_PATH}", ANSHIN_WEBHOOK_SECRET=SECRET,
               ANSHIN_HOST="127.0.0.1")
    started: list[tuple[int, asyncio.subprocess.Process]] = []
    try:
        for _ in range(count):
            port = free_port()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "telegram", "--webhook", env={**env, "ANSHIN_PORT": str(port)},
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            started.append((port, process))
        await api.wait_for("setWebhook", count, timeout=60)
        for port, _ in started:
            deadline = time.monotonic() + 10
            while not _listening(port):
                assert time.monotonic() < deadline, f"worker on {port} is not listening"
                await asyncio.sleep(0.05)
        yield started
    finally:
        for _, process in started:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for _, process in started:
            _, err = await asyncio.wait_for(process.communicate(), 20)
            assert b"Traceback" not in err, err.decode()


async def drive(url: str, kill: asyncio.subprocess.Process, stop: signal.Signals) -> tuple[Counter[int], float]:
    """Post UPDATES updates from distinct chats through nginx, CONCURRENCY at a time; send ``stop`` to one
    worker a third of the way in. Returns the count of each HTTP status and the seconds taken."""
    statuses: Counter[int] = Counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(UPDATES):
        queue.put_nowait(n)
    began = time.monotonic()

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty() and time.monotonic() - began < 120:
            n = queue.get_nowait()
            update = Updates(user_id=FIRST_CHAT + n, start_id=n).text("/help")
            async with session.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as r:
                await r.read()
                statuses[r.status] += 1
            if sum(statuses.values()) == UPDATES // 3:
                kill.send_signal(stop)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        await asyncio.gather(*(client(session) for _ in range(CONCURRENCY)))
    return statuses, time.monotonic() - began


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_three_workers_behind_nginx_lose_no_update_when_one_dies(
        tmp_path: Path, fixture_engine: Engine, stop: signal.Signals) -> None:
    nginx_binary()
    per_update = len(fixture_engine.handle(Event("command", "help", "ja")))
    api = FakeBotAPI()
    await api.start()
    try:
        async with workers(api, 3) as running:
            with nginx(tmp_path, [port for port, _ in running]) as (port, prefix):
                victim = running[1][1]
                statuses, seconds = await drive(f"http://127.0.0.1:{port}{HOOK_PATH}", victim, stop)
                await asyncio.sleep(0.5)  # replies of the last updates
                assert await asyncio.wait_for(victim.wait(), 20) is not None, "the worker stopped"
            access = (prefix / "access.log").read_text(encoding="utf-8").splitlines()
    finally:
        await api.stop()
    replies = Counter(r.params["chat_id"] for r in api.delivered("sendMessage"))
    lost = [chat for chat in range(FIRST_CHAT, FIRST_CHAT + UPDATES) if replies[chat] < per_update]
    duplicated = sum(1 for count in replies.values() if count > per_update)
    retried = sum(1 for line in access if ", " in line)  # $upstream_addr lists every worker tried
    print(f"\n{stop.name}: {UPDATES} updates in {seconds:.1f} s ({UPDATES / seconds:.0f}/s) through nginx; "
          f"statuses {dict(statuses)}; passed on to another worker by nginx: {retried}; "
          f"replies lost: {len(lost)}, answered twice: {duplicated}")
    assert retried >= 1, "the stopped worker was in the rotation: nginx had to pass updates on"
    assert statuses == Counter({200: UPDATES}), "every update got a 2xx from nginx"
    assert lost == [], "every update was answered"
    assert api.problems() == []
    if stop == signal.SIGTERM:
        assert duplicated == 0, "a worker stopped with SIGTERM finishes its updates: each reply once"
    else:
        assert duplicated <= CONCURRENCY, "only updates in flight at the kill can be answered twice"


# --- LINE: `anshin line` workers behind the same nginx ---------------------------------------------------------

LINE_PATH = "/line/callback"


@asynccontextmanager
async def line_workers(api: Any, count: int) -> AsyncIterator[list[tuple[int, asyncio.subprocess.Process]]]:
    from tests.fakes.line_api import ACCESS_TOKEN
    from tests.fakes.line_events import CHANNEL_SECRET

    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    env.update(ANSHIN_LINE_CHANNEL_SECRET=CHANNEL_SECRET, ANSHIN_LINE_CHANNEL_ACCESS_TOKEN=ACCESS_TOKEN,
               ANSHIN_LINE_API=api.base, ANSHIN_CONTENT=str(FIXTURE_CONTENT), ANSHIN_HOST="127.0.0.1",
               ANSHIN_LINE_WEBHOOK_PATH=LINE_PATH)
    started: list[tuple[int, asyncio.subprocess.Process]] = []
    try:
        for _ in range(count):
            port = free_port()
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "line", env={**env, "ANSHIN_PORT": str(port)},
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            started.append((port, process))
        for port, _ in started:
            deadline = time.monotonic() + 60
            while not _listening(port):
                assert time.monotonic() < deadline, f"LINE worker on {port} is not listening"
                await asyncio.sleep(0.05)
        yield started
    finally:
        for _, process in started:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for _, process in started:
            _, err = await asyncio.wait_for(process.communicate(), 20)
            assert b"Traceback" not in err, err.decode()


async def drive_line(url: str, kill: asyncio.subprocess.Process, stop: signal.Signals,
                     tokens: list[str]) -> tuple[Counter[int], float]:
    """Post UPDATES signed events from distinct users through nginx; stop one worker a third of the way in."""
    from tests.fakes.line_events import LineUser, body, encode, sign

    statuses: Counter[int] = Counter()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(UPDATES):
        queue.put_nowait(n)
    began = time.monotonic()

    async def client(session: aiohttp.ClientSession) -> None:
        while not queue.empty() and time.monotonic() - began < 120:
            n = queue.get_nowait()
            user = LineUser(user_id=f"U{n:032x}")
            raw = encode(body(user.text("/help")))
            tokens.append(user.sent[0])
            async with session.post(url, data=raw, headers={"X-Line-Signature": sign(raw)}) as r:
                await r.read()
                statuses[r.status] += 1
            if sum(statuses.values()) == UPDATES // 3:
                kill.send_signal(stop)

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY)) as session:
        await asyncio.gather(*(client(session) for _ in range(CONCURRENCY)))
    return statuses, time.monotonic() - began


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
async def test_line_workers_behind_nginx_answer_every_event_once_when_one_dies(
        tmp_path: Path, stop: signal.Signals) -> None:
    """A reply token is good once: an event nginx passes on after its worker answered and died gets a refused
    second reply, so every user sees exactly one answer."""
    from tests.fakes.line_api import FakeLineAPI

    nginx_binary()
    api = FakeLineAPI()
    await api.start()
    tokens: list[str] = []
    try:
        async with line_workers(api, 3) as running:
            ports = [port for port, _ in running]
            with nginx(tmp_path, ports, line_workers=ports) as (port, prefix):
                victim = running[1][1]
                statuses, seconds = await drive_line(f"http://127.0.0.1:{port}{LINE_PATH}", victim, stop, tokens)
                await asyncio.sleep(0.5)
                assert await asyncio.wait_for(victim.wait(), 20) is not None, "the worker stopped"
            access = (prefix / "access.log").read_text(encoding="utf-8").splitlines()
    finally:
        await api.stop()
    delivered = Counter(call.body["replyToken"] for call in api.replies())
    lost = [token for token in tokens if delivered[token] != 1]
    refused = len(api.of("replyMessage")) - len(api.replies())
    retried = sum(1 for line in access if ", " in line)
    print(f"\nLINE {stop.name}: {UPDATES} events in {seconds:.1f} s ({UPDATES / seconds:.0f}/s) through nginx; "
          f"statuses {dict(statuses)}; passed on by nginx: {retried}; second replies refused: {refused}; "
          f"lost: {len(lost)}")
    assert retried >= 1, "the stopped worker was in the rotation"
    assert statuses == Counter({200: UPDATES}), "every event got a 2xx from nginx"
    assert lost == [], "every event was answered exactly once"
    assert api.problems() == []
