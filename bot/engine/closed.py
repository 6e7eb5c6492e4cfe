"""Whether a service is closed on a day in Japan: its fixed breaks (29 Dec - 3 Jan) and the national holidays.

National holidays move (substitute holidays, "sandwiched" days, changes by law), so they come from a kept library,
python-holidays (``holidays.country_holidays("JP")``), never from a hand-written list. Importing it and building a
year's table costs about 0.1 s, so nothing here imports it at start-up: a year's holidays are computed the first time
a card asks about a day of that year, then kept (a few dates per year).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from threading import Lock

from bot.engine.model import ClosedDays

__all__ = ["HolidayTest", "closed_on", "is_national_holiday"]

HolidayTest = Callable[[date], bool]

_years: dict[int, frozenset[date]] = {}
_lock = Lock()


def is_national_holiday(day: date) -> bool:
    """A national holiday of Japan (国民の祝日, substitute holidays included)."""
    table = _years.get(day.year)
    if table is None:
        with _lock:
            table = _years.get(day.year)
            if table is None:
                import holidays  # heavy; only when a card first meets a year

                table = frozenset(holidays.country_holidays("JP", years=day.year))
                _years[day.year] = table
    return day in table


def closed_on(closed: ClosedDays | None, day: date, holiday: HolidayTest = is_national_holiday) -> bool:
    """Closed all day: a fixed break, or a national holiday for a service closed on holidays."""
    if closed is None:
        return False
    return closed.fixed(day) or (closed.holidays and holiday(day))
