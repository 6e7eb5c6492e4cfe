"""Benchmark: signed LINE webhook events posted over HTTP to `anshin line`, on 127.0.0.1 only.

Run: python tests/bench/line.py [--events 20000] [--users 100000] [--concurrency 16] [--short]
Three phases, each bounded in count and time:
  1. one `anshin line` worker: events/s and p50/p99 latency (POST to 200: the event answered, its reply sent to a
     small fake LINE API in its own process);
  2. the baseline, in the same run and under the same load: a bare line-bot-sdk echo bot, as the SDK's aiohttp
     example writes one (WebhookParser.parse, AsyncMessagingApi.reply_message with a TextMessage), and Anshin's
     rate as a share of its rate;
  3. the Anshin worker's RSS before and after events from --users distinct user ids.
Events are a third follow, a third button presses (real button ids), a third typed text, one per signed body.
Targets: Anshin at least as fast as the echo bot; RSS flat (< 10 MB growth) across 100,000 users.
--short (CI) runs a few thousand events and prints the same figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import hmac
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)

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

SECRET = "0123456789abcdef0123456789abcdef"
ACCESS_TOKEN = "bench-line-channel-access-token/not+real=0123456789"
PATH = "/callback"
TIME_LIMIT = 300.0


def serve_fake_api(port: int) -> None:
    """Canned answers as LINE gives them; a call counter."""
    calls = [0]

    async def reply(request: web.Request) -> web.Response:
        data = await request.json()
        calls[0] += 1
        sent = [{"id": str(calls[0] * 10 + n), "quoteToken": "q"} for n, _ in enumerate(data.get("messages", []))]
        return web.json_response({"sentMessages": sent})

    async def count(request: web.Request) -> web.Response:
        return web.Response(text=str(calls[0]))

    app = web.Application()
    app.router.add_post("/v2/bot/message/reply", reply)
    app.router.add_get("/calls", count)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, loop=new_loop())


def serve_echo_bot(port: int, api: str) -> None:
    """The baseline: line-bot-sdk 3's aiohttp echo example, answering every event the load sends."""
    from linebot.v3 import WebhookParser
    from linebot.v3.exceptions import InvalidSignatureError
    from linebot.v3.messaging import (
        AsyncApiClient,
        AsyncMessagingApi,
        Configuration,
        ReplyMessageRequest,
        TextMessage,
    )
    from linebot.v3.webhooks import FollowEvent, MessageEvent, PostbackEvent, TextMessageContent

    async def main() -> None:
        client = AsyncApiClient(Configuration(host=api, access_token=ACCESS_TOKEN))
        line_bot_api = AsyncMessagingApi(client)
        parser = WebhookParser(SECRET)

        async def callback(request: web.Request) -> web.Response:
            signature = request.headers["X-Line-Signature"]
            body = await request.text()
            try:
                events = parser.parse(body, signature)
            except InvalidSignatureError:
                return web.Response(status=400, text="Invalid signature")
            for event in events:
                if isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
                    text = event.message.text
                elif isinstance(event, PostbackEvent):
                    text = event.postback.data
                elif isinstance(event, FollowEvent):
                    text = "Hello"
                else:
                    continue
                await line_bot_api.reply_message(ReplyMessageRequest(reply_token=event.reply_token,
                                                                     messages=[TextMessage(text=text)]))
            return web.Response(text="OK\n")

        app = web.Application()
        app.router.add_post(PATH, callback)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        await asyncio.Event().wait()

    with asyncio.Runner(loop_factory=new_loop) as runner:
        runner.run(main())


def presses() -> list[str]:
    """Every button id of the first screens (both languages) and of the screens they lead to."""
    from bot.engine import Engine, Event, load_content

    engine = Engine(load_content(ROOT))
    first = [b for lang in ("ja", "en") for r in engine.handle(Event("start", "", lang)) for b in r.button_ids()]
    return first + [b for button_id in first[:4] for r in engine.handle(Event("press", button_id))
                    for b in r.button_ids()]


def signed_event(n: int, user: int, buttons: list[str]) -> tuple[bytes, str]:
    event: dict[str, object] = {
        "mode": "active", "timestamp": 1_760_000_000_000 + n, "webhookEventId": f"01BENCH{n:019d}",
        "deliveryContext": {"isRedelivery": False}, "replyToken": f"{n:032x}",
        "source": {"type": "user", "userId": f"U{user:032x}"},
    }
    if n % 3 == 0:
        event.update(type="follow", follow={"isUnblocked": False})
    elif n % 3 == 1:
        event.update(type="postback", postback={"data": buttons[n % len(buttons)]})
    else:
        event.update(type="message", message={"id": str(n), "type": "text", "quoteToken": "q",
                                               "text": "知らない人に会おうって言われた"})
    raw = json.dumps({"destination": "U" + "d" * 32, "events": [event]}, ensure_ascii=False).encode()
    return raw, base64.b64encode(hmac.new(SECRET.encode(), raw, hashlib.sha256).digest()).decode()


