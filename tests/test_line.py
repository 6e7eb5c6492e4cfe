"""The LINE channel end to end: signed webhook bodies over real HTTP, replies to a fake LINE API that checks every
request against messaging-api.yml. Every event posted is checked against webhook.yml first."""

from __future__ import annotations

import gzip
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.channels.line.events import MEDIA_TYPES
from bot.channels.line.messages import MAX_LABEL, Messages, length, tel_uri
from bot.engine import Engine, Event, Reply
from bot.metrics import ReachMetrics
from tests.fakes.line_api import ACCESS_TOKEN, FakeLineAPI, LineCall
from tests.fakes.line_events import MEDIA_SAMPLES, LineUser, body, encode, sign
from tests.fakes.line_harness import LineHarness

GROUP_ID = "C" + "7" * 32
ROOM_ID = "R" + "8" * 32


@pytest.fixture
async def line_api() -> AsyncIterator[FakeLineAPI]:
    """A fake LINE API; after the test every request kept to messaging-api.yml, and nothing but the reply API
    and leaving groups was called (no push, no profile, no message content)."""
    api = FakeLineAPI()
    await api.start()
    yield api
    await api.stop()
    assert api.problems() == [], "a request broke messaging-api.yml or LINE's documented limits"
    assert {c.operation for c in api.calls} <= {"replyMessage", "leaveGroup", "leaveRoom"}
    assert {c.token for c in api.calls} <= {ACCESS_TOKEN}


@pytest.fixture
async def line(line_api: FakeLineAPI, fixture_engine: Engine) -> AsyncIterator[LineHarness]:
    async with LineHarness(line_api, fixture_engine) as harness:
        yield harness


