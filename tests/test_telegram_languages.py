"""Telegram in languages beyond ja/en (issue 10): the language menu switches to non-Latin scripts, and a
client's language_code picks the locale. Shipped content, real HTTP to the fake Bot API, every adapter."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.engine import Engine, Event
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.harness import HARNESSES, Harness
from tests.fakes.updates import Updates


@pytest.fixture(params=sorted(HARNESSES))
async def bot(request: pytest.FixtureRequest, api: FakeBotAPI, shipped_engine: Engine) -> AsyncIterator[Harness]:
    harness = HARNESSES[request.param](api, shipped_engine, None)
    await harness.start()
    yield harness
    await harness.stop()


@pytest.mark.parametrize("locale", ["ko", "zh_Hans", "ne", "ja_Easy"])
async def test_the_language_menu_switches_to_another_script(bot: Harness, shipped_engine: Engine, locale: str):
    user = Updates(lang="en")
    await bot.send(user.text("/language"))
    [menu] = bot.api.calls("sendMessage")
    name = shipped_engine.content.catalogs.gettext(locale, "sys.language_name")
    [choice] = [b["callback_data"] for row in menu.params["reply_markup"]["inline_keyboard"] for b in row
                if b["text"] == name]
    await bot.send(user.press(choice, message_id=10))
    [shown] = bot.api.calls("sendMessage", "editMessageText")[1:]
    expected = shipped_engine.handle(Event("press", choice))[0]
    assert shown.params["text"] == expected.text
    assert shipped_engine.content.catalogs.gettext(locale, "start.menu") in shown.params["text"]


@pytest.mark.parametrize(("language_code", "word_msgid", "locale"),
                         [("ko-KR", "start.menu.btn.teen", "ko"), ("zh-hans", "start.menu.btn.teen", "zh_Hans"),
                          ("pt-br", "start.menu.btn.teen", "pt_BR"), ("tl", "start.menu.btn.teen", "fil")])
async def test_the_clients_language_code_picks_the_locale(bot: Harness, shipped_engine: Engine,
                                                          language_code: str, word_msgid: str, locale: str):
    await bot.send(Updates(lang=language_code).text("/start"))
    [shown] = bot.api.calls("sendMessage")
    labels = [b["text"] for row in shown.params["reply_markup"]["inline_keyboard"] for b in row]
    assert shipped_engine.content.catalogs.gettext(locale, word_msgid) in labels
