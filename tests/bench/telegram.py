"""Benchmark: updates per second, Anshin vs a bare echo bot, on aiogram and on python-telegram-bot.

Run: python tests/bench/telegram.py [--updates 20000] [--rounds 3]
All four bots get the same updates (a third /start, a third button presses, a third typed text, from
many users), parsed from JSON on every round: aiogram's through ``Dispatcher.feed_update`` with a fake
network under each bot's real session (aiogram's ``AiohttpSession`` for the echo bot, ``AnshinSession`` for
Anshin) that builds each request's body as it would be posted (form data urlencoded; Anshin's JSON); PTB's through
``Application.process_update`` with a fake HTTPXRequest that serialises like PTB's (``json_parameters``),
under Anshin's retry layer for Anshin. Both return canned Bot API responses (no network).
Prints the rates, each framework's cost ratio (Anshin's time per update / its echo bot's; target <= 1.5)
and PTB's cost relative to aiogram's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)  # instead of tests/bench: this telegram.py would shadow python-telegram-bot

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.session.base import BaseSession  # noqa: E402
from aiogram.methods import TelegramMethod  # noqa: E402
from aiogram.methods.base import TelegramType  # noqa: E402
from aiogram.types import Update  # noqa: E402
from telegram import Update as PtbUpdate  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, ExtBot, MessageHandler  # noqa: E402
from telegram.ext import filters as ptb_filters  # noqa: E402
from telegram.request import HTTPXRequest, RequestData  # noqa: E402

from bot.channels.telegram import ptb_bot as telegram_ptb  # noqa: E402
from bot.channels.telegram.aiogram_bot import Retry, create_dispatcher  # noqa: E402
from bot.channels.telegram.aiogram_session import AnshinSession  # noqa: E402
from bot.engine import ContentError, Engine, Event, load_content  # noqa: E402
from tests.fakes.echo_bot import echo_dispatcher  # noqa: E402

TOKEN = "123456789:AAH-bench-token-not-real_0123456789"
CHUNK = 2000  # updates per bot before the next bot takes its turn
_MESSAGE = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "ok",
            "from": {"id": 123456789, "is_bot": True, "first_name": "Anshin", "username": "anshin_bench_bot"}}
_RESULTS = {
    "getMe": json.dumps({"ok": True, "result": _MESSAGE["from"]}),
    "sendMessage": json.dumps({"ok": True, "result": _MESSAGE}),
    "editMessageText": json.dumps({"ok": True, "result": _MESSAGE}),
}
_TRUE = json.dumps({"ok": True, "result": True})


class FakeNetwork(BaseSession):
    """Builds each request's body as the session would post it, then answers from memory instead of posting
    it: aiogram's form data, urlencoded (what aiohttp does with it before sending), or Anshin's JSON body."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def close(self) -> None:
        return None

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None) -> Any:
        self.body(bot, method)
        self.calls += 1
        return self.check_response(bot, method, 200, _RESULTS.get(method.__api_method__, _TRUE)).result

    async def stream_content(self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
                             chunk_size: int = 65536, raise_for_status: bool = True) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("the benchmark never downloads")
        yield b""  # pragma: no cover


    def body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> Any:
        raise NotImplementedError


class FakeSession(FakeNetwork, AiohttpSession):
    """aiogram's own session, for the echo bot."""

    def body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> Any:
        return self.build_form_data(bot, method)()


class FakeAnshinSession(FakeNetwork, AnshinSession):
    """The session ``aiogram_bot.create_bot`` gives Anshin."""

    def body(self, bot: Bot, method: TelegramMethod[TelegramType]) -> Any:
        return self.build_json_body(bot, method)


class FakeRequest(HTTPXRequest):
    """Serialises every request as PTB's HTTPXRequest does (``json_parameters``), then answers from memory."""

    calls = 0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        if request_data is not None:
            request_data.json_parameters  # noqa: B018 - the serialisation HTTPXRequest sends
        self.calls += 1
        return 200, _RESULTS.get(url.rsplit("/", 1)[-1], _TRUE).encode()


class FakeRetryingRequest(telegram_ptb.Retry, FakeRequest):
    """Anshin's PTB retry layer over the fake: what ``ptb_bot.create_bot`` puts under the bot."""


PtbApp = Application[Any, Any, Any, Any, Any, Any]


def ptb_echo() -> PtbApp:
    async def echo(update: PtbUpdate, context: Any) -> None:
        if update.message is not None:
            await context.bot.send_message(chat_id=update.message.chat.id, text=update.message.text or "…")

    async def press(update: PtbUpdate, context: Any) -> None:
        query = update.callback_query
        if query is not None:
            await context.bot.answer_callback_query(query.id)
            if query.message is not None:
                await context.bot.send_message(chat_id=query.message.chat.id, text=query.data or "…")

    app: PtbApp = ApplicationBuilder().bot(ExtBot(TOKEN, request=FakeRequest())).job_queue(None).updater(None).build()
    app.add_handlers([MessageHandler(ptb_filters.UpdateType.MESSAGE, echo), CallbackQueryHandler(press)])
    return app


