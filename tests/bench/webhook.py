"""Benchmark: real-shaped updates posted over HTTP to `anshin telegram --webhook`, on 127.0.0.1 only.

Run: python tests/bench/webhook.py [--updates 20000] [--users 100000] [--concurrency 16] [--short]
Four phases, each bounded in count and time:
  1. one worker: updates/s and p50/p99 latency (the time from POST to 200: the update handled, its Bot
     API calls answered by a small fake Bot API server in its own process);
  2. the baseline, in the same run: a bare aiogram echo bot (aiogram's own webhook handler and session,
     one echo handler per update type) under the same load, and Anshin's rate as a share of its rate;
  3. the Anshin worker's RSS before and after updates from --users distinct chat ids;
  4. three workers behind Debian's nginx (deploy/nginx.conf on plain HTTP), if nginx is installed.
Updates are a third /start, a third button presses (real button ids, on the message they were on, sent back
whole with its text and keyboard as Telegram does), a third typed text.
Targets on a 2-core machine: one worker >= 1,500 updates/s with p99 < 50 ms; RSS growth < 10 MB across
100,000 users. --short (CI) runs a few thousand updates and prints the same figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)  # instead of tests/bench: its telegram.py would shadow python-telegram-bot

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from tests.bench.processes import (  # noqa: E402
    api_calls,
    cpu_seconds,
    free_port,
    new_loop,
    report,
    rss_mb,
    started,
)

TOKEN = "123456789:AAH-bench-token-not-real_0123456789"
SECRET = "bench-secret_0123456789abcdef"
HOOK = "/telegram/hook"
TIME_LIMIT = 300.0  # seconds for any one phase, whatever the counts
_BOT = {"id": 123456789, "is_bot": True, "first_name": "Anshin", "username": "anshin_bench_bot"}


# --- a fake Bot API in its own process: canned answers, a call counter ------------------------------------


def serve_fake_api(port: int) -> None:
    calls = [0]
    message = json.dumps({"ok": True, "result": {"message_id": 1, "date": 0, "text": "ok", "from": _BOT,
                                                 "chat": {"id": 1, "type": "private", "first_name": "U"}}})
    answers = {"getMe": json.dumps({"ok": True, "result": _BOT}), "sendMessage": message, "editMessageText": message}
    true = json.dumps({"ok": True, "result": True})

    async def handle(request: web.Request) -> web.Response:
        await request.read()
        calls[0] += 1
        return web.Response(text=answers.get(request.match_info["method"], true), content_type="application/json")

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=str(calls[0]))

    app = web.Application()
    app.router.add_post("/bot{token}/{method}", handle)
    app.router.add_get("/calls", count)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, loop=new_loop())


def serve_echo_bot(port: int, api: str) -> None:
    """The baseline: the smallest aiogram 3 webhook bot, as aiogram's documentation writes one."""
    from aiogram import Bot
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.webhook.aiohttp_server import SimpleRequestHandler

    from tests.fakes.echo_bot import echo_dispatcher

    dispatcher = echo_dispatcher()
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api)))
    app = web.Application()
    # Each update handled before the 200, as Anshin's worker does (aiogram's default hands it to a task).
    SimpleRequestHandler(dispatcher=dispatcher, bot=bot, secret_token=SECRET, handle_in_background=False).register(
        app, path=HOOK)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, loop=new_loop())


# --- processes ---------------------------------------------------------------------------------------------