async def load(url: str, count: int, concurrency: int, first_user: int, users: int,
               buttons: list[str]) -> tuple[float, list[float], dict[int, int]]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    next_n = iter(range(count))
    began = time.perf_counter()

    async def client(session: aiohttp.ClientSession) -> None:
        for n in next_n:
            if time.perf_counter() - began > TIME_LIMIT:
                return
            raw, signature = signed_event(first_user + n, first_user + n % users, buttons)
            sent = time.perf_counter()
            async with session.post(url, data=raw, headers={"X-Line-Signature": signature,
                                                            "Content-Type": "application/json"}) as response:
                await response.read()
            latencies.append(time.perf_counter() - sent)
            statuses[response.status] = statuses.get(response.status, 0) + 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency),
                                     timeout=aiohttp.ClientTimeout(total=30)) as session:
        await asyncio.gather(*(client(session) for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - began), latencies, statuses


async def throughput(name: str, url: str, pid: int, args: argparse.Namespace, api_port: int,
                     buttons: list[str], first_user: int) -> float:
    await load(url, args.warmup, args.concurrency, first_user, 1000, buttons)
    calls, cpu, began = await api_calls(api_port), cpu_seconds(pid), time.perf_counter()
    rate, latencies, statuses = await load(url, args.events, args.concurrency, first_user + 10_000, args.events,
                                           buttons)
    report(name, rate, latencies, statuses, unit="events")
    cpu, wall = cpu_seconds(pid) - cpu, time.perf_counter() - began
    print(f"{'':28s} CPU {cpu / wall:.2f} cores, {cpu / max(1, len(latencies)) * 1e6:.0f} µs per event; replies per "
          f"event: {(await api_calls(api_port) - calls) / args.events:.2f}", flush=True)
    return rate


async def main(args: argparse.Namespace) -> None:
    print(f"cpus {os.cpu_count()}, concurrency {args.concurrency}, loopback only", flush=True)
    buttons = presses()
    api_port = free_port()
    with started([sys.executable, __file__, "--fake-api", str(api_port)], api_port):
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
        env.update(ANSHIN_LINE_CHANNEL_SECRET=SECRET, ANSHIN_LINE_CHANNEL_ACCESS_TOKEN=ACCESS_TOKEN,
                   ANSHIN_LINE_API=f"http://127.0.0.1:{api_port}", ANSHIN_HOST="127.0.0.1", ANSHIN_PORT=str(port),
                   ANSHIN_LOG_LEVEL="WARNING", PYTHONPATH=str(ROOT))
        with started([sys.executable, "-m", "bot", "line"], port, env) as worker:
            url = f"http://127.0.0.1:{port}{PATH}"
            rate = await throughput("one anshin line worker", url, worker.pid, args, api_port, buttons, 1)
            echo_port = free_port()
            with started([sys.executable, __file__, "--echo-bot", str(echo_port), f"http://127.0.0.1:{api_port}"],
                         echo_port) as echo:
                echo_rate = await throughput("baseline: SDK echo bot", f"http://127.0.0.1:{echo_port}{PATH}",
                                             echo.pid, args, api_port, buttons, 50_000_000)
            print(f"{'':28s} Anshin: {rate / echo_rate:.2f}x the echo bot's events/s in this run", flush=True)
            before = rss_mb(worker.pid)
            rate, latencies, statuses = await load(url, args.users, args.concurrency, 100_000_000, args.users,
                                                   buttons)
            after = rss_mb(worker.pid)
            report(f"anshin, {args.users:,} users", rate, latencies, statuses, unit="events")
            print(f"{'':28s} RSS before {before:.1f} MB, after {after:.1f} MB: growth {after - before:+.1f} MB "
                  f"across {args.users:,} distinct user ids (target < 10 MB for 100,000)", flush=True)


def cli() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="events per throughput phase")
    parser.add_argument("--users", type=int, default=100_000, help="distinct user ids for the RSS phase")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=2_000)
    parser.add_argument("--short", action="store_true", help="CI: 2,000 events, 3,000 users, prints figures")
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
        args.events, args.users, args.warmup = 2_000, 3_000, 300
    for value in (args.events, args.users, args.concurrency, args.warmup):
        if not 1 <= value <= 1_000_000:
            raise SystemExit("counts must be between 1 and 1,000,000")
    with asyncio.Runner(loop_factory=new_loop) as runner:
        runner.run(main(args))


if __name__ == "__main__":
    cli()