async def measure_ptb(app: PtbApp, updates: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for raw in updates:
        await app.process_update(PtbUpdate.de_json(raw, app.bot))
    return time.perf_counter() - started


def engine() -> Engine:
    try:
        return Engine(load_content(ROOT))
    except ContentError:
        print("shipped content has errors; using tests/fixtures/content", file=sys.stderr)
        return Engine(load_content(ROOT / "tests/fixtures/content"))


def raw_updates(anshin: Engine, count: int) -> list[dict[str, Any]]:
    ids = [i for lang in ("ja", "en") for r in anshin.handle(Event("start", "", lang)) for i in r.button_ids()]
    updates: list[dict[str, Any]] = []
    for n in range(count):
        user = {"id": 10_000 + n % 5000, "is_bot": False, "first_name": "U", "language_code": "ja" if n % 2 else "en"}
        chat = {"id": user["id"], "type": "private", "first_name": "U"}
        if n % 3 == 1:
            message = {"message_id": 5, "date": 0, "chat": chat, "text": "…", "from": _MESSAGE["from"]}
            query = {"id": str(n), "from": user, "message": message, "chat_instance": "1", "data": ids[n % len(ids)]}
            updates.append({"update_id": n, "callback_query": query})
        else:
            text = "/start" if n % 3 == 0 else "知らない人に会おうって言われた"
            updates.append({"update_id": n, "message": {"message_id": n, "date": 0, "chat": chat, "from": user,
                                                        "text": text}})
    return updates


async def measure(dispatcher: Dispatcher, bot: Bot, updates: list[dict[str, Any]]) -> float:
    started = time.perf_counter()
    for raw in updates:
        await dispatcher.feed_update(bot, Update.model_validate(raw, context={"bot": bot}))
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    anshin_engine = engine()
    updates = raw_updates(anshin_engine, args.updates)
    anshin_session, echo_session = FakeAnshinSession(), FakeSession()
    anshin_session.middleware(Retry())
    anshin_bot, echo_bot = Bot(TOKEN, session=anshin_session), Bot(TOKEN, session=echo_session)
    anshin, echo = create_dispatcher(anshin_engine), echo_dispatcher()
    ptb_request = FakeRetryingRequest()
    ptb_anshin = telegram_ptb.create_application(anshin_engine, telegram_ptb.create_bot(TOKEN, request=ptb_request),
                                                 polling=False)
    ptb_plain = ptb_echo()
    for app in (ptb_anshin, ptb_plain):
        await app.initialize()  # getMe
    echo_on_ours = Bot(TOKEN, session=FakeAnshinSession())
    runs: dict[str, Callable[[list[dict[str, Any]]], Awaitable[float]]] = {
        "aiogram anshin": lambda chunk: measure(anshin, anshin_bot, chunk),
        "aiogram echo": lambda chunk: measure(echo, echo_bot, chunk),
        "aiogram echo*": lambda chunk: measure(echo, echo_on_ours, chunk),
        "ptb anshin": lambda chunk: measure_ptb(ptb_anshin, chunk),
        "ptb echo": lambda chunk: measure_ptb(ptb_plain, chunk),
    }
    for run in runs.values():  # warm up (getMe, caches)
        await run(updates[:500])
    best = dict.fromkeys(runs, float("inf"))
    chunks = [updates[i:i + CHUNK] for i in range(0, len(updates), CHUNK)]
    for _ in range(args.rounds):
        # Interleaved chunk by chunk, so that a burst of machine noise hits every bot alike; the best round of
        # each bot is kept (noise only ever adds time).
        spent = dict.fromkeys(runs, 0.0)
        for chunk in chunks:
            for name, run in runs.items():
                spent[name] += await run(chunk)
        best = {name: min(best[name], spent[name]) for name in runs}
    for name in runs:
        rate, cost = args.updates / best[name], best[name] / args.updates * 1e6
        print(f"{name:15s} {rate:10,.0f} updates/s  ({cost:6.1f} µs/update)")
    print("(echo*: the same echo bot on Anshin's session: JSON bodies, results it does not read left unbuilt)")
    for framework in ("aiogram", "ptb"):
        print(f"ratio {framework:8s} {best[framework + ' anshin'] / best[framework + ' echo']:.2f}x echo's cost "
              "per update (target <= 1.5x)")
    print(f"ratio aiogram  {best['aiogram anshin'] / best['aiogram echo*']:.2f}x echo*'s cost per update "
          "(Anshin's handlers alone)")
    print(f"ptb/aiogram    anshin {best['ptb anshin'] / best['aiogram anshin']:.2f}x, "
          f"echo {best['ptb echo'] / best['aiogram echo']:.2f}x aiogram's cost per update")
    handled = 500 + args.rounds * args.updates  # by each bot: the warm-up and every round
    print(f"API calls per update: aiogram anshin {anshin_session.calls / handled:.2f}, echo "
          f"{echo_session.calls / handled:.2f}; ptb anshin {(ptb_request.calls - 1) / handled:.2f}")
    for app in (ptb_anshin, ptb_plain):
        await app.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
