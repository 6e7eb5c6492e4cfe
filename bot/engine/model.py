"""The validated content model: what the YAML files mean once loaded. Immutable, shared by all users."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from bot.engine.season import Period, in_any
from bot.i18n import Catalogs

__all__ = [
    "AUDIENCES",
    "AUDIENCE_CODES",
    "WRITTEN_KINDS",
    "ButtonSpec",
    "ClosedDays",
    "Contact",
    "Content",
    "Node",
    "OpenSpan",
    "Problem",
    "Service",
]

AUDIENCES = ("teen", "parent", "school", "any")
# One letter per audience in button ids; "x" is "not chosen yet".
AUDIENCE_CODES = {"teen": "t", "parent": "p", "school": "s", "any": "x"}
# Contacts a person answers in writing: teenagers write more readily than they phone.
WRITTEN_KINDS = frozenset({"chat", "line"})


@dataclass(frozen=True, order=True)
class Problem:
    """One finding of ``anshin check``, printed goflow-style as ``file: path: message``."""

    file: str
    path: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        where = f"{self.file}: {self.path}: " if self.path else f"{self.file}: "
        return f"{where}{prefix}{self.message}"


@dataclass(frozen=True)
class ButtonSpec:
    label: str
    to: str | None = None  # a full screen key once loaded ("teen.meet")
    url: str | None = None
    path: str = ""  # where it was written, for problems


@dataclass(frozen=True)
class Node:
    key: str  # "<flow>.<node>"
    flow: str
    name: str
    text: str
    buttons: tuple[ButtonSpec, ...] = ()
    referrals: tuple[str, ...] = ()
    audience: tuple[str, ...] = ("any",)
    languages: bool = False
    file: str = ""

    @property
    def path(self) -> str:
        return f"nodes.{self.name}"


@dataclass(frozen=True)
class Contact:
    kind: str
    value: str
    note: str = ""


@dataclass(frozen=True)
class OpenSpan:
    """Opening hours in Japan time: on some weekdays (0 = Monday), on some days of the month (``dates``, e.g. the
    10th), or, with neither, on days the reference does not confirm (then only "closed now" can be said)."""

    days: frozenset[int]
    start: time
    end: time
    dates: frozenset[int] = frozenset()

    @property
    def days_known(self) -> bool:
        return bool(self.days or self.dates)

    def on(self, moment: datetime) -> bool:
        """Inside the hours on a day this span names (a span of unconfirmed days names none)."""
        return (moment.weekday() in self.days or moment.day in self.dates) and self.within(moment)

    def within(self, moment: datetime) -> bool:
        return self.start <= moment.time() <= self.end


@dataclass(frozen=True)
class ClosedDays:
    """Whole days a service with opening hours is closed: Japan's national holidays (substitute holidays
    included) and fixed breaks such as 29 Dec - 3 Jan."""

    holidays: bool = False
    periods: tuple[Period, ...] = ()

    def fixed(self, day: date) -> bool:
        return in_any(self.periods, day)


@dataclass(frozen=True)
class Service:
    id: str
    name: dict[str, str]
    contacts: tuple[Contact, ...]
    hours: dict[str, str]
    when: dict[str, str]
    sources: tuple[str, ...]
    verified: date | None
    free: bool | None = None
    anonymous: bool | None = None
    audience: tuple[str, ...] = ()
    emergency: bool = False
    open_always: bool = False
    open_spans: tuple[OpenSpan, ...] = ()
    closed: ClosedDays | None = None  # None: not written in services.yaml (`anshin check` asks for it)
    confidence: str = ""
    path: str = ""

    @property
    def written(self) -> bool:
        """A person answers in writing (chat or LINE)."""
        return any(c.kind in WRITTEN_KINDS for c in self.contacts)

    def text(self, field_name: str, locale: str) -> str:
        """A localised field, falling back to English, then Japanese (reference facts exist in both)."""
        values: dict[str, str] = getattr(self, field_name)
        return values.get(locale) or values.get("en") or values.get("ja") or ""


@dataclass
class Content:
    """Everything the engine serves, loaded once at start-up."""

    root: Path
    nodes: dict[str, Node]
    services: dict[str, Service]
    events: dict[str, str]
    catalogs: Catalogs
    problems: list[Problem] = field(default_factory=list)
    services_file: str = "flows/services.yaml"
    start_file: str = "flows/start.yaml"
    stamped: bool = False  # `anshin check --stamp` found exactly this content sound (bot/engine/stamp.py)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]
