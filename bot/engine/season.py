"""Campaign periods (the Spring Safety Net, 春のあんしんネット): calendar days in Japan, every year.

A period is ``MM-DD..MM-DD`` (inclusive; it may run over the new year); several are separated by commas.
Inside one, a screen may put one of its buttons first (``seasonal_first``), e.g. the parent menu puts the
first-smartphone checklist first while families buy a child's first phone. Data only: no clock is read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

__all__ = ["SPRING_DEFAULT", "SPRING_FIRST", "Period", "in_any", "parse_periods"]

_PERIOD = re.compile(r"^(\d{2})-(\d{2})\.\.(\d{2})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    start: tuple[int, int]  # (month, day)
    end: tuple[int, int]

    def contains(self, day: date) -> bool:
        today = (day.month, day.day)
        if self.start <= self.end:
            return self.start <= today <= self.end
        return today >= self.start or today <= self.end  # e.g. 12-01..01-31

    def __str__(self) -> str:
        return f"{self.start[0]:02d}-{self.start[1]:02d}..{self.end[0]:02d}-{self.end[1]:02d}"


def _month_day(month: str, day: str, text: str) -> tuple[int, int]:
    try:
        date(2024, int(month), int(day))  # a leap year, so 02-29 is a valid day
    except ValueError:
        raise ValueError(f"{text!r}: {month}-{day} is not a calendar day") from None
    return int(month), int(day)


def parse_periods(text: str) -> tuple[Period, ...]:
    """``"02-01..05-31"`` or ``"02-01..05-31,09-01..09-15"``; ``""`` or ``"off"`` is no period."""
    if text.strip().lower() in ("", "off"):
        return ()
    periods = []
    for part in text.split(","):
        match = _PERIOD.match(part.strip())
        if not match:
            raise ValueError(f"{part.strip()!r} is not a period; write MM-DD..MM-DD, e.g. 02-01..05-31")
        m1, d1, m2, d2 = match.groups()
        periods.append(Period(_month_day(m1, d1, part), _month_day(m2, d2, part)))
    return tuple(periods)


def in_any(periods: tuple[Period, ...], day: date) -> bool:
    return any(period.contains(day) for period in periods)


SPRING_DEFAULT: tuple[Period, ...] = parse_periods("02-01..05-31")  # new school year in April; first phones
SPRING_FIRST: dict[str, str] = {"parent.menu": "parent.first_phone"}
