"""「いま受付中」 is right on national holidays and in the New Year break, for every service with opening hours.

Closed days are data (`closed:` in flows/services.yaml); national holidays come from the `holidays` library. The
expected answers below are written by hand from reference/ (services-ja.yaml, content-facts-2026-12.md §1), not
computed by the code under test, and every service with opening hours must be listed here.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, time

import pytest

from bot.engine import Content, Engine, Event, load_content
from bot.engine.closed import is_national_holiday
from bot.engine.render import JAPAN, Renderer
from tests.conftest import PROJECT

# Days in Japan (all weekdays, so weekday hours alone would say "open").
ORDINARY = date(2026, 11, 4)  # Wednesday
HOLIDAY = date(2026, 11, 3)  # 文化の日, a Tuesday
SUBSTITUTE = date(2026, 5, 6)  # 振替休日 for 3 May, a Sunday
SANDWICHED = date(2026, 9, 22)  # 国民の休日 between two holidays
NEW_YEAR = date(2026, 12, 30)  # inside 29 Dec - 3 Jan
REOPENED = date(2027, 1, 4)  # the Monday after the break
DAYS = {"ordinary": ORDINARY, "holiday": HOLIDAY, "substitute": SUBSTITUTE, "sandwiched": SANDWICHED,
        "new_year": NEW_YEAR, "reopened": REOPENED}

GOVERNMENT = {"ordinary": True, "holiday": False, "substitute": False, "sandwiched": False, "new_year": False,
              "reopened": True}
# service id -> (a time inside its hours, open? on each day). None: the card makes no claim.
EXPECTED: dict[str, tuple[time, dict[str, bool | None]]] = {
    "moj_kodomo_jinken_110": (time(12, 0), GOVERNMENT),
    "moj_line_jinken_soudan": (time(12, 0), GOVERNMENT),
    "moj_kodomo_sos_chat": (time(12, 0), GOVERNMENT),
    "moj_minna_no_jinken_110": (time(12, 0), GOVERNMENT),
    "moj_foreign_language_jinken_dial": (time(12, 0), GOVERNMENT),
    "juvenile_line_mie": (time(12, 0), GOVERNMENT),
    "juvenile_line_nagasaki": (time(17, 30), GOVERNMENT),
    "houterasu_support_dial": (time(20, 0), GOVERNMENT),
    "houterasu_crime_victim_dial": (time(20, 0), GOVERNMENT),
    # Childline: every day, national holidays too, but not 29 Dec - 3 Jan.
    "childline": (time(16, 30), {**dict.fromkeys(DAYS, True), "new_year": False}),
    # いのちの電話: every day of the year (年中無休).
    "inochi_no_denwa": (time(12, 0), dict.fromkeys(DAYS, True)),
    # Cure time: hours known, days of the week not: no claim inside its hours.
    "cao_cure_time": (time(18, 0), dict.fromkeys(DAYS, None)),
}


@pytest.fixture(scope="module")
def content() -> Content:
    return load_content(PROJECT)


@pytest.fixture(scope="module")
def renderer(content: Content) -> Renderer:
    return Engine(content).renderer


def status(renderer: Renderer, service_id: str, moment: datetime) -> bool | None:
    """What the service's card says at ``moment``: open (True), closed (False) or nothing (None)."""
    card = renderer.cards((service_id,), "ja", moment.astimezone(JAPAN))
    catalogs = renderer.content.catalogs
    is_open, closed = catalogs.gettext("ja", "sys.svc.open_now"), catalogs.gettext("ja", "sys.svc.closed_now")
    assert not (is_open in card and closed in card)
    return True if is_open in card else False if closed in card else None


def test_every_service_with_opening_hours_is_checked_here(content: Content) -> None:
    timed = {sid for sid, service in content.services.items() if service.open_spans}
    assert sorted(timed ^ set(EXPECTED)) == []


@pytest.mark.parametrize("service_id", sorted(EXPECTED))
@pytest.mark.parametrize("day", sorted(DAYS))
def test_open_now_is_right_on_holidays_and_in_the_new_year_break(renderer: Renderer, service_id: str,
                                                                 day: str) -> None:
    clock, expected = EXPECTED[service_id]
    moment = datetime.combine(DAYS[day], clock, tzinfo=JAPAN)
    assert status(renderer, service_id, moment) is expected[day]


