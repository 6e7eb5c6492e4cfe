"""Spring Safety Net mode: inside a campaign period the parent menu puts the first-smartphone checklist first."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine import Content, Engine, Event, decode_button, load_content
from bot.engine.render import JAPAN
from bot.engine.season import SPRING_DEFAULT, Period, parse_periods
from tests.conftest import PROJECT

FIRST_PHONE = "parent.first_phone"


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(PROJECT)


def engine_at(content: Content, moment: datetime, **kwargs: Any) -> Engine:
    return Engine(content, clock=lambda: moment, **kwargs)


def parent_menu_targets(engine: Engine) -> list[str]:
    """Where each of the parent menu's own buttons leads, in the order shown."""
    reply = engine.handle(Event("start", "p-ja"))[0]
    assert reply.screen == "parent.menu"
    targets = []
    for button_id in reply.button_ids():
        state = decode_button(button_id)
        assert state is not None
        target = engine.machine.fire(state.screen, state.trigger, state.audience)
        if target and target != "help.menu" and not state.trigger.startswith("@"):
            targets.append(target)
    return targets


def content_order(content: Content) -> list[str]:
    return [b.to for b in content.nodes["parent.menu"].buttons if b.to]


def test_the_shipped_parent_menu_does_not_already_start_with_the_checklist(content: Content) -> None:
    order = content_order(content)
    assert FIRST_PHONE in order and order[0] != FIRST_PHONE  # otherwise the tests below prove nothing


@pytest.mark.parametrize("moment", [
    datetime(2027, 2, 1, 0, 0, tzinfo=JAPAN),
    datetime(2027, 4, 1, 10, 0, tzinfo=JAPAN),
    datetime(2027, 5, 31, 23, 59, tzinfo=JAPAN),
    datetime(2027, 1, 31, 15, 0, tzinfo=UTC),  # already 1 February in Tokyo
])
def test_inside_spring_the_checklist_comes_first(content: Content, moment: datetime) -> None:
    targets = parent_menu_targets(engine_at(content, moment, spring=SPRING_DEFAULT))
    assert targets[0] == FIRST_PHONE
    assert sorted(targets) == sorted(content_order(content))  # moved, nothing lost or added


@pytest.mark.parametrize("moment", [
    datetime(2027, 1, 31, 23, 59, tzinfo=JAPAN),
    datetime(2027, 6, 1, 0, 0, tzinfo=JAPAN),
    datetime(2027, 5, 31, 15, 0, tzinfo=UTC),  # already 1 June in Tokyo
    datetime(2027, 11, 3, 12, 0, tzinfo=JAPAN),
])
def test_outside_spring_the_menu_keeps_its_written_order(content: Content, moment: datetime) -> None:
    assert parent_menu_targets(engine_at(content, moment, spring=SPRING_DEFAULT)) == content_order(content)


def test_without_periods_the_engine_never_reorders(content: Content) -> None:
    april = datetime(2027, 4, 1, 10, 0, tzinfo=JAPAN)
    assert parent_menu_targets(engine_at(content, april)) == content_order(content)


def test_other_screens_are_the_same_in_and_out_of_spring(content: Content) -> None:
    april, june = datetime(2027, 4, 1, 10, tzinfo=JAPAN), datetime(2027, 6, 3, 10, tzinfo=JAPAN)
    inside, outside = engine_at(content, april, spring=SPRING_DEFAULT), engine_at(content, june, spring=SPRING_DEFAULT)
    for payload in ("t-ja", "s-en", ""):
        assert inside.handle(Event("start", payload)) == outside.handle(Event("start", payload))


def test_the_seasonal_feature_is_data_for_any_screen(content: Content) -> None:
    last = content_order(content)[-1]
    engine = engine_at(content, datetime(2027, 9, 5, tzinfo=JAPAN), seasonal_first={"parent.menu": last},
                       spring=parse_periods("09-01..09-10"))
    assert parent_menu_targets(engine)[0] == last


def test_periods_parse_and_may_run_over_the_new_year() -> None:
    assert (Period((2, 1), (5, 31)),) == SPRING_DEFAULT
    winter, autumn = parse_periods("12-20..01-10, 09-01..09-15")
    assert winter.contains(date(2027, 12, 31)) and winter.contains(date(2028, 1, 10))
    assert not winter.contains(date(2028, 1, 11)) and not winter.contains(date(2027, 12, 19))
    assert autumn.contains(date(2027, 9, 15)) and str(autumn) == "09-01..09-15"
    assert parse_periods("off") == parse_periods("") == ()


@pytest.mark.parametrize("text", ["02-30..05-31", "13-01..05-31", "Feb..May", "02-01-05-31", "2-1..5-31"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_periods(text)


def simulate_parent_menu(env: dict[str, str], clock: str) -> list[str]:
    result = CliRunner(env=env).invoke(main, ["simulate", "--root", str(PROJECT), "--clock", clock],
                                       input='{"start": "p-ja"}\n')
    assert result.exit_code == 0, result.output
    buttons = json.loads(result.stdout)["replies"][0]["buttons"]
    return [row[0]["id"].rsplit(":", 1)[1] for row in buttons]


def test_cli_uses_the_default_period_and_reads_anshin_spring_period() -> None:
    assert simulate_parent_menu({}, "2027-04-01T10:00")[0] == "first_phone"
    assert simulate_parent_menu({}, "2027-07-01T10:00")[0] != "first_phone"
    assert simulate_parent_menu({"ANSHIN_SPRING_PERIOD": "07-01..07-31"}, "2027-07-01T10:00")[0] == "first_phone"
    assert simulate_parent_menu({"ANSHIN_SPRING_PERIOD": "off"}, "2027-04-01T10:00")[0] != "first_phone"


def test_cli_refuses_a_bad_period_with_exit_code_2() -> None:
    result = CliRunner(env={"ANSHIN_SPRING_PERIOD": "spring"}).invoke(
        main, ["simulate", "--root", str(PROJECT)], input="")
    assert result.exit_code == 2
    assert "ANSHIN_SPRING_PERIOD" in result.stderr


def test_the_clock_is_read_per_reply_so_a_long_running_bot_changes_with_the_season(content: Content) -> None:
    now = [datetime(2027, 5, 31, 23, 0, tzinfo=JAPAN)]
    engine = Engine(content, clock=lambda: now[0], spring=SPRING_DEFAULT)
    assert parent_menu_targets(engine)[0] == FIRST_PHONE
    now[0] += timedelta(hours=2)
    assert parent_menu_targets(engine) == content_order(content)
