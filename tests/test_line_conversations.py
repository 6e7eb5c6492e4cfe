"""The golden conversations through LINE, and one conversation on Telegram and on LINE reaching the same screens."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bot.channels.protocol import answer_line
from bot.channels.telegram.common import FloodGate
from bot.engine import Engine, Event
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.harness import HARNESSES
from tests.fakes.line_api import FakeLineAPI, LineCall
from tests.fakes.line_events import LineUser
from tests.fakes.line_harness import LineHarness
from tests.fakes.updates import Updates

TRANSCRIPTS = sorted(p for p in (Path(__file__).parent / "transcripts").glob("*.jsonl") if ".out." not in p.name)
# The simulator's media kinds that LINE has a message type for.
LINE_MEDIA = {"photo": "image", "video": "video", "voice": "audio", "document": "file", "sticker": "sticker",
              "location": "location"}


def line_event(user: LineUser, event: dict[str, str]) -> dict[str, Any] | None:
    if "start" in event:
        return user.text(f"/start {event['start']}".strip()) if event["start"] else user.follow()
    if "command" in event:
        return user.text(f"/{event['command']}")
    if "text" in event:
        return user.text(event["text"])
    if "press" in event:
        return user.press(event["press"])
    kind = LINE_MEDIA.get(event["media"])
    return user.media(kind) if kind else None


def shown(call: LineCall) -> list[tuple[str, list[str]]]:
    """Each message's text and what its quick replies do (postback data or URI), in order."""
    return [(m["text"], [a.get("data") or a["uri"] for a in (i["action"] for i in m.get("quickReply", {}).get(
        "items", []))]) for m in call.body["messages"]]


def expected(engine: Engine, replies: list[dict[str, Any]]) -> list[tuple[str, list[str]]]:
    """The engine's answer as LINE should show it: the text; the person button first, then the other buttons,
    then a tel: link per phone number on the cards."""
    out = []
    for reply in replies:
        buttons = [b for row in reply["buttons"] for b in row]
        person = [b for b in buttons if b.get("id", "").endswith(":@person")]
        ordered = [b.get("id") or b["url"] for b in person + [b for b in buttons if b not in person]]
        phones = [c.value for sid in reply["referrals"] for c in engine.content.services[sid].contacts
                  if c.kind in ("phone", "short_code")]
        tels = ["tel:" + "".join(ch for ch in p if ch.isdigit() or ch in "#*+").replace("#", "%23")
                for p in dict.fromkeys(phones)]
        out.append((reply["text"], (ordered + tels)[:13]))
    return out


async def test_the_golden_conversations_read_the_same_through_line(shipped_engine: Engine) -> None:
    """Every golden transcript's events as LINE events show exactly the engine's answers. LINE sends no language,
    so an event is answered as the engine answers it without one; a press carries its language in its id."""
    api = FakeLineAPI()
    await api.start()
    replayed = 0
    try:
        async with LineHarness(api, shipped_engine) as line:
            for case in TRANSCRIPTS:
                user = LineUser()
                for text in case.read_text(encoding="utf-8").splitlines():
                    if not text.strip() or text.lstrip().startswith("#"):
                        continue
                    try:
                        event = json.loads(text)
                        made = line_event(user, event)
                    except (ValueError, KeyError, TypeError):  # the transcripts' deliberately broken lines
                        continue
                    if made is None:
                        continue
                    before = len(api.replies())
                    assert await line.send(made) == 200
                    answer = answer_line(shipped_engine, json.dumps({k: v for k, v in event.items() if k != "lang"}))
                    [call] = api.replies()[before:]
                    assert shown(call) == expected(shipped_engine, answer["replies"]), f"{case.name}: {text}"
                    replayed += 1
    finally:
        await api.stop()
    assert api.problems() == []
    assert replayed > 100


async def test_the_same_conversation_reaches_the_same_screens_on_telegram_and_line(fixture_engine: Engine) -> None:
    """One user's conversation, event for event: the same texts on both, and the same button ids."""
    start = fixture_engine.handle(Event("start", "", "ja"))[0]
    first = start.buttons[0][0].id or ""
    second = next(b.id for r in fixture_engine.handle(Event("press", first)) for row in r.buttons for b in row if b.id)
    outdated = fixture_engine.handle(Event("press", "forged"))[0]
    home = next(b.id for row in outdated.buttons for b in row if b.id and b.id.endswith(":@home"))
    steps: list[tuple[str, str]] = [("start", ""), ("press", first), ("press", second or ""), ("press", home or ""),
                                    ("press", "forged"), ("start", "p-en-spring2027"), ("command", "language"),
                                    ("command", "privacy"), ("text", "どうしよう"), ("text", "助けて 今 家の前にいる"),
                                    ("media", "photo"), ("media", "sticker"), ("start", "t")]
    telegram_api, line_api = FakeBotAPI(), FakeLineAPI()
    await telegram_api.start()
    await line_api.start()
    telegram = HARNESSES["aiogram-webhook"](telegram_api, fixture_engine, FloodGate(limit=1000))
    await telegram.start()
    tg_user, line_user = Updates(lang="ja"), LineUser()
    on_telegram, on_line = [], []
    try:
        async with LineHarness(line_api, fixture_engine, lang="ja") as line:
            for n, (kind, value) in enumerate(steps):
                tg_before, line_before = len(telegram_api.calls("sendMessage", "editMessageText")), len(
                    line_api.replies())
                if kind == "start":
                    await telegram.send(tg_user.text(f"/start {value}".strip()))
                    await line.send(line_user.text(f"/start {value}") if value else line_user.follow())
                elif kind == "press":
                    await telegram.send(tg_user.press(value, message_id=100 + n))
                    await line.send(line_user.press(value))
                elif kind == "command":
                    await telegram.send(tg_user.text(f"/{value}"))
                    await line.send(line_user.text(f"/{value}"))
                elif kind == "text":
                    await telegram.send(tg_user.text(value))
                    await line.send(line_user.text(value))
                else:
                    await telegram.send(tg_user.media(value))
                    await line.send(line_user.media({"photo": "image"}.get(value, value)))
                for request in telegram_api.calls("sendMessage", "editMessageText")[tg_before:]:
                    keyboard = request.params.get("reply_markup", {}).get("inline_keyboard", [])
                    on_telegram.append((request.params["text"], sorted(
                        b.get("callback_data") or b["url"] for row in keyboard for b in row)))
                for call in line_api.replies()[line_before:]:
                    for text, done in shown(call):
                        on_line.append((text, sorted(d for d in done if not d.startswith("tel:"))))
    finally:
        await telegram.stop()
        await telegram_api.stop()
        await line_api.stop()
    assert len(on_telegram) == len(steps)
    assert on_line == on_telegram
