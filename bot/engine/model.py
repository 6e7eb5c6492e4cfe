"""The validated content model: what the YAML files mean once loaded. Immutable, shared by all users."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from bot.i18n import Catalogs

__all__ = [
    "AUDIENCES",
    "AUDIENCE_CODES",
    "ButtonSpec",
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
    """Opening hours on some weekdays (0 = Monday), in Japan time."""

    days: frozenset[int]
    start: time
    end: time


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
    confidence: str = ""
    path: str = ""

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
