"""The Telegram channel end to end: real HTTP to a fake Bot API server, in polling and webhook mode.

Every scenario runs once per entry of ``HARNESSES`` (aiogram and python-telegram-bot, each polling and
by webhook): one suite, two adapters. Every request the bot makes is checked against the Bot API spec after each test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.channels.telegram.common import MEDIA_FIELDS
from bot.engine import Engine, Event, Reply
from tests.fakes.bot_api import BOT_USERNAME, FakeBotAPI, Request
from tests.fakes.harness import HARNESSES, SECRET, Harness
from tests.fakes.updates import MEDIA_SAMPLES, Updates

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # aiogram warns with the whole update



def sent(api: FakeBotAPI) -> list[Request]:
    return api.calls("sendMessage", "editMessageText")


def assert_shows(request: Request, reply: Reply) -> None:
    """The request shows exactly this reply: text, and every button with its id or link."""
    assert request.params["text"] == reply.text
    rows = request.params["reply_markup"]["inline_keyboard"]
    shown = [[(b["text"], b.get("callback_data"), b.get("url")) for b in row] for row in rows]
    assert shown == [[(b.label, b.id if b.url is None else None, b.url) for b in row] for row in reply.buttons]


async def test_start_shows_the_first_screen_with_button_ids_as_callback_data(bot: Harness, fixture_engine: Engine):
    assert await bot.send(Updates(lang="ja").text("/start")) == 200
    [request] = sent(bot.api)
    assert request.method == "sendMessage" and request.params["chat_id"] == 5550001
    assert_shows(request, fixture_engine.handle(Event("start", "", "ja"))[0])
    # aiogram's calls are one JSON body each (no urlencoding of Japanese text byte by byte); PTB posts forms.
    assert {r.body for r in bot.api.requests} == {"json" if type(bot).__name__.startswith("Aiogram") else "form"}


async def test_a_deep_link_opens_the_audience_menu_in_the_language_it_names(bot: Harness, fixture_engine: Engine):
    await bot.send(Updates(lang="ja").text("/start p-en-spring2027"))
    await bot.send(Updates(lang="en-US").text(f"/start@{BOT_USERNAME} t"))
    parent, teen = sent(bot.api)
    assert_shows(parent, fixture_engine.handle(Event("start", "p-en-spring2027", "ja"))[0])
    assert parent.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"].startswith("1:en:p:parent.")
    assert_shows(teen, fixture_engine.handle(Event("start", "t", "en"))[0])


async def test_a_press_is_answered_and_edits_the_message_in_place(bot: Harness, fixture_engine: Engine):
    user = Updates(lang="ja")
    data = fixture_engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    await bot.send(user.press(data, message_id=77))
    [answer] = bot.api.calls("answerCallbackQuery")
    assert answer.params == {"callback_query_id": answer.params["callback_query_id"]}
    [edit] = sent(bot.api)
    assert edit.method == "editMessageText" and edit.params["message_id"] == 77
    assert_shows(edit, fixture_engine.handle(Event("press", data))[0])


async def test_a_press_on_a_message_with_referral_cards_keeps_it_and_sends_a_new_one(
        bot: Harness, fixture_engine: Engine):
    outdated = fixture_engine.handle(Event("press", "forged"))[0]
    assert outdated.referrals, "the outdated screen names a service"
    home = next(b.id for row in outdated.buttons for b in row if b.id and b.id.endswith(":@home"))
    await bot.send(Updates().press(home, message_id=78))
    [message] = sent(bot.api)
    assert message.method == "sendMessage"
    assert len(bot.api.calls("answerCallbackQuery")) == 1


@pytest.mark.parametrize("data", ["forged", "1:ja:x:start.menu:nowhere", "1:xx:q:a:b", "x" * 64, "1:ja:x:" + "あ" * 19])
async def test_forged_callback_data_gets_the_outdated_screen_and_no_spinner(
        bot: Harness, fixture_engine: Engine, data: str):
    await bot.send(Updates(lang="en").press(data))
    assert len(bot.api.calls("answerCallbackQuery")) == 1
    [message] = sent(bot.api)
    expected = fixture_engine.handle(Event("press", data, "en"))[0]
    assert expected.screen == "start.outdated"
    assert_shows(message, expected)


async def test_a_press_on_a_message_too_old_to_read_gets_a_new_message(bot: Harness, fixture_engine: Engine):
    data = fixture_engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    await bot.send(Updates().press(data, accessible=False))
    assert [r.method for r in sent(bot.api)] == ["sendMessage"]


async def test_every_media_kind_gets_the_advice_and_nothing_is_downloaded(bot: Harness, fixture_engine: Engine):
    advice = fixture_engine.handle(Event("media", "photo", "ja"))[0].text
    user = Updates(lang="ja")
    for kind in MEDIA_SAMPLES:
        await bot.send(user.media(kind, caption="hello"))
    assert [r.params["text"] for r in sent(bot.api)] == [advice] * len(MEDIA_SAMPLES)
    assert {"photo", "video", "voice", "document", "sticker", "contact", "location"} <= set(MEDIA_SAMPLES)
    assert {name for name, _ in MEDIA_FIELDS} >= set(MEDIA_SAMPLES)


async def test_a_group_gets_one_kind_pointer_to_a_private_chat_and_nothing_about_anyone(bot: Harness):
    user = Updates(first_name="Kenta", username="kenta_q", lang="ja")
    await bot.send(user.group_message("hello everyone"))  # not for the bot: silence
    await bot.send(user.group_message(f"/start@{BOT_USERNAME}"))
    await bot.send(user.group_message(f"@{BOT_USERNAME} help me"))
    await bot.send(user.added_to_group())
    await bot.send(user.group_message("/help@another_bot"))
    await bot.send(user.channel_post("news"))
    assert [r.method for r in bot.api.requests if r.method != "getUpdates"].count("sendMessage") == 3
    for request in sent(bot.api):
        assert request.params["chat_id"] == -1001234567890
        assert "Kenta" not in request.params["text"] and "kenta_q" not in request.params["text"]
        assert "reply_parameters" not in request.params
        [[button]] = request.params["reply_markup"]["inline_keyboard"]
        assert button["url"] == f"https://t.me/{BOT_USERNAME}"


@pytest.mark.parametrize("command", ["help", "language", "privacy", "cancel", "dance"])
async def test_commands_show_their_screens(bot: Harness, fixture_engine: Engine, command: str):
    await bot.send(Updates(lang="en").text(f"/{command}"))
    expected = fixture_engine.handle(Event("command", command if command != "dance" else "help", "en"))[0]
    [request] = sent(bot.api)
    assert_shows(request, expected)


async def test_the_users_language_is_used_and_an_unknown_one_falls_back(bot: Harness, fixture_engine: Engine):
    await bot.send(Updates(lang="en-GB").text("/privacy"))
    await bot.send(Updates(lang="ko").text("/privacy"))
    await bot.send(Updates(lang=None).text("/privacy"))
    texts = [r.params["text"] for r in sent(bot.api)]
    assert texts == [fixture_engine.handle(Event("command", "privacy", lang))[0].text for lang in ("en", "ja", "ja")]


async def test_typed_text_is_answered(bot: Harness, fixture_engine: Engine):
    await bot.send(Updates(lang="ja").text("どうしよう"))
    [request] = sent(bot.api)
    assert_shows(request, fixture_engine.handle(Event("text", "どうしよう", "ja"))[0])


async def test_edited_messages_channel_posts_and_unknown_updates_are_silence(bot: Harness):
    user = Updates()
    for update in (user.edited("changed"), user.unknown("future"), user.channel_post("hi"), user.message(None)):
        assert await bot.send(update) == 200
    assert sent(bot.api) == []


@pytest.mark.parametrize(("status", "retry_after"), [(429, 1), (500, None), (502, None)])
async def test_a_failed_send_is_retried_until_it_succeeds(bot: Harness, status: int, retry_after: int | None):
    bot.api.fail("sendMessage", status, retry_after=retry_after)
    await bot.send(Updates().text("/start"))
    attempts = bot.api.calls("sendMessage")
    assert len(attempts) == 2
    assert attempts[0].params == attempts[1].params


async def test_the_webhook_refuses_a_wrong_or_missing_secret_and_bad_bodies(bot: Harness):
    if not bot.webhook:
        pytest.skip("polling has no webhook")
    body = json.dumps(Updates().text("x")).encode()
    assert await bot.post(body, None) == 401
    assert await bot.post(body, "wrong") == 401
    assert await bot.post(body, SECRET[:-1]) == 401
    assert sent(bot.api) == []
    assert await bot.post(b"not json", SECRET) == 400
    assert await bot.post(b"[1, 2]", SECRET) == 400
    assert await bot.post(b'{"update_id": "x", "message": 5}', SECRET) == 400  # not an Update
    assert await bot.post(b'{"update_id": 5, "message": 5}', SECRET) == 200  # an Update we cannot read: not resent
    assert await bot.post(body, SECRET) == 200
    assert len(sent(bot.api)) == 1


def test_callback_data_and_texts_of_every_reachable_screen_fit_telegram(fixture_engine: Engine) -> None:
    from bot.channels.telegram.common import message_params
    from tests.fakes.bot_api_spec import validate

    seen: set[str] = set()
    queue = [b for r in fixture_engine.handle(Event("start", "")) for b in r.button_ids()]
    while queue:
        button_id = queue.pop()
        if button_id in seen:
            continue
        seen.add(button_id)
        for reply in fixture_engine.handle(Event("press", button_id)):
            params: dict[str, Any] = {"chat_id": 1, **message_params(reply)}
            assert validate("sendMessage", params) == []
            queue.extend(reply.button_ids())
    assert len(seen) > 20


def test_the_spec_validator_rejects_bad_requests() -> None:
    from tests.fakes.bot_api_spec import validate

    button = {"text": "ok", "callback_data": "1:ja:x:start.menu:teen.menu"}
    good = {"chat_id": 1, "text": "hi", "reply_markup": {"inline_keyboard": [[button]]}}
    assert validate("sendMessage", good) == []
    assert validate("sendMesage", good) == ["unknown method 'sendMesage'"]
    assert "missing required field 'chat_id'" in validate("sendMessage", {"text": "hi"})[0]
    assert "5000 characters" in validate("sendMessage", {**good, "text": "あ" * 5000})[0]
    assert validate("sendMessage", {**good, "text": ""}) != []
    assert "expected Integer or String" not in validate("sendMessage", {**good, "chat_id": 1.5})
    assert validate("sendMessage", {**good, "chat_id": [1]}) != []
    assert validate("sendMessage", {**good, "colour": "red"}) == ["sendMessage: unknown field 'colour'"]
    long_data = {"text": "x", "callback_data": "x" * 65}
    assert any("65 bytes" in p for p in validate("sendMessage", {**good, "reply_markup": {
        "inline_keyboard": [[long_data]]}}))
    many = {"inline_keyboard": [[button] for _ in range(101)]}
    assert validate("sendMessage", {**good, "reply_markup": many}) == [
        "sendMessage.reply_markup: 101 buttons, at most 100"]
    assert validate("answerCallbackQuery", {"callback_query_id": 5}) != []
    assert validate("setMyCommands", {"commands": [{"command": "start"}]}) != []
    # In a JSON body an object is an object: the keyboard as a string of JSON is a wrong type.
    assert validate("sendMessage", {**good, "reply_markup": json.dumps(good["reply_markup"])}) != []


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_flood_control_drops_extra_answers_but_never_an_emergency(api: FakeBotAPI, fixture_engine: Engine,
                                                                        framework: str):
    from bot.channels.telegram.common import FloodGate

    harness = HARNESSES[f"{framework}-webhook"](api, fixture_engine, FloodGate(limit=2, window=60))
    await harness.start()
    user = Updates(lang="ja")
    for _ in range(4):
        await harness.send(user.text("/help"))
    await harness.send(user.text("助けて 今 家の前にいる"))
    other = Updates(user_id=5550002)
    await harness.send(other.text("/help"))
    await harness.stop()
    texts = [(r.params["chat_id"], r.params["text"]) for r in sent(api)]
    emergency = fixture_engine.handle(Event("text", "助けて 今 家の前にいる", "ja"))[0]
    assert emergency.emergency
    help_text = fixture_engine.handle(Event("command", "help", "ja"))[0].text
    assert texts == [(5550001, help_text)] * 2 + [(5550001, emergency.text), (5550002, help_text)]


def test_a_flood_gate_window_ends() -> None:
    from bot.channels.telegram.common import FloodGate

    now = [0.0]
    gate = FloodGate(limit=1, window=10, clock=lambda: now[0])
    assert [gate.allow(7), gate.allow(7), gate.allow(8), gate.allow(7, emergency=True)] == [True, False, True, True]
    now[0] = 10.5
    assert gate.allow(7)


def test_a_flood_gate_counts_across_its_table_renewals_and_forgets_quiet_chats() -> None:
    from bot.channels.telegram.common import FloodGate

    now = [0.0]
    gate = FloodGate(limit=2, window=10, clock=lambda: now[0])
    now[0] = 9.0
    assert [gate.allow(7), gate.allow(7)] == [True, True]
    now[0] = 12.0  # a new table; chat 7's window (9-19 s) goes on in it
    assert not gate.allow(7)
    for chat in range(1000, 6000):
        gate.allow(chat)
    assert gate.counted() == 5001
    now[0] = 25.0
    gate.allow(1)
    now[0] = 36.0  # two renewals later nothing from before 25 s is kept
    gate.allow(2)
    assert gate.counted() == 2
    assert gate.allow(7) and gate.allow(1000)  # counted afresh


TRANSCRIPTS = sorted(p for p in (Path(__file__).parent / "transcripts").glob("*.jsonl") if ".out." not in p.name)


def update_for(user: Updates, event: dict[str, str], message_id: int) -> dict[str, Any] | None:
    user.lang = event.get("lang")
    if "start" in event:
        return user.text(f"/start {event['start']}".strip())
    if "command" in event:
        return user.text(f"/{event['command']}")
    if "text" in event:
        return user.text(event["text"])
    if "press" in event:
        return user.press(event["press"], message_id=message_id)
    return user.media(event["media"]) if event["media"] in MEDIA_SAMPLES else None


async def test_the_golden_conversations_read_the_same_through_telegram(api: FakeBotAPI, shipped_engine: Engine):
    """Every golden transcript's events, replayed as Telegram updates, show exactly the engine's answers."""
    from bot.channels.protocol import answer_line
    from bot.channels.telegram.common import FloodGate

    assert TRANSCRIPTS
    replayed = 0
    for name in sorted(HARNESSES):
        harness = HARNESSES[name](api, shipped_engine, FloodGate(limit=10_000))
        await harness.start()
        for number, case in enumerate(TRANSCRIPTS):
            text = case.read_text(encoding="utf-8")
            lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            user = Updates(user_id=6000 + number)
            for line in lines:
                try:
                    update = update_for(user, json.loads(line), message_id=9000 + number)
                except (ValueError, KeyError):  # the transcripts' deliberately broken lines
                    continue
                if update is None:
                    continue
                before = len(sent(api))
                await harness.send(update)
                shown = [(r.params["text"], r.params.get("reply_markup")) for r in sent(api)[before:]]
                expected = [(reply["text"], {"inline_keyboard": [
                    [{"text": b["label"], **({"url": b["url"]} if "url" in b else {"callback_data": b["id"]})}
                     for b in row] for row in reply["buttons"]]} if reply["buttons"] else None)
                    for reply in answer_line(shipped_engine, line)["replies"]]
                assert shown == expected, f"{name}: {case.name}: {line}"
                replayed += 1
        await harness.stop()
    assert replayed > 100