def actions(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [item["action"] for item in message.get("quickReply", {}).get("items", [])]


def assert_shows(call: LineCall, reply: Reply, token: str | None = None) -> None:
    """The reply call shows exactly this engine reply: its text, every button id as postback data, every link."""
    [message] = call.body["messages"]
    assert message["type"] == "text" and message["text"] == reply.text
    shown = actions(message)
    assert [a["data"] for a in shown if a["type"] == "postback"] == [
        b.id for b in sorted((b for row in reply.buttons for b in row if b.url is None),
                             key=lambda b: not (b.id or "").endswith(":@person"))]
    links = [b.url for row in reply.buttons for b in row if b.url is not None]
    assert [a["uri"] for a in shown if a["type"] == "uri" and not a["uri"].startswith("tel:")] == links
    assert all("displayText" not in a and length(a["label"]) <= MAX_LABEL for a in shown)
    if token is not None:
        assert call.body["replyToken"] == token


async def test_following_the_account_shows_the_start_screen_in_japanese(line: LineHarness, fixture_engine: Engine):
    user = LineUser()
    assert await line.send(user.follow()) == 200
    [call] = line.api.replies()
    assert_shows(call, fixture_engine.handle(Event("start", "", "ja"))[0], user.sent[0])


async def test_a_press_is_the_postback_data_and_shows_its_screen(line: LineHarness, fixture_engine: Engine):
    first = fixture_engine.handle(Event("start", "", "ja"))[0].buttons[0][0].id or ""
    await line.send(LineUser().press(first))
    [call] = line.api.replies()
    assert_shows(call, fixture_engine.handle(Event("press", first))[0])


@pytest.mark.parametrize("data", ["forged", "1:ja:x:start.menu:nowhere", "1:xx:q:a:b", "x" * 300, ""])
async def test_forged_postback_data_gets_the_outdated_screen(line: LineHarness, fixture_engine: Engine, data: str):
    await line.send(LineUser().press(data))
    [call] = line.api.replies()
    expected = fixture_engine.handle(Event("press", data, "ja"))[0]
    assert expected.screen == "start.outdated"
    assert_shows(call, expected)


async def test_typed_text_and_commands_are_answered_in_the_default_language(line_api: FakeLineAPI,
                                                                         fixture_engine: Engine):
    async with LineHarness(line_api, fixture_engine, lang="en") as line:
        user = LineUser()
        for text in ("どうしよう", "/help", "/privacy", "/START t", "/dance"):
            await line.send(user.text(text))
    expected = [fixture_engine.handle(e)[0] for e in (
        Event("text", "どうしよう", "en"), Event("command", "help", "en"), Event("command", "privacy", "en"),
        Event("start", "t", "en"), Event("text", "/dance", "en"))]
    for call, reply in zip(line_api.replies(), expected, strict=True):
        assert_shows(call, reply)


async def test_a_campaign_text_opens_its_audience_menu_in_its_language_and_is_counted(
        line_api: FakeLineAPI, fixture_engine: Engine):
    metrics = ReachMetrics.for_engine(fixture_engine, ["spring2027"])
    async with LineHarness(line_api, fixture_engine, metrics=metrics) as line:
        await line.send(LineUser().text("/start p-en-spring2027"))
    [call] = line_api.replies()
    reply = fixture_engine.handle(Event("start", "p-en-spring2027", "ja"))[0]
    assert reply.screen == "parent.menu" and reply.locale == "en"
    assert_shows(call, reply)
    assert 'anshin_starts_total{audience="parent",campaign="spring2027",locale="en"} 1.0' in \
        metrics.exposition().decode()


async def test_every_media_kind_gets_the_advice_and_nothing_is_downloaded(line: LineHarness, fixture_engine: Engine):
    advice = fixture_engine.handle(Event("media", "photo", "ja"))[0].text
    user = LineUser()
    assert set(MEDIA_SAMPLES) == set(MEDIA_TYPES) == {"image", "video", "audio", "file", "location", "sticker"}
    await line.send(*(user.media(kind) for kind in MEDIA_SAMPLES))
    assert [c.body["messages"][0]["text"] for c in line.api.replies()] == [advice] * len(MEDIA_SAMPLES)
    assert [c.body["replyToken"] for c in line.api.replies()] == user.sent


@pytest.mark.parametrize("chat", ["group", "room"])
async def test_a_group_or_room_gets_one_kind_message_and_the_bot_leaves(line_api: FakeLineAPI, fixture_engine: Engine,
                                                                       chat: str):
    chat_id = GROUP_ID if chat == "group" else ROOM_ID
    async with LineHarness(line_api, fixture_engine, basic_id="@anshin") as line:
        user = LineUser()
        await line.send(user.join(chat, chat_id))
        await line.send(user.in_group("hello @Anshin help", chat, chat_id), user.member_joined(chat_id)
                        if chat == "group" else user.leave(chat, chat_id))
    [reply] = line_api.replies()
    [message] = reply.body["messages"]
    assert message["text"] == fixture_engine.content.catalogs.gettext("ja", "sys.line.group")
    assert actions(message) == [{"type": "uri", "label": "💬 1対1で話す", "uri": "https://line.me/R/ti/p/@anshin"}]
    leave = "leaveGroup" if chat == "group" else "leaveRoom"
    assert [c.path for c in line_api.of(leave)] == [f"/v2/bot/{chat}/{chat_id}/leave"] * 2  # joined; still there


async def test_unfollow_leave_unsend_member_changes_and_unknown_events_are_silence(line: LineHarness):
    user = LineUser()
    assert await line.send(user.unfollow(), user.unsend(), user.leave(), user.member_left()) == 200
    assert await line.send(user.unknown("futureThing"), valid=False) == 200
    standby = user.text("hello")
    standby["mode"] = "standby"
    assert await line.send(standby) == 200
    assert line.api.calls == []


async def test_a_redelivered_event_is_answered_once(line: LineHarness):
    user = LineUser()
    event = user.text("/help")
    again = json.loads(json.dumps(event))
    again["deliveryContext"]["isRedelivery"] = True
    assert await line.send(event) == 200
    assert await line.send(again) == 200
    other = user.text("/help")
    assert await line.send(other) == 200
    assert [c.body["replyToken"] for c in line.api.replies()] == [event["replyToken"], other["replyToken"]]


async def test_an_event_that_failed_before_its_answer_is_answered_on_redelivery(line: LineHarness):
    """A redelivery of an event that was never answered (the worker died) gets its answer."""
    user = LineUser()
    event = user.text("/help")
    event["deliveryContext"]["isRedelivery"] = True
    assert await line.send(event) == 200
    assert len(line.api.replies()) == 1


async def test_the_signature_is_checked_on_the_raw_body(line: LineHarness):
    raw = encode(body(LineUser().text("/help")))
    good = sign(raw)
    assert await line.post(raw, None) == 401
    assert await line.post(raw, "") == 401
    assert await line.post(raw, sign(raw, "another-secret-0123456789abcdef")) == 401
    assert await line.post(raw, good[:-2] + ("AA" if not good.endswith("AA") else "BB")) == 401
    assert await line.post(raw.replace(b"/help", b"/hel "), good) == 401  # the body changed after signing
    assert await line.post(raw + b" ", good) == 401
    assert line.api.calls == []
    assert await line.post(raw, good) == 200
    assert len(line.api.replies()) == 1


async def test_a_signature_that_is_not_ascii_gets_401(line: LineHarness):
    import asyncio
    from urllib.parse import urlsplit

    raw = encode(body(LineUser().text("/help")))
    parts = urlsplit(line.url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(b"POST " + parts.path.encode() + b" HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"X-Line-Signature: " + "署名".encode() + b"\xff\r\nContent-Length: " + str(len(raw)).encode()
                 + b"\r\nConnection: close\r\n\r\n" + raw)
    await writer.drain()
    status = await asyncio.wait_for(reader.readline(), 5)
    writer.close()
    assert status.split()[1] == b"401"
    assert line.api.calls == []


@pytest.mark.parametrize(("raw", "status"), [
    (b"not json", 400), (b"[1, 2]", 400), (b'{"events": {}}', 400), (b'{"destination": "x"}', 400),
    (b"\xff\xfe{}", 400), (b"[" * 100_000 + b"]" * 100_000, 400), (b'{"events": []}', 200),
    (b'{"destination": "U' + b"d" * 32 + b'", "events": [5, null, "x", {}]}', 200),
])
async def test_bad_bodies_get_4xx_and_an_empty_event_list_200(line: LineHarness, raw: bytes, status: int):
    assert await line.post(raw, sign(raw)) == status
    assert line.api.calls == []


@pytest.mark.parametrize(("encoding", "raw"), [
    ("gzip", gzip.compress(b'{"events": []}')[:10] + b"\x00" * 12), ("deflate", b"not deflate"), ("br", b"\x00\x01")])
async def test_a_body_that_does_not_decode_gets_400(line: LineHarness, encoding: str, raw: bytes):
    """A corrupt gzip was an unhandled read error: aiohttp's 500 (issue 21)."""
    assert await line.post(raw, sign(raw), {"Content-Encoding": encoding}) == 400
    assert line.api.calls == []


async def test_a_5000_digit_number_gets_400(line: LineHarness):
    raw = b'{"destination": "x", "events": [{"n": ' + b"9" * 5000 + b"}]}"
    assert await line.post(raw, sign(raw)) == 400


async def test_a_body_over_one_mebibyte_gets_413(line: LineHarness):
    event = LineUser().text("x")
    under = encode(body({**event, "padding": "x" * ((1 << 20) - 2000)}))
    over = encode(body({**event, "padding": "x" * (1 << 20)}))
    assert await line.post(over, sign(over)) == 413
    assert line.api.calls == []
    assert await line.post(under, sign(under)) == 200
    assert len(line.api.replies()) == 1


async def test_health_and_other_methods(line: LineHarness):
    async with line.client.get(line.base + "/healthz") as response:
        assert (response.status, await response.text()) == (200, "ok")
    async with line.client.get(line.url) as response:
        assert response.status == 405
    async with line.client.get(line.base + "/elsewhere") as response:
        assert response.status == 404


@pytest.mark.parametrize("status", [400, 401, 403])
async def test_a_refused_reply_is_counted_and_not_retried(line_api: FakeLineAPI, fixture_engine: Engine, status: int):
    metrics = ReachMetrics.for_engine(fixture_engine)
    async with LineHarness(line_api, fixture_engine, metrics=metrics) as line:
        line_api.fail("replyMessage", status)
        assert await line.send(LineUser().text("/help")) == 200
    assert [c.fault for c in line_api.of("replyMessage")] == [str(status)]
    assert 'anshin_errors_total{kind="delivery_failure"} 1.0' in metrics.exposition().decode()


@pytest.mark.parametrize("failure", ["500", "502", "429", "timeout", "reset"])
async def test_a_reply_that_failed_on_the_way_is_retried(line_api: FakeLineAPI, fixture_engine: Engine, failure: str):
    async with LineHarness(line_api, fixture_engine, timeout=0.5) as line:
        if failure.isdigit():
            line_api.fail("replyMessage", int(failure))
        else:
            line_api.fault("replyMessage", failure, hold=1.0)
        assert await line.send(LineUser().text("/help")) == 200
    attempts = line_api.of("replyMessage")
    assert [c.fault for c in attempts] == [failure, None]
    assert attempts[0].body == attempts[1].body


async def test_a_reply_is_given_up_after_its_attempts(line_api: FakeLineAPI, fixture_engine: Engine):
    metrics = ReachMetrics.for_engine(fixture_engine)
    async with LineHarness(line_api, fixture_engine, metrics=metrics) as line:
        line_api.fail("replyMessage", 500, times=5)
        assert await line.send(LineUser().text("/help")) == 200
    assert len(line_api.of("replyMessage")) == 3 and line_api.replies() == []
    assert 'anshin_errors_total{kind="delivery_failure"} 1.0' in metrics.exposition().decode()


def test_every_reachable_screen_fits_line_in_every_language(shipped_engine: Engine) -> None:
    """Every screen a press can reach, in every shipped language, is a reply LINE accepts."""
    from tests.fakes.line_api import documented_limits
    from tests.fakes.line_spec import validate_request

    messages = Messages(shipped_engine)
    seen: set[str] = set()
    queue = [b for lang in shipped_engine.locales for r in shipped_engine.handle(Event("start", "", lang))
             for b in r.button_ids()]
    queue += [b for name in ("help", "privacy", "language") for r in shipped_engine.handle(Event("command", name))
              for b in r.button_ids()]
    checked = 0
    while queue:
        button_id = queue.pop()
        if button_id in seen:
            continue
        seen.add(button_id)
        replies = shipped_engine.handle(Event("press", button_id))
        request = {"replyToken": "t", "messages": messages.for_replies(replies)}
        assert validate_request("POST", "/v2/bot/message/reply", request) == []
        assert documented_limits(request) == []
        for reply in replies:
            labels = [a["label"] for a in actions(messages.message(reply))]
            assert all(not label.endswith("…") for label in labels), labels  # short forms, not cut words
            queue.extend(reply.button_ids())
        checked += 1
    assert checked > 500


def test_the_way_to_a_person_comes_first_and_phone_numbers_are_tel_links(shipped_engine: Engine) -> None:
    messages = Messages(shipped_engine)
    menu = shipped_engine.handle(Event("start", "t", "ja"))[0]
    first = actions(messages.message(menu))[0]
    assert first["data"].endswith(":@person") and first["label"] == shipped_engine.content.catalogs.gettext(
        "ja", "sys.btn.person")
    now = shipped_engine.handle(Event("text", "助けて 今 家の前にいる", "ja"))[0]
    assert now.emergency
    tels = [a["uri"] for a in actions(messages.message(now)) if a.get("uri", "").startswith("tel:")]
    assert "tel:110" in tels
    assert tel_uri("#9110") == "tel:%239110" and tel_uri("0120-0-78310") == "tel:0120078310"


def test_english_labels_use_their_short_forms(shipped_engine: Engine) -> None:
    messages = Messages(shipped_engine)
    menu = shipped_engine.handle(Event("start", "t", "en"))[0]
    labels = {a["label"] for a in actions(messages.message(menu))}
    assert "Asked to meet up" in labels
    assert "Someone online wants to meet me" not in labels
    telegram_labels = {b.label for row in menu.buttons for b in row}
    assert "Someone online wants to meet me" in telegram_labels  # other media keep the full label


def test_every_sdk_logger_keeps_its_wording_only(caplog: pytest.LogCaptureFixture) -> None:
    """The SDK's REST client logs whole response bodies at DEBUG; every linebot logger withholds the values."""
    import logging

    from bot.channels.line.webhook import quiet_framework_loggers
    from bot.channels.server import WithholdDetails

    quiet_framework_loggers()
    loggers = [(name, logger) for name, logger in logging.Logger.manager.loggerDict.items()
               if isinstance(logger, logging.Logger) and name.split(".")[0] == "linebot"]
    assert {"linebot.v3.messaging.async_rest"} <= {name for name, _ in loggers}
    assert [name for name, logger in loggers if not any(isinstance(f, WithholdDetails) for f in logger.filters)] == []
    # (the SDK's Configuration sets its loggers to WARNING unless debug is on: DEBUG here, as an operator might)
    caplog.set_level(logging.DEBUG, logger="linebot.v3.messaging.async_rest")
    logging.getLogger("linebot.v3.messaging.async_rest").debug("response body: %s", b'{"to": "U5ca1ab1eCanary"}')
    assert "Canary" not in caplog.text and "response body: …" in caplog.text