@pytest.mark.parametrize("service_id", sorted(EXPECTED))
def test_the_day_is_the_day_in_japan_whatever_the_clock_s_zone(renderer: Renderer, service_id: str) -> None:
    clock, expected = EXPECTED[service_id]
    in_tokyo = datetime.combine(HOLIDAY, clock, tzinfo=JAPAN)
    assert status(renderer, service_id, in_tokyo.astimezone(UTC)) is expected["holiday"]


def test_closed_outside_the_hours_even_where_the_days_are_not_known(renderer: Renderer) -> None:
    assert status(renderer, "cao_cure_time", datetime(2026, 11, 4, 12, 0, tzinfo=JAPAN)) is False
    assert status(renderer, "cao_cure_time", datetime(2026, 11, 4, 21, 1, tzinfo=JAPAN)) is False


@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2026, 11, 10, 23, 0, tzinfo=JAPAN), True),  # the free line runs from 8:00 on the 10th ...
    (datetime(2026, 11, 11, 7, 30, tzinfo=JAPAN), True),  # ... to 8:00 on the 11th
    (datetime(2026, 11, 11, 8, 30, tzinfo=JAPAN), False),
    (datetime(2026, 11, 9, 23, 0, tzinfo=JAPAN), False),
    (datetime(2026, 11, 12, 7, 30, tzinfo=JAPAN), False),
])
def test_a_line_open_on_a_day_of_the_month(renderer: Renderer, moment: datetime, expected: bool) -> None:
    assert status(renderer, "inochi_no_denwa", moment) is expected


def test_national_holidays_come_from_the_library_with_substitute_and_sandwiched_days() -> None:
    assert all(is_national_holiday(day) for day in (HOLIDAY, SUBSTITUTE, SANDWICHED, date(2027, 3, 22)))
    assert not any(is_national_holiday(day) for day in (ORDINARY, NEW_YEAR, REOPENED, date(2026, 5, 7)))


def test_on_a_holiday_a_screen_of_weekday_lines_offers_a_line_open_now(content: Content) -> None:
    """help.legal names only lines with office hours: on a weekday at noon some are open; on a holiday none is,
    so the screen offers the first line open at all hours."""
    def legal(moment: datetime) -> str:
        engine = Engine(content, clock=lambda: moment)
        return engine.renderer.screen("help.legal", "ja", "p").text

    fallback = content.catalogs.gettext("ja", "sys.svc.open_elsewhere").split("{")[0]
    assert fallback not in legal(datetime.combine(ORDINARY, time(12, 0), tzinfo=JAPAN))
    for day in (HOLIDAY, NEW_YEAR):
        assert fallback in legal(datetime.combine(day, time(12, 0), tzinfo=JAPAN))


def test_when_every_written_line_is_closed_one_open_at_all_hours_is_offered(content: Content) -> None:
    """teen.meet's written line is Childline's chat (16:00-21:00): at noon the 24-hour chat is offered beside it."""
    def meet(moment: datetime) -> str:
        return Engine(content, clock=lambda: moment).handle(Event("press", "1:ja:t:teen.menu:meet"))[0].text

    written = content.catalogs.gettext("ja", "sys.svc.written_elsewhere").split("{")[0]
    noon, evening = (datetime.combine(ORDINARY, time(h), tzinfo=JAPAN) for h in (12, 17))
    assert written + "あなたのいばしょチャット相談" in meet(noon)
    assert written not in meet(evening)


def test_the_holiday_library_is_not_loaded_at_start_up() -> None:
    """Building the holiday table costs about 0.1 s: an engine starts (checks included) without it, and the
    first card that needs a day's answer loads it."""
    script = textwrap.dedent(f"""
        import sys
        from datetime import datetime
        from pathlib import Path
        from bot.engine import Engine, Event, load_content
        from bot.engine.render import JAPAN
        engine = Engine(load_content(Path({str(PROJECT)!r})), clock=lambda: datetime(2026, 11, 3, 12, tzinfo=JAPAN))
        engine.handle(Event("start", ""))
        print("holidays" in sys.modules)
        engine.handle(Event("press", "1:ja:x:help.menu:legal"))
        print("holidays" in sys.modules)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=PROJECT)
    assert result.stdout.split() == ["False", "True"]
