"""What Anshin reads of an update (bot/channels/telegram/updates.py): the rest is left out before aiogram or
python-telegram-bot builds objects of it, in every mode, and what is left reads the same in both."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from aiogram.types import InaccessibleMessage, Message
from aiogram.types import Update as AiogramUpdate
from telegram import Update as PtbUpdate

from bot.channels.telegram.updates import PRESSED_MESSAGE_FIELDS, trim_update, trim_updates_answer
from bot.engine import Engine, Event
from tests.fakes.harness import Harness
from tests.fakes.updates import MEDIA_SAMPLES, Updates

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

EIGHT_BUTTONS = [[{"text": f"ボタン{i}", "callback_data": f"1:ja:t:teen.{i}"}] for i in range(8)]


def test_a_press_keeps_its_data_sender_and_the_pressed_messages_chat_id_and_date() -> None:
    update = Updates(lang="en").press("1:ja:t:teen.menu", message_id=77, message_text="あ" * 300,
                                      keyboard=EIGHT_BUTTONS)
    before = copy.deepcopy(update)
    trimmed = trim_update(update)
    assert update == before, "the parsed JSON given is not changed"
    pressed = trimmed["callback_query"]["message"]
    assert set(pressed) == {"message_id", "date", "chat"} <= set(PRESSED_MESSAGE_FIELDS)
    assert pressed["message_id"] == 77 and pressed["chat"] == update["callback_query"]["message"]["chat"]
    assert {k: v for k, v in trimmed["callback_query"].items() if k != "message"} == \
        {k: v for k, v in update["callback_query"].items() if k != "message"}


def test_a_message_keeps_its_text_and_attachments_and_loses_entities_and_the_message_it_replies_to() -> None:
    user = Updates()
    update = user.text("/start t-ja-spring2027")
    update["message"]["reply_to_message"] = user.text("earlier")["message"]
    trimmed = trim_update(update)["message"]
    assert trimmed["text"] == "/start t-ja-spring2027"
    assert "entities" not in trimmed and "reply_to_message" not in trimmed
    photo = user.media("photo", caption="見て")
    photo["message"]["caption_entities"] = [{"type": "bold", "offset": 0, "length": 1}]
    assert trim_update(photo)["message"] == {k: v for k, v in photo["message"].items() if k != "caption_entities"}
    plain = user.text("こんにちは")
    assert trim_update(plain) is plain, "nothing to leave out: the same object"


@pytest.mark.parametrize("update", [
    {"update_id": 1, "message": ["not", "a", "message"]},
    {"update_id": 1, "callback_query": {"id": "1", "message": "not a message"}},
    {"update_id": 1, "callback_query": "not a query"},
    {"update_id": 1, "edited_message": {"text": "x", "entities": []}},
    {"update_id": 1},
])
def test_other_shapes_are_left_as_they_came_for_the_framework_to_refuse(update: dict[str, Any]) -> None:
    assert trim_update(update) == update


def test_a_get_updates_answer_is_trimmed_update_by_update_and_any_other_answer_left_alone() -> None:
    user = Updates()
    updates = [user.press("1:ja:t:teen.menu", keyboard=EIGHT_BUTTONS), user.text("/help"), "junk"]
    answer = json.loads(trim_updates_answer(json.dumps({"ok": True, "result": updates})))
    assert answer == {"ok": True, "result": [trim_update(updates[0]), trim_update(updates[1]), "junk"]}
    as_bytes = trim_updates_answer(json.dumps({"ok": True, "result": updates}).encode())
    assert isinstance(as_bytes, bytes) and json.loads(as_bytes)["result"][0] == answer["result"][0]
    for other in ('{"ok": false, "error_code": 409, "description": "Conflict"}', "<html>Bad Gateway</html>",
                  '{"ok": true, "result": true}', b"\xff\xfe"):
        assert trim_updates_answer(other) == other


@pytest.mark.parametrize("accessible", [True, False])
def test_a_trimmed_press_reads_as_the_same_kind_of_message_in_both_frameworks(accessible: bool) -> None:
    update = Updates().press("1:ja:t:teen.menu", message_id=9, accessible=accessible, keyboard=EIGHT_BUTTONS)
    full, trimmed = AiogramUpdate.model_validate(update), AiogramUpdate.model_validate(trim_update(update))
    assert full.callback_query and trimmed.callback_query
    kind = Message if accessible else InaccessibleMessage
    assert isinstance(full.callback_query.message, kind) and isinstance(trimmed.callback_query.message, kind)
    assert trimmed.callback_query.message.chat.id == full.callback_query.message.chat.id
    ptb = PtbUpdate.de_json(trim_update(update), None)
    assert ptb.callback_query is not None and ptb.callback_query.message is not None
    assert ptb.callback_query.message.is_accessible is accessible
    assert ptb.callback_query.message.message_id == 9


async def test_a_press_is_answered_whatever_the_pressed_messages_keyboard_holds(bot: Harness,
                                                                                fixture_engine: Engine) -> None:
    """The keyboard is not read, so one no framework could build (a client's bug, a future field) changes
    nothing: in polling and webhook mode, on both adapters, the press is answered and the screen shown."""
    data = fixture_engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    await bot.send(Updates().press(data, message_id=78, keyboard="not a keyboard"))
    assert len(bot.api.calls("answerCallbackQuery")) == 1
    [edit] = bot.api.calls("editMessageText")
    assert edit.params["message_id"] == 78
    assert edit.params["text"] == fixture_engine.handle(Event("press", data))[0].text


async def test_a_message_is_answered_whatever_the_message_it_replies_to_holds(bot: Harness,
                                                                              fixture_engine: Engine) -> None:
    update = Updates().text("/help")
    update["message"]["reply_to_message"] = {"message_id": "not a message"}
    await bot.send(update)
    [reply] = bot.api.calls("sendMessage")
    assert reply.params["text"] == fixture_engine.handle(Event("command", "help", "ja"))[0].text


def test_media_samples_keep_every_field_that_names_their_kind() -> None:
    for kind, fields in MEDIA_SAMPLES.items():
        trimmed = trim_update(Updates().media(kind))["message"]
        assert set(fields) <= set(trimmed), kind
