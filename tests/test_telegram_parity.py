"""The two adapters are one bot: the same conversation makes the same Bot API calls (method, every parameter:
text, keyboard, chat, message ids) on aiogram and python-telegram-bot, polling or webhook; `setup` too."""

from __future__ import annotations

from typing import Any

from bot.channels.telegram import aiogram_bot as telegram_aiogram
from bot.channels.telegram import ptb_bot as telegram_ptb
from bot.engine import Engine, Event
from tests.fakes.bot_api import BOT_USERNAME, TOKEN, FakeBotAPI
from tests.fakes.harness import HARNESSES
from tests.fakes.updates import Updates

CONVERSATION = ("sendMessage", "editMessageText", "answerCallbackQuery")


def script(engine: Engine) -> list[dict[str, Any]]:
    """One user's conversation touching every rule: commands, deep links, presses (edited in place, kept
    referral cards, forged, too old), typed text, every kind of silence, media, a group."""
    user, other = Updates(lang="ja"), Updates(user_id=5550002, lang="en-US", start_id=500)
    first = engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    outdated = engine.handle(Event("press", "forged"))[0]
    home = next(b.id for row in outdated.buttons for b in row if b.id and b.id.endswith(":@home"))
    return [
        user.text("/start"), user.press(first, message_id=41), user.press(home, message_id=42),
        user.press("forged"), user.press(first, accessible=False), user.text("/start p-en-spring2027"),
        user.text(f"/start@{BOT_USERNAME} t"), user.text("/language"), user.text("/privacy"), user.text("/dance"),
        user.text("どうしよう"), user.text("助けて 今 家の前にいる"), user.media("photo", caption="hi"),
        user.media("sticker"), user.edited("changed"), user.unknown("x"), user.message(None),
        user.group_message("hello"), user.group_message(f"/help@{BOT_USERNAME}"), user.added_to_group(),
        user.channel_post("news"), other.text("/help"), other.text("/start s"),
    ]


async def conversation(name: str, engine: Engine) -> list[tuple[str, dict[str, Any]]]:
    api = FakeBotAPI()
    await api.start()
    harness = HARNESSES[name](api, engine, None)
    await harness.start()
    try:
        for update in script(engine):
            assert await harness.send(update) == 200
    finally:
        await harness.stop()
        await api.stop()
    assert api.problems() == []
    return [(r.method, r.params) for r in api.requests if r.method in CONVERSATION]


async def test_the_same_conversation_makes_the_same_bot_api_calls_on_both_adapters(fixture_engine: Engine) -> None:
    calls = {name: await conversation(name, fixture_engine) for name in sorted(HARNESSES)}
    reference = calls["aiogram-polling"]
    assert {method for method, _ in reference} == set(CONVERSATION)
    assert len(reference) > 20
    for name, made in calls.items():
        assert len(made) == len(reference), name
        for number, (theirs, ours) in enumerate(zip(made, reference, strict=True)):
            assert theirs == ours, f"{name}, call {number}"


async def test_setup_makes_the_same_calls_on_both_adapters(fixture_engine: Engine) -> None:
    made: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for channel in (telegram_aiogram, telegram_ptb):
        api = FakeBotAPI()
        await api.start()
        try:
            lines = await channel.setup(fixture_engine, channel.create_bot(TOKEN, api.base), "ja")
        finally:
            await api.stop()
        assert api.problems() == []
        made[channel.__name__] = [(r.method, r.params) for r in api.requests if r.method != "getMe"]
        assert len(lines) == len(made[channel.__name__]) == 9
    assert made["bot.channels.telegram.ptb_bot"] == made["bot.channels.telegram.aiogram_bot"]
