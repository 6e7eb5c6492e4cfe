"""Read ``flows/*.yaml`` into the content model, reporting every schema problem with its location."""

from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Any

from bot.engine.model import (
    AUDIENCES,
    ButtonSpec,
    ClosedDays,
    Contact,
    Content,
    Node,
    OpenSpan,
    Problem,
    Service,
)
from bot.engine.season import Period, parse_periods
from bot.engine.stamp import is_stamped
from bot.i18n import Catalogs
from bot.yamlfile import YAMLError, safe_load

__all__ = ["EVENT_NAMES", "load_content"]

NAME = re.compile(r"^[a-z][a-z0-9_]*$")
EVENT_NAMES = ("outdated", "media", "text", "help", "privacy", "cancel", "language")
FLOW_KEYS = {"flow", "audience", "nodes", "events", "description"}
NODE_KEYS = {"text", "buttons", "referrals", "audience", "languages", "note"}
SERVICE_KEYS = {
    "id", "name", "contacts", "hours", "open", "closed", "free", "anonymous", "audience", "emergency",
    "when", "sources", "verified", "confidence", "notes",
}
HOLIDAYS = "holidays"  # in `closed:`, Japan's national holidays
CONTACT_KINDS = {"phone", "short_code", "web", "line", "email", "chat"}
DAYS = {"mon": 0, "tue": 1, "wed": 2, "thu": 3, "fri": 4, "sat": 5, "sun": 6}


