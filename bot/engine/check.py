"""``anshin check``: every rule that makes content safe to serve, each problem with its location."""

from __future__ import annotations

from collections import deque
from datetime import date, datetime, timedelta

from bot.engine.ids import MAX_BUTTON_ID_BYTES
from bot.engine.loader import EVENT_NAMES
from bot.engine.machine import AUDIENCE_MENUS, HELP_SCREEN, START_SCREEN, FlowMachine
from bot.engine.model import Content, Node, Problem
from bot.engine.render import JAPAN, SYSTEM_MESSAGES, Renderer
from bot.i18n import placeholders

__all__ = ["REQUIRED_LOCALES", "check_content"]

MAX_TEXT_CHARS = 4096  # Telegram's message limit
REFERRAL_PRESSES = 2
STALE_AFTER = timedelta(days=365)
REQUIRED_LOCALES = ("ja", "en")
# Render every screen at a time when hour-limited services are open and when they are closed.
SAMPLE_TIMES = (datetime(2026, 6, 3, 12, 0, tzinfo=JAPAN), datetime(2026, 6, 7, 3, 0, tzinfo=JAPAN))


def check_content(content: Content, today: date | None = None) -> list[Problem]:
    """All problems, errors and warnings, sorted by file and path."""
    problems = list(content.problems)
    nodes, start = content.nodes, content.start_file
    for required, why in ((START_SCREEN, "the first screen"), (HELP_SCREEN, "the help directory")):
        if required not in nodes:
            problems.append(Problem(start if required == START_SCREEN else "flows/help.yaml",
                                    f"nodes.{required.split('.')[1]}", f"missing: {why} ({required}) must exist"))
    for event in EVENT_NAMES:
        target = content.events.get(event)
        if target is None:
            problems.append(Problem(start, "events", f"missing event screen {event!r}"))
        elif target not in nodes:
            problems.append(Problem(start, f"events.{event}", f"unknown screen {_short(target, 'start')!r}"))
    for node in nodes.values():
        problems.extend(_node_problems(node, content))
    problems.extend(_reachability(content))
    problems.extend(_service_problems(content, today or datetime.now(JAPAN).date()))
    problems.extend(_message_problems(content))
    if not problems or all(p.severity != "error" for p in problems):
        problems.extend(_rendered_problems(content))  # rendering needs sound content
    return sorted(set(problems))


def _short(target: str, flow: str) -> str:
    return target.split(".", 1)[1] if target.startswith(f"{flow}.") else target


def _node_problems(node: Node, content: Content) -> list[Problem]:
    problems = []
    seen: set[str] = set()
    for button in node.buttons:
        if button.to is None:
            continue
        if button.to not in content.nodes:
            problems.append(Problem(node.file, button.path, f"unknown target {_short(button.to, node.flow)!r}"))
        elif button.to in seen:
            problems.append(Problem(node.file, button.path,
                                    f"a second button to {_short(button.to, node.flow)!r}; lead to a screen once"))
        seen.add(button.to)
    for i, sid in enumerate(node.referrals):
        if sid not in content.services:
            problems.append(Problem(node.file, f"{node.path}.referrals[{i}]",
                                    f"unknown service {sid!r} (see flows/services.yaml)"))
    if not node.buttons and not node.languages and not node.referrals:
        problems.append(Problem(node.file, node.path,
                                "a screen with no buttons of its own must name a human service in 'referrals'"))
    return problems


def _edges(content: Content) -> dict[str, set[str]]:
    """Where each screen leads, counting the person and menu buttons every screen gets."""
    menus = {START_SCREEN, *AUDIENCE_MENUS.values()} & set(content.nodes)
    edges: dict[str, set[str]] = {}
    for key, node in content.nodes.items():
        targets = {b.to for b in node.buttons if b.to in content.nodes}
        if HELP_SCREEN in content.nodes:
            targets.add(HELP_SCREEN)
        if node.languages or key != START_SCREEN:
            targets |= menus if node.languages else ({START_SCREEN} & menus)
        edges[key] = targets - {key}
    return edges


