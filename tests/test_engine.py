"""The engine answers every event statelessly; button ids carry the state and are untrusted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.engine import Engine, Event, Reply, decode_button, encode_button


def only(replies: list[Reply]) -> Reply:
    assert len(replies) == 1
    return replies[0]


def press(engine: Engine, button_id: str, lang: str | None = None) -> Reply:
    return only(engine.handle(Event("press", button_id, lang)))


def find(reply: Reply, label_part: str) -> str:
    for row in reply.buttons:
        for button in row:
            if label_part in button.label and button.id:
                return button.id
    raise AssertionError(f"no button with {label_part!r} in {[b.label for r in reply.buttons for b in r]}")


def test_start_shows_audiences_and_a_person(fixture_engine: Engine) -> None:
    reply = only(fixture_engine.handle(Event("start", "")))
    assert reply.screen == "start.menu"
    assert "あなたは" in reply.text
    ids = reply.button_ids()
    assert "1:ja:x:start.menu:teen.menu" in ids
    assert "1:ja:x:start.menu:@person" in ids


def test_press_moves_and_sets_the_audience(fixture_engine: Engine) -> None:
    reply = press(fixture_engine, "1:ja:x:start.menu:teen.menu")
    assert reply.screen == "teen.menu"
    assert "1:ja:t:teen.menu:meet" in reply.button_ids()
    deeper = press(fixture_engine, "1:ja:t:teen.menu:meet")
    assert deeper.screen == "teen.meet"
    assert press(fixture_engine, find(deeper, "つぎへ")).referrals == ("childline", "police_consultation_9110")


def test_home_goes_to_the_audience_menu_and_from_there_to_the_start(fixture_engine: Engine) -> None:
    assert press(fixture_engine, "1:ja:t:teen.meet:@home").screen == "teen.menu"
    assert press(fixture_engine, "1:ja:p:teen.meet:@home").screen == "parent.menu"
    assert press(fixture_engine, "1:ja:x:teen.meet:@home").screen == "start.menu"
    assert press(fixture_engine, "1:ja:t:teen.menu:@home").screen == "start.menu"


def test_person_button_leads_to_the_help_directory(fixture_engine: Engine) -> None:
    reply = press(fixture_engine, "1:en:t:teen.pictures:@person")
    assert reply.screen == "help.menu"
    assert reply.referrals
    assert "@person" not in " ".join(reply.button_ids())


@pytest.mark.parametrize("forged", [
    "", "x", "1:ja:x:start.menu:hlep", "1:ja:x:nowhere.menu:teen.menu", "1:xx:x:start.menu:teen.menu",
    "1:ja:q:start.menu:teen.menu", "2:ja:x:start.menu:teen.menu", "1:ja:x:start.menu:teen.men",
    "1:ja:x:start.menu", "1:ja:x:teen.meet:pictures", "1:ja:x:start.menu:teen.menu:extra",
    "1:ja:x:start.me", "1:ja:x:start.menu:" + "a" * 80, "１:ja:x:start.menu:teen.menu", "\x00\n\t",
    "1:ja:x:start.menu:__init__", "1:ja:x:start.menu:to_help.menu", "1:ja:x:start.menu:trigger",
])
def test_forged_or_stale_ids_get_the_outdated_screen(fixture_engine: Engine, forged: str) -> None:
    reply = press(fixture_engine, forged)
    assert reply.screen == "start.outdated"
    assert reply.referrals, "the out-of-date answer names a human service"
    assert any(i.endswith(":@person") for i in reply.button_ids())


def test_outdated_answer_keeps_the_language_of_the_button(fixture_engine: Engine) -> None:
    reply = press(fixture_engine, "1:en:t:teen.menu:gone")
    assert reply.screen == "start.outdated"
    assert "out of date" in reply.text
    assert reply.button_ids()[0].startswith("1:en:t:")


def test_locale_comes_from_the_client_and_the_button(fixture_engine: Engine) -> None:
    assert "Who are you?" in only(fixture_engine.handle(Event("start", "", "en-US"))).text
    assert "あなたは" in only(fixture_engine.handle(Event("start", "", "fr"))).text
    assert press(fixture_engine, "1:en:x:start.menu:teen.menu", lang="ja").text == "Teen menu"


@pytest.mark.parametrize(("payload", "screen", "lang_word"), [
    ("p-ja-spring2027", "parent.menu", "保護者"), ("t-en", "teen.menu", "Teen"), ("s", "school.menu", "学校"),
    ("bogus!", "start.menu", "あなたは"), ("p-zz", "parent.menu", "保護者"), ("x" * 80, "start.menu", "あなたは"),
])
def test_start_payloads(fixture_engine: Engine, payload: str, screen: str, lang_word: str) -> None:
    reply = only(fixture_engine.handle(Event("start", payload)))
    assert reply.screen == screen
    assert lang_word in reply.text


def test_language_menu_switches_locale(fixture_engine: Engine) -> None:
    reply = only(fixture_engine.handle(Event("command", "language")))
    english = find(reply, "English")
    assert english.startswith("1:en:")
    assert "Who are you?" in press(fixture_engine, english).text


@pytest.mark.parametrize("command", ["help", "privacy", "cancel", "language"])
def test_commands_answer_with_a_way_to_a_person(fixture_engine: Engine, command: str) -> None:
    reply = only(fixture_engine.handle(Event("command", command)))
    assert any(i.endswith(":@person") for i in reply.button_ids())


def test_media_is_answered_with_image_safety_and_referrals(fixture_engine: Engine) -> None:
    reply = only(fixture_engine.handle(Event("media", "photo", "en")))
    assert "Never send" in reply.text
    assert reply.referrals


def test_open_now_is_computed_in_japan_time(fixture_engine: Engine) -> None:
    # FIXED_NOW is Wednesday 12:00 in Tokyo: Childline (16-21) is closed, a 24-hour line is offered.
    reply = only(fixture_engine.handle(Event("media", "photo", "en")))
    assert "closed right now" in reply.text
    assert "Open right now: 24-hour Children's SOS Dial" in reply.text


def test_open_now_follows_the_minute_and_other_screens_are_reused_all_day() -> None:
    from datetime import timedelta

    from bot.engine import load_content
    from tests.conftest import FIXED_NOW, FIXTURE_CONTENT

    now = [FIXED_NOW.replace(hour=15, minute=59)]
    engine = Engine(load_content(FIXTURE_CONTENT), clock=lambda: now[0])
    media, start = Event("media", "photo", "en"), Event("start", "", "en")
    before, menu = only(engine.handle(media)), only(engine.handle(start))
    assert "16:00-21:00 / closed right now" in before.text
    now[0] += timedelta(minutes=1)  # 16:00: Childline opens
    assert "16:00-21:00 / open now" in only(engine.handle(media)).text
    assert only(engine.handle(start)) is menu  # no card says open or closed: rendered once for the day
    now[0] += timedelta(days=1)
    assert only(engine.handle(start)) is not menu


def test_button_ids_round_trip() -> None:
    button_id = encode_button("ja", "t", "teen.menu", "meet")
    state = decode_button(button_id)
    assert state is not None
    assert (state.locale, state.audience, state.screen, state.trigger) == ("ja", "t", "teen.menu", "meet")


def test_the_machine_is_shared_and_holds_no_models(fixture_engine: Engine) -> None:
    for _ in range(50):
        press(fixture_engine, "1:ja:x:start.menu:teen.menu")
    assert fixture_engine.machine.machine.models == []


def test_the_machine_table_answers_exactly_as_transitions_does(shipped_engine: Engine) -> None:
    from bot.engine.machine import AUDIENCE_STATES

    machine = shipped_engine.machine
    keys = [(screen, trigger, audience) for trigger, event in machine.machine.events.items()
            for screen in event.transitions for audience in sorted(AUDIENCE_STATES)]
    assert len(keys) > 1000
    for key in keys * 2:  # the second pass answers from the table
        assert machine.fire(*key) == machine.trigger(*key), key
    assert len(machine._answers) == len(keys)


def test_forged_presses_do_not_grow_the_machine_table() -> None:
    from bot.engine import load_content
    from tests.conftest import FIXTURE_CONTENT

    engine = Engine(load_content(FIXTURE_CONTENT))
    press(engine, "1:ja:x:start.menu:teen.menu")
    assert len(engine.machine._answers) == 1
    for n in range(2000):  # well-formed ids for screens, triggers and pairs that do not exist
        for forged in (f"1:ja:x:teen.menu:nope{n}", f"1:ja:x:nope{n}.menu:@home", f"1:ja:x:start.menu:help{n}"):
            assert press(engine, forged).screen == engine.content.events["outdated"]
    assert len(engine.machine._answers) == 1


def crisis_engine() -> Engine:
    from bot.engine import Routed, load_content
    from tests.conftest import FIXED_NOW, FIXTURE_CONTENT

    def route(text: str) -> Routed:
        return {"danger": Routed("help.now", emergency=True, crisis=True),
                "pics": Routed("teen.pictures", crisis=True),
                "filter": Routed("parent.filtering")}.get(text, Routed(None))

    return Engine(load_content(FIXTURE_CONTENT), clock=lambda: FIXED_NOW, router=route)


def test_an_emergency_reply_puts_services_and_the_person_first() -> None:
    reply = only(crisis_engine().handle(Event("text", "danger")))
    assert reply.emergency
    assert reply.text.startswith("📞")
    assert reply.buttons[0][0].id is not None and reply.buttons[0][0].id.endswith("@person")


def test_a_crisis_chain_keeps_the_person_first_after_another_press() -> None:
    engine = crisis_engine()
    reply = only(engine.handle(Event("text", "pics")))
    assert not reply.emergency
    assert reply.buttons[0][0].id == "1:ja:T:teen.pictures:@person"
    # "I'm fine", back to the menu: the user left the chain on purpose, the order is ordinary again.
    home = press(engine, "1:ja:T:teen.pictures:@home")
    assert home.screen == "teen.menu"
    assert not home.buttons[0][0].label.startswith("🙋")
    # Any other press stays in the chain: the person button is still first.
    assert press(engine, "1:ja:T:teen.menu:meet").buttons[0][0].id == "1:ja:T:teen.meet:@person"


def test_ordinary_text_routes_without_alarm() -> None:
    reply = only(crisis_engine().handle(Event("text", "filter")))
    assert reply.screen == "parent.filtering"
    assert not reply.emergency
    assert reply.buttons[-1][0].label.startswith("🙋")


def test_unrouted_text_gets_the_free_text_screen() -> None:
    reply = only(crisis_engine().handle(Event("text", "hello")))
    assert reply.screen == "start.free_text"


def test_a_new_locale_translates_services_in_its_catalogue_and_keeps_the_japanese_name(
    content_copy: Callable[[], Path],
) -> None:
    import shutil

    from bot.engine import load_content
    from tests.conftest import FIXED_NOW

    root = content_copy()
    shutil.copytree(root / "locales/en", root / "locales/ko")
    for po in (root / "locales/ko/LC_MESSAGES").glob("*.po"):
        text = po.read_text(encoding="utf-8").replace('"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n', "")
        po.write_text(text.replace('"Language: en\\n"', '"Language: ko\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"'),
                      encoding="utf-8")
    (root / "locales/ko/LC_MESSAGES/messages.po").write_text(
        (root / "locales/ko/LC_MESSAGES/messages.po").read_text(encoding="utf-8").replace(
            'msgstr "English"', 'msgstr "한국어"'), encoding="utf-8")
    entries = "".join(f'msgid "svc.{sid}.{field}"\nmsgstr "{sid} {field} KO"\n\n'
                      for sid in ("police_emergency_110", "mext_24h_kodomo_sos_dial", "childline",
                                  "police_consultation_9110") for field in ("name", "hours", "when"))
    (root / "locales/ko/LC_MESSAGES/services.po").write_text('msgid ""\nmsgstr "Language: ko\\n"\n\n' + entries,
                                                            encoding="utf-8")
    engine = Engine(load_content(root), clock=lambda: FIXED_NOW)
    menu = only(engine.handle(Event("command", "language")))
    assert "한국어" in [b.label for row in menu.buttons for b in row]
    reply = only(engine.handle(Event("media", "photo", "ko-KR")))
    assert "■ childline name KO (チャイルドライン)" in reply.text
    assert "childline when KO" in reply.text