class _Reader:
    """Collects problems for one file while turning YAML values into model values."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message))

    def mapping(self, value: Any, path: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping, got {_kind(value)}")
            return {}
        for key in value:
            if key not in allowed:
                self.problem(path, f"unknown key {key!r} (allowed: {', '.join(sorted(allowed))})")
        return value

    def string(self, value: Any, path: str, required: bool = True) -> str:
        if value is None and not required:
            return ""
        if not isinstance(value, str) or not value.strip():
            self.problem(path, f"expected a non-empty string, got {_kind(value)}")
            return ""
        return value

    def strings(self, value: Any, path: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(path, f"expected a list, got {_kind(value)}")
            return ()
        return tuple(self.string(item, f"{path}[{i}]") for i, item in enumerate(value))

    def flag(self, value: Any, path: str, nullable: bool = False) -> bool | None:
        if value is None and nullable:
            return None
        if not isinstance(value, bool):
            self.problem(path, f"expected true or false{' or null' if nullable else ''}, got {_kind(value)}")
            return None
        return value

    def localised(self, value: Any, path: str) -> dict[str, str]:
        if not isinstance(value, dict):
            self.problem(path, f"expected a mapping of language to text, got {_kind(value)}")
            return {}
        for lang in ("ja", "en"):
            if lang not in value:
                self.problem(path, f"missing {lang!r} text")
        return {str(k): self.string(v, f"{path}.{k}") for k, v in value.items()}

    def audiences(self, value: Any, path: str) -> tuple[str, ...]:
        items = (value,) if isinstance(value, str) else self.strings(value, path)
        for i, item in enumerate(items):
            if item and item not in AUDIENCES:
                self.problem(f"{path}[{i}]" if not isinstance(value, str) else path,
                             f"unknown audience {item!r} (use one of: {', '.join(AUDIENCES)})")
        return tuple(item for item in items if item in AUDIENCES)


def load_content(root: Path, default_locale: str = "ja") -> Content:
    """Load flows, services and catalogues under ``root``; problems are collected, not raised."""
    problems: list[Problem] = []
    catalogs = Catalogs.load(root / "locales", default=default_locale)
    problems.extend(Problem(i.file, i.path, i.message) for i in catalogs.issues)
    flows_dir = root / "flows"
    nodes: dict[str, Node] = {}
    events: dict[str, str] = {}
    services: dict[str, Service] = {}
    if not flows_dir.is_dir():
        problems.append(Problem("flows", "", "directory not found; run from the project root or pass --root"))
    for path in sorted(flows_dir.glob("*.yaml")) if flows_dir.is_dir() else []:
        file = f"flows/{path.name}"
        data = _read_yaml(path, file, problems)
        if data is None:
            continue
        if path.name == "services.yaml":
            services.update(_services(data, _Reader(file, problems)))
        else:
            _flow(path.stem, data, _Reader(file, problems), nodes, events)
    content = Content(root=root, nodes=nodes, services=services, events=events, catalogs=catalogs,
                      stamped=not problems and is_stamped(root))
    content.problems.extend(problems)
    return content


def _read_yaml(path: Path, file: str, problems: list[Problem]) -> Any:
    try:
        return safe_load(path.read_text(encoding="utf-8"))
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problems.append(Problem(file, where, f"not valid YAML: {getattr(error, 'problem', error)}"))
    except (OSError, UnicodeDecodeError) as error:
        problems.append(Problem(file, "", f"cannot read: {error}"))
    return None


def _flow(stem: str, data: Any, r: _Reader, nodes: dict[str, Node], events: dict[str, str]) -> None:
    top = r.mapping(data, "flow", FLOW_KEYS)
    if not top:
        return
    flow = top.get("flow")
    if flow != stem:
        r.problem("flow", f"flow name {flow!r} must equal the file name {stem!r}")
    if not NAME.match(stem):
        r.problem("flow", f"flow name {stem!r} must match [a-z][a-z0-9_]*")
    default_audience = r.audiences(top.get("audience", "any"), "audience") or ("any",)
    raw_nodes = top.get("nodes")
    if not isinstance(raw_nodes, dict) or not raw_nodes:
        r.problem("nodes", "expected a mapping of screens with at least one screen")
        raw_nodes = {}
    for name, raw in raw_nodes.items():
        path = f"nodes.{name}"
        if not isinstance(name, str) or not NAME.match(name):
            r.problem(path, f"screen name {name!r} must match [a-z][a-z0-9_]*")
            continue
        spec = r.mapping(raw, path, NODE_KEYS)
        buttons = []
        raw_buttons = spec.get("buttons") or []
        if not isinstance(raw_buttons, list):
            r.problem(f"{path}.buttons", f"expected a list, got {_kind(raw_buttons)}")
            raw_buttons = []
        for i, raw_button in enumerate(raw_buttons):
            bpath = f"{path}.buttons[{i}]"
            button = r.mapping(raw_button, bpath, {"label", "to", "url"})
            label = r.string(button.get("label"), f"{bpath}.label")
            to, url = button.get("to"), button.get("url")
            if (to is None) == (url is None):
                r.problem(bpath, "needs exactly one of 'to' (a screen) or 'url' (a link)")
                continue
            if url is not None and not (isinstance(url, str) and url.startswith(("https://", "http://", "tel:"))):
                r.problem(f"{bpath}.url", f"expected an http(s) or tel: link, got {url!r}")
                continue
            target = None
            if to is not None:
                target_name = r.string(to, f"{bpath}.to")
                target = target_name if "." in target_name else f"{stem}.{target_name}"
            buttons.append(ButtonSpec(label=label, to=target, url=url, path=bpath))
        audience = r.audiences(spec["audience"], f"{path}.audience") if "audience" in spec else default_audience
        languages = r.flag(spec.get("languages", False), f"{path}.languages")
        nodes[f"{stem}.{name}"] = Node(
            key=f"{stem}.{name}", flow=stem, name=name,
            text=r.string(spec.get("text"), f"{path}.text"),
            buttons=tuple(buttons), referrals=r.strings(spec.get("referrals"), f"{path}.referrals"),
            audience=audience, languages=bool(languages), file=r.file,
        )
    raw_events = top.get("events")
    if raw_events is not None:
        for event, target in r.mapping(raw_events, "events", set(EVENT_NAMES)).items():
            name = r.string(target, f"events.{event}")
            if name:
                events[event] = name if "." in name else f"{stem}.{name}"


def _services(data: Any, r: _Reader) -> dict[str, Service]:
    top = r.mapping(data, "services.yaml", {"services"})
    raw = top.get("services")
    if not isinstance(raw, list):
        r.problem("services", f"expected a list of services, got {_kind(raw)}")
        return {}
    services: dict[str, Service] = {}
    for i, item in enumerate(raw):
        path = f"services[{i}]"
        spec = r.mapping(item, path, SERVICE_KEYS)
        sid = r.string(spec.get("id"), f"{path}.id")
        if not sid:
            continue
        path = f"services.{sid}"
        if sid in services:
            r.problem(path, "service id defined twice")
        contacts = []
        raw_contacts = spec.get("contacts")
        if not isinstance(raw_contacts, list) or not raw_contacts:
            r.problem(f"{path}.contacts", "expected a list with at least one contact")
            raw_contacts = []
        for j, raw_contact in enumerate(raw_contacts):
            cpath = f"{path}.contacts[{j}]"
            contact = r.mapping(raw_contact, cpath, {"kind", "value", "note"})
            kind = r.string(contact.get("kind"), f"{cpath}.kind")
            if kind and kind not in CONTACT_KINDS:
                kinds = ", ".join(sorted(CONTACT_KINDS))
                r.problem(f"{cpath}.kind", f"unknown contact kind {kind!r} (use one of: {kinds})")
            value = contact.get("value")
            contacts.append(Contact(kind, r.string(str(value) if value is not None else None, f"{cpath}.value"),
                                    r.string(contact.get("note"), f"{cpath}.note", required=False)))
        verified = spec.get("verified")
        if verified is None:
            r.problem(f"{path}.verified", "missing the date the facts were verified (verified: YYYY-MM-DD)")
        elif not isinstance(verified, date):
            r.problem(f"{path}.verified", f"expected a date YYYY-MM-DD, got {verified!r}")
            verified = None
        sources = r.strings(spec.get("sources"), f"{path}.sources")
        if not sources:
            r.problem(f"{path}.sources", "missing: every service needs at least one source URL")
        open_always, spans = _opening(spec.get("open"), f"{path}.open", r)
        services[sid] = Service(
            id=sid, name=r.localised(spec.get("name"), f"{path}.name"), contacts=tuple(contacts),
            hours=r.localised(spec.get("hours"), f"{path}.hours") if "hours" in spec else {},
            when=r.localised(spec.get("when"), f"{path}.when") if "when" in spec else {},
            sources=sources, verified=verified,
            free=r.flag(spec.get("free"), f"{path}.free", nullable=True),
            anonymous=r.flag(spec.get("anonymous"), f"{path}.anonymous", nullable=True),
            audience=r.audiences(spec.get("audience", []), f"{path}.audience"),
            emergency=bool(r.flag(spec.get("emergency", False), f"{path}.emergency")),
            open_always=open_always, open_spans=spans,
            closed=_closed(spec["closed"], f"{path}.closed", r) if "closed" in spec else None,
            confidence=str(spec.get("confidence") or ""), path=path,
        )
    return services


def _opening(value: Any, path: str, r: _Reader) -> tuple[bool, tuple[OpenSpan, ...]]:
    if value is None:
        return False, ()
    if value == "always":
        return True, ()
    if not isinstance(value, list):
        r.problem(path, f"expected 'always' or a list of {{days, from, to}}, got {_kind(value)}")
        return False, ()
    spans = []
    for i, raw in enumerate(value):
        spath = f"{path}[{i}]"
        # Weekdays, days of the month, or neither: hours the reference gives without confirming the days.
        span = r.mapping(raw, spath, {"days", "dates", "from", "to"})
        days = r.strings(span.get("days"), f"{spath}.days") if "days" in span else ()
        unknown = [d for d in days if d not in DAYS]
        if unknown or ("days" in span and not days):
            r.problem(f"{spath}.days", f"expected days from {', '.join(DAYS)}, got {list(days)!r}")
            continue
        dates = span.get("dates", [])
        if not isinstance(dates, list) or not all(type(d) is int and 1 <= d <= 31 for d in dates):
            r.problem(f"{spath}.dates", f"expected days of the month from 1 to 31, got {dates!r}")
            continue
        start, end = _clock(span.get("from"), f"{spath}.from", r), _clock(span.get("to"), f"{spath}.to", r)
        if start is not None and end is not None:
            spans.append(OpenSpan(frozenset(DAYS[d] for d in days), start, end, frozenset(dates)))
    return False, tuple(spans)


def _closed(value: Any, path: str, r: _Reader) -> ClosedDays:
    """``[holidays, 12-29..01-03]``: national holidays and yearly breaks; ``[]``: open on holidays too."""
    if not isinstance(value, list):
        r.problem(path, f"expected a list of 'holidays' and periods MM-DD..MM-DD, got {_kind(value)}")
        return ClosedDays()
    holidays, periods = False, list[Period]()
    for i, item in enumerate(value):
        if item == HOLIDAYS:
            holidays = True
            continue
        try:
            found = parse_periods(item) if isinstance(item, str) else ()
            if len(found) != 1:  # one period per item; not "off", not a comma list
                raise ValueError(item)
            periods.extend(found)
        except ValueError:
            r.problem(f"{path}[{i}]", f"expected 'holidays' or a period MM-DD..MM-DD (e.g. 12-29..01-03), got {item!r}")
    return ClosedDays(holidays, tuple(periods))


def _clock(value: Any, path: str, r: _Reader) -> time | None:
    # YAML 1.1 reads an unquoted 08:30 as a sexagesimal integer; accept it rather than surprise editors.
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str) and re.fullmatch(r"([01]\d|2[0-4]):[0-5]\d", value):
        hours, minutes = int(value[:2]), int(value[3:])
        return time(23, 59, 59) if hours == 24 else time(hours, minutes)
    r.problem(path, f"expected a time HH:MM, got {value!r}")
    return None


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__