def worker_args(api_port: int, port: int) -> tuple[list[str], dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    env.update(ANSHIN_TELEGRAM_TOKEN=TOKEN, ANSHIN_TELEGRAM_API=f"http://127.0.0.1:{api_port}",
               ANSHIN_WEBHOOK_URL=f"https://bot.example.org{HOOK}", ANSHIN_WEBHOOK_SECRET=SECRET,
               ANSHIN_HOST="127.0.0.1", ANSHIN_PORT=str(port), ANSHIN_LOG_LEVEL="WARNING",
               PYTHONPATH=str(ROOT))
    return [sys.executable, "-m", "bot", "telegram", "--webhook"], env


# --- load ------------------------------------------------------------------------------------------------------


# A press: the button's id and the message it was on, which Telegram sends back whole (text and keyboard).
Press = tuple[str, dict[str, Any]]


def presses() -> list[Press]:
    """Every button of the first screens (both languages) and of the screens they lead to, each with its screen."""
    from bot.channels.telegram.common import keyboard_rows, message_text
    from bot.engine import Engine, Event, Reply, load_content

    engine = Engine(load_content(ROOT))

    def on(reply: Reply) -> list[Press]:
        shown = {"text": message_text(reply), "reply_markup": {"inline_keyboard": keyboard_rows(reply.buttons)}}
        return [(button_id, shown) for button_id in reply.button_ids()]

    first = [p for lang in ("ja", "en") for r in engine.handle(Event("start", "", lang)) for p in on(r)]
    return first + [p for button_id, _ in first[:4] for r in engine.handle(Event("press", button_id)) for p in on(r)]


# Telegram never sends an update_id twice, and a worker answers one it has handled without handling it again
# (bot/channels/delivery.py): every update of the run has its own.
_UPDATE_IDS = itertools.count(1)


def update(n: int, chat_id: int, buttons: list[Press]) -> bytes:
    user = {"id": chat_id, "is_bot": False, "first_name": "U", "language_code": "ja" if n % 2 else "en"}
    chat = {"id": chat_id, "type": "private", "first_name": "U"}
    if n % 3 == 1:
        data, shown = buttons[n % len(buttons)]
        message = {"message_id": 5, "date": 1_760_000_000, "chat": chat, "from": _BOT, **shown}
        body: dict[str, Any] = {"update_id": next(_UPDATE_IDS), "callback_query": {
            "id": str(4_000_000 + n), "from": user, "message": message, "chat_instance": "1", "data": data}}
    else:
        text = "/start" if n % 3 == 0 else "知らない人に会おうって言われた"
        body = {"update_id": next(_UPDATE_IDS), "message": {
            "message_id": n, "date": 1_760_000_000, "chat": chat, "from": user, "text": text}}
        if text.startswith("/"):
            body["message"]["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
    return json.dumps(body, ensure_ascii=False).encode()


async def load(url: str, count: int, concurrency: int, first_chat: int, chats: int,
               buttons: list[Press]) -> tuple[float, list[float], dict[int, int]]:
    """POST ``count`` updates from ``chats`` distinct chat ids, ``concurrency`` at a time.
    Returns updates/s, the latencies in seconds, and the count of each status."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    next_n = iter(range(count))
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "Content-Type": "application/json"}
    began = time.perf_counter()

    async def client(session: aiohttp.ClientSession) -> None:
        for n in next_n:
            if time.perf_counter() - began > TIME_LIMIT:
                return
            body = update(n, first_chat + n % chats, buttons)
            sent = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
            latencies.append(time.perf_counter() - sent)
            statuses[response.status] = statuses.get(response.status, 0) + 1

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - began), latencies, statuses


# --- phases ------------------------------------------------------------------------------------------------------


async def throughput(name: str, url: str, pid: int, args: argparse.Namespace, api_port: int,
                     buttons: list[Press]) -> float:
    """Warm up, then post --updates updates from as many chat ids; print the figures, return updates/s."""
    await load(url, args.warmup, args.concurrency, 1, 1000, buttons)  # imports, caches, connections
    calls, cpu, began = await api_calls(api_port), cpu_seconds(pid), time.perf_counter()
    rate, latencies, statuses = await load(url, args.updates, args.concurrency, 10_000, args.updates, buttons)
    report(name, rate, latencies, statuses)
    cpu, wall = cpu_seconds(pid) - cpu, time.perf_counter() - began
    print(f"{'':28s} worker CPU {cpu / wall:.2f} cores, {cpu / len(latencies) * 1e6:.0f} µs per update; "
          f"Bot API calls per update: {(await api_calls(api_port) - calls) / args.updates:.2f}", flush=True)
    return rate


async def one_worker(args: argparse.Namespace, api_port: int, buttons: list[Press]) -> None:
    port = free_port()
    command, env = worker_args(api_port, port)
    with started(command, port, env) as worker:
        url = f"http://127.0.0.1:{port}{HOOK}"
        rate = await throughput("one worker", url, worker.pid, args, api_port, buttons)
        print(f"{'':28s} (the rest of the machine runs the load generator and the fake Bot API)")
        echo_port = free_port()
        echo_command = [sys.executable, __file__, "--echo-bot", str(echo_port), f"http://127.0.0.1:{api_port}"]
        with started(echo_command, echo_port) as echo:
            echo_rate = await throughput("baseline: aiogram echo bot", f"http://127.0.0.1:{echo_port}{HOOK}",
                                         echo.pid, args, api_port, buttons)
        print(f"{'':28s} Anshin's worker: {rate / echo_rate:.2f}x the echo bot's updates/s in this run", flush=True)
        before = rss_mb(worker.pid)
        rate, latencies, statuses = await load(url, args.users, args.concurrency, 1_000_000, args.users, buttons)
        after = rss_mb(worker.pid)
        report(f"one worker, {args.users:,} users", rate, latencies, statuses)
        print(f"{'':28s} RSS before {before:.1f} MB, after {after:.1f} MB: growth {after - before:+.1f} MB "
              f"across {args.users:,} distinct chat ids (target < 10 MB for 100,000)", flush=True)


async def behind_nginx(args: argparse.Namespace, api_port: int, buttons: list[Press]) -> None:
    from shutil import which

    binary = which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if binary is None:
        print("three workers behind nginx: skipped, nginx is not installed (apt-get install nginx)")
        return
    from tests.test_scale_out import nginx_conf

    ports = [free_port() for _ in range(3)]
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory(prefix="anshin-bench-") as tmp:
        for port in ports:
            command, env = worker_args(api_port, port)
            stack.enter_context(started(command, port, env))
        prefix, front = Path(tmp), free_port()
        conf = nginx_conf(prefix, front, ports).replace(f"access_log {prefix}/access.log anshin;", "access_log off;")
        (prefix / "nginx.conf").write_text(conf, encoding="utf-8")
        stack.enter_context(started([binary, "-e", f"{prefix}/error.log", "-p", f"{prefix}/", "-c",
                                     f"{prefix}/nginx.conf", "-g", f"pid {prefix}/nginx.pid; daemon off;"], front))
        url = f"http://127.0.0.1:{front}{HOOK}"
        await load(url, args.warmup, args.concurrency, 1, 1000, buttons)
        rate, latencies, statuses = await load(url, args.updates, args.concurrency, 20_000_000, args.updates, buttons)
        report("three workers behind nginx", rate, latencies, statuses)


async def main(args: argparse.Namespace) -> None:
    print(f"cpus {os.cpu_count()}, concurrency {args.concurrency}, loopback only", flush=True)
    buttons = presses()
    api_port = free_port()
    with started([sys.executable, __file__, "--fake-api", str(api_port)], api_port):
        await one_worker(args, api_port, buttons)
        await behind_nginx(args, api_port, buttons)


def cli() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--updates", type=int, default=20_000, help="updates per throughput phase")
    parser.add_argument("--users", type=int, default=100_000, help="distinct chat ids for the RSS phase")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight (Telegram: up to 100)")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--short", action="store_true", help="CI: 2,000 updates, 3,000 users, prints figures")
    parser.add_argument("--fake-api", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--echo-bot", nargs=2, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.fake_api is not None:
        serve_fake_api(args.fake_api)
        return
    if args.echo_bot is not None:
        serve_echo_bot(int(args.echo_bot[0]), args.echo_bot[1])
        return
    if args.short:
        args.updates, args.users, args.warmup = 2_000, 3_000, 300
    for value in (args.updates, args.users, args.concurrency, args.warmup):
        if not 1 <= value <= 1_000_000:
            raise SystemExit("counts must be between 1 and 1,000,000")
    with asyncio.Runner(loop_factory=new_loop) as runner:
        runner.run(main(args))


if __name__ == "__main__":
    cli()
