"""Benchmark: updates per second through aiogram's ``Dispatcher.feed_update``, Anshin vs a bare echo bot.

Run: python tests/bench/telegram.py [--updates 20000] [--rounds 3]
Both bots get the same updates (a third /start, a third button presses, a third typed text, from many
users), parsed from JSON on every round, and answer through the same fake session, which serialises
each request like aiogram's aiohttp session and returns a canned Bot API response (no network).
Prints both rates and the cost ratio (Anshin's time per update / echo's). Target: ratio <= 1.5.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher, Router  # noqa: E402
from aiogram.client.session.base import BaseSession  # noqa: E402
from aiogram.methods import TelegramMethod  # noqa: E402
from aiogram.methods.base import TelegramType  # noqa: E402
from aiogram.types import CallbackQuery, Message, Update  # noqa: E402

from bot.channels.telegram_aiogram import Retry, create_dispatcher  # noqa: E402
from bot.engine import ContentError, Engine, Event, load_content  # noqa: E402

TOKEN = "123456789:AAH-bench-token-not-real_0123456789"
_MESSAGE = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "ok",
            "from": {"id": 123456789, "is_bot": True, "first_name": "Anshin", "username": "anshin_bench_bot"}}
_RESULTS = {
    "getMe": json.dumps({"ok": True, "result": _MESSAGE["from"]}),
    "sendMessage": json.dumps({"ok": True, "result": _MESSAGE}),
    "editMessageText": json.dumps({"ok": True, "result": _MESSAGE}),
}
_TRUE = json.dumps({"ok": True, "result": True})


class FakeSession(BaseSession):
    """Serialises every request as aiogram's aiohttp session does, then answers from memory."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def close(self) -> None:
        return None

    async def make_request(self, bot: Bot, method: TelegramMethod[TelegramType], timeout: int | None = None) -> Any:
        files: dict[str, Any] = {}
        for value in method.model_dump(warnings=False).values():
            self.prepare_value(value, bot=bot, files=files)
        self.calls += 1
        return self.check_response(bot, method, 200, _RESULTS.get(method.__api_method__, _TRUE)).result

    async def stream_content(self, url: str, headers: dict[str, Any] | None = None, timeout: int = 30,
                             chunk_size: int = 65536, raise_for_status: bool = True) -> AsyncGenerator[bytes, None]:
        raise NotImplementedError("the benchmark never downloads")
        yield b""  # pragma: no cover


def echo_dispatcher() -> Dispatcher:
    router = Router()

    @router.message()
    async def echo(message: Message, bot: Bot) -> None:
        await bot.send_message(chat_id=message.chat.id, text=message.text or "…")

    @router.callback_query()
    async def press(query: CallbackQuery, bot: Bot) -> None:
        await bot.answer_callback_query(query.id)
        if query.message is not None:
            await bot.send_message(chat_id=query.message.chat.id, text=query.data or "…")

    dispatcher = Dispatcher(disable_fsm=True)
    dispatcher.include_router(router)
    return dispatcher


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
    anshin_session, echo_session = FakeSession(), FakeSession()
    anshin_session.middleware(Retry())
    anshin_bot, echo_bot = Bot(TOKEN, session=anshin_session), Bot(TOKEN, session=echo_session)
    anshin, echo = create_dispatcher(anshin_engine), echo_dispatcher()
    await measure(anshin, anshin_bot, updates[:500])  # warm up both (getMe, caches)
    await measure(echo, echo_bot, updates[:500])
    best = {"anshin": float("inf"), "echo": float("inf")}
    for _ in range(args.rounds):  # interleaved, so machine noise hits both alike
        best["echo"] = min(best["echo"], await measure(echo, echo_bot, updates))
        best["anshin"] = min(best["anshin"], await measure(anshin, anshin_bot, updates))
    for name in ("anshin", "echo"):
        rate, cost = args.updates / best[name], best[name] / args.updates * 1e6
        print(f"{name:7s} {rate:10,.0f} updates/s  ({cost:6.1f} µs/update)")
    print(f"ratio    {best['anshin'] / best['echo']:.2f}x echo's cost per update (target <= 1.5x); "
          f"API calls per round: anshin {anshin_session.calls // (args.rounds + 1)}, "
          f"echo {echo_session.calls // (args.rounds + 1)}")


if __name__ == "__main__":
    asyncio.run(main())
