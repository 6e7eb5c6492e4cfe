"""What the Telegram adapters send and read, made cheap without changing it (issues 4, 5 and 8)."""

from __future__ import annotations

import gc
import json
from typing import Any

import pydantic._internal._generics as pydantic_generics
import pytest
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.exceptions import ClientDecodeError, TelegramBadRequest, TelegramRetryAfter
from aiogram.methods import AnswerCallbackQuery, DeleteWebhook, EditMessageText, GetMe, GetUpdates, SendMessage
from aiogram.types import InlineKeyboardMarkup, User
from telegram import InlineKeyboardMarkup as PtbKeyboard

from bot.channels.telegram import aiogram_bot as telegram_aiogram
from bot.channels.telegram import ptb_bot as telegram_ptb
from bot.channels.telegram.aiogram_session import RESPONSE_TYPES, UNREAD_RESULTS, AnshinSession
from bot.engine import Engine, Event, Reply
from tests.fakes.bot_api_spec import decode_form, validate

TOKEN = "123456789:AAH-serialisation-test-token_0123456"


def form_fields(session: AiohttpSession, bot: Bot, method: Any) -> dict[str, Any]:
    """The fields of aiogram's own form data, read as the Bot API reads them (by the spec's types)."""
    form = session.build_form_data(bot, method)
    return decode_form(method.__api_method__, {options["name"]: value for options, _headers, value in form._fields})


def replies(engine: Engine) -> list[Reply]:
    start = [reply for lang in ("ja", "en") for reply in engine.handle(Event("start", "", lang))]
    pressed = [reply for first in start for button_id in first.button_ids()[:3]
               for reply in engine.handle(Event("press", button_id, "ja"))]
    return start + pressed


async def test_anshin_session_sends_the_fields_aiogram_would(fixture_engine: Engine) -> None:
    ours, theirs = AnshinSession(), AiohttpSession()
    bot = Bot(TOKEN)
    checked = 0
    methods: list[Any] = [AnswerCallbackQuery(callback_query_id="42"),
                          AnswerCallbackQuery(callback_query_id="4", text="")]
    for reply in replies(fixture_engine):
        params = telegram_aiogram._reply_params(reply)
        assert params["reply_markup"] is None or isinstance(params["reply_markup"], InlineKeyboardMarkup)
        methods += [SendMessage(chat_id=7, **params), EditMessageText(chat_id=7, message_id=3, **params)]
    configured = Bot(TOKEN, default=DefaultBotProperties(parse_mode="HTML", protect_content=True))
    for method in methods:
        for _ in range(2):  # the second time from the cache
            for sender in (bot, configured):  # defaults resolved as aiogram resolves them
                body = json.loads(ours.build_json_body(sender, method))
                assert body == form_fields(theirs, sender, method)
                assert not validate(method.__api_method__, body)
        checked += 1
    assert json.loads(ours.build_json_body(configured, methods[-1]))["parse_mode"] == "HTML"
    assert checked >= 10 and len(ours._serialised) > 1
    await ours.close()
    await theirs.close()


def test_anshin_session_does_not_confuse_two_keyboards() -> None:
    session, bot = AnshinSession(), Bot(TOKEN)
    first = InlineKeyboardMarkup.model_validate({"inline_keyboard": [[{"text": "a", "callback_data": "1"}]]})
    second = InlineKeyboardMarkup.model_validate({"inline_keyboard": [[{"text": "b", "callback_data": "2"}]]})
    assert json.loads(session.shared_json(first, bot))["inline_keyboard"][0][0]["text"] == "a"
    for n in range(200):  # short-lived keyboards: a freed object's id is soon another's
        temporary = InlineKeyboardMarkup.model_validate({"inline_keyboard": [[{"text": str(n), "callback_data": "3"}]]})
        assert json.loads(session.shared_json(temporary, bot))["inline_keyboard"][0][0]["text"] == str(n)
    assert json.loads(session.shared_json(second, bot))["inline_keyboard"][0][0]["text"] == "b"
    assert json.loads(session.shared_json(first, bot))["inline_keyboard"][0][0]["text"] == "a"
    for n in range(200):  # short-lived keyboards: a freed object's id is soon another's
        temporary = InlineKeyboardMarkup.model_validate({"inline_keyboard": [[{"text": str(n), "callback_data": "3"}]]})
        assert json.loads(session.shared_json(temporary, bot))["inline_keyboard"][0][0]["text"] == str(n)


def test_shared_ptb_keyboard_is_the_keyboard_ptb_would_send(fixture_engine: Engine) -> None:
    keyboards = [telegram_ptb._keyboard(reply.buttons) for reply in replies(fixture_engine)]
    assert any(keyboards)
    for keyboard in filter(None, keyboards):
        plain = PtbKeyboard(keyboard.inline_keyboard)
        assert keyboard.to_dict() == plain.to_dict() and keyboard.to_json() == plain.to_json()
        keyboard.to_dict()["inline_keyboard"] = []  # a caller changing its copy changes no later call
        assert keyboard.to_dict() == plain.to_dict()


def test_answers_are_read_without_building_a_response_class_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """pydantic keeps ``Response[Message]`` only weakly; without ``RESPONSE_TYPES`` every answer after a garbage
    collection built the class again (a fifth of a webhook worker's CPU). Each is built at most once, when the
    first answer to its method comes."""
    built: list[str] = []
    create = pydantic_generics.create_generic_submodel

    def counting(name: str, *args: Any) -> Any:
        built.append(name)
        return create(name, *args)

    monkeypatch.setattr(pydantic_generics, "create_generic_submodel", counting)
    session, bot = AnshinSession(), Bot(TOKEN)
    me = {"id": 1, "is_bot": True, "first_name": "Anshin", "username": "anshin_bot"}
    first: list[str] = []
    for round_ in range(20):  # answers Anshin reads (the others are not built at all, see below)
        calls: list[tuple[Any, Any]] = [(GetMe(), me), (GetUpdates(), []), (DeleteWebhook(), True)]
        for method, result in calls:
            session.check_response(bot, method, 200, json.dumps({"ok": True, "result": result}))
        gc.collect()
        if round_ == 0:
            first = list(built)
    assert len(first) <= 3 and built == first
    assert {GetMe, GetUpdates, DeleteWebhook} <= set(RESPONSE_TYPES)


def test_answers_whose_result_is_never_read_are_checked_but_not_built() -> None:
    session, bot = AnshinSession(), Bot(TOKEN)
    message = {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "ok"}
    calls: list[tuple[Any, Any]] = [(SendMessage(chat_id=1, text="x"), message),
                                    (AnswerCallbackQuery(callback_query_id="1"), True),
                                    (EditMessageText(chat_id=1, message_id=1, text="x"), message)]
    for method, result in calls:
        assert method.__api_method__ in UNREAD_RESULTS
        assert session.check_response(bot, method, 200, json.dumps({"ok": True, "result": result})).result is None
        refused = json.dumps({"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"})
        with pytest.raises(TelegramBadRequest):
            session.check_response(bot, method, 400, refused)
        with pytest.raises(TelegramRetryAfter):
            session.check_response(bot, method, 429, json.dumps(
                {"ok": False, "error_code": 429, "description": "Too Many Requests", "parameters": {"retry_after": 3}}))
        with pytest.raises(ClientDecodeError):
            session.check_response(bot, method, 200, '{"ok": true, "resu')
    me = session.check_response(bot, GetMe(), 200, json.dumps(
        {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "A"}})).result
    assert isinstance(me, User) and me.first_name == "A"  # an answer Anshin reads is built as before