def _reachability(content: Content) -> list[Problem]:
    edges = _edges(content)
    roots = {START_SCREEN, *content.events.values()} & set(content.nodes)
    reached, queue = set(roots), deque(roots)
    while queue:
        for target in edges[queue.popleft()]:
            if target not in reached:
                reached.add(target)
                queue.append(target)
    problems = [Problem(node.file, node.path, "unreachable: no button or event leads to this screen")
                for key, node in content.nodes.items() if key not in reached]
    with_referrals = {key for key, node in content.nodes.items() if node.referrals}
    for key, node in content.nodes.items():
        frontier, seen = {key}, {key}
        for _ in range(REFERRAL_PRESSES):
            frontier = {t for s in frontier for t in edges[s]} - seen
            seen |= frontier
        if not seen & with_referrals:
            problems.append(Problem(node.file, node.path, f"no human service within {REFERRAL_PRESSES} presses; "
                                    "add 'referrals' here or a button to a screen that has them"))
    return problems


def _service_problems(content: Content, today: date) -> list[Problem]:
    problems = []
    for service in content.services.values():
        if service.verified is not None and today - service.verified > STALE_AFTER:
            problems.append(Problem(content.services_file, f"{service.path}.verified",
                                    f"verified {service.verified.isoformat()}, more than 365 days ago; "
                                    "re-check the facts against the operator's site", "warning"))
    return problems


def _message_problems(content: Content) -> list[Problem]:
    catalogs = content.catalogs
    problems = [Problem("locales", code, f"missing locale {code!r}: ja and en must be complete")
                for code in REQUIRED_LOCALES if code not in catalogs.locales]
    used: dict[str, tuple[str, str]] = {msgid: ("locales/{locale}/LC_MESSAGES/messages.po", msgid)
                                        for msgid in SYSTEM_MESSAGES}
    for node in content.nodes.values():
        used.setdefault(node.text, (node.file, f"{node.path}.text"))
        for button in node.buttons:
            used.setdefault(button.label, (node.file, f"{button.path}.label"))
    for service in content.services.values():
        for field_name in ("name", "hours", "when"):
            written: dict[str, str] = getattr(service, field_name)
            for locale in catalogs.locales:
                msgid = f"svc.{service.id}.{field_name}"
                if written and locale not in written and not catalogs.has(locale, msgid):
                    problems.append(Problem(f"locales/{locale}/LC_MESSAGES/services.po", msgid,
                                            f"service text {msgid!r} missing in locale {locale!r}"))
    for msgid, (file, path) in sorted(used.items()):
        if not msgid:
            continue
        reference = catalogs.gettext(catalogs.default, msgid) if catalogs.has(catalogs.default, msgid) else None
        for locale in catalogs.locales:
            where = file.replace("{locale}", locale)
            if not catalogs.has(locale, msgid):
                problems.append(Problem(where, path, f"message id {msgid!r} missing in locale {locale!r}"))
            elif reference is not None and placeholders(catalogs.gettext(locale, msgid)) != placeholders(reference):
                problems.append(Problem(where, path, f"message id {msgid!r} in locale {locale!r}: placeholders "
                                        f"differ from {catalogs.default!r}"))
    return problems


def _rendered_problems(content: Content) -> list[Problem]:
    problems: set[Problem] = set()
    longest: dict[tuple[str, str, str], str] = {}  # the longest id per button, reported once
    machine = FlowMachine(content)
    for moment in SAMPLE_TIMES:
        renderer = Renderer(content, machine, clock=lambda moment=moment: moment)  # type: ignore[misc]
        for key, node in content.nodes.items():
            for locale in content.catalogs.locales:
                for audience in ("t", "p", "s", "x"):
                    reply = renderer.screen(key, locale, audience)
                    if len(reply.text) > MAX_TEXT_CHARS:
                        problems.add(Problem(node.file, node.path, f"text is {len(reply.text)} characters in "
                                             f"locale {locale!r}, over Telegram's {MAX_TEXT_CHARS}"))
                    for button_id in reply.button_ids():
                        slot = (node.file, node.path, button_id.rsplit(":", 1)[1])
                        if len(button_id.encode()) > len(longest.get(slot, "").encode()):
                            longest[slot] = button_id
    for (file, path, _), button_id in longest.items():
        size = len(button_id.encode("utf-8"))
        if size > MAX_BUTTON_ID_BYTES:
            problems.add(Problem(file, path, f"button id {button_id!r} is {size} bytes, over Telegram's "
                                 f"{MAX_BUTTON_ID_BYTES}; shorten screen names"))
    return sorted(problems)
