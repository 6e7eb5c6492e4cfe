"""``anshin check``: every rule that makes content safe to serve, each problem with its location."""

from __future__ import annotations

import gettext
from collections import deque
from datetime import date, datetime, timedelta

from babel import Locale, UnknownLocaleError
from babel.messages.plurals import PLURALS

from bot.engine.ids import MAX_BUTTON_ID_BYTES
from bot.engine.loader import EVENT_NAMES
from bot.engine.machine import AUDIENCE_HELP, AUDIENCE_MENUS, HELP_SCREEN, START_SCREEN, FlowMachine
from bot.engine.model import Content, Node, Problem
from bot.engine.render import JAPAN, SHORT_SUFFIX, SYSTEM_MESSAGES, Renderer
from bot.i18n import placeholders
from bot.i18n.catalogs import PluralForms

__all__ = ["MAX_LABEL_CHARS", "MAX_QUICK_REPLIES", "REQUIRED_LOCALES", "check_content", "completeness", "label_length"]

MAX_TEXT_CHARS = 4096  # Telegram's message limit (LINE's is 5000)
MAX_LABEL_CHARS = 20  # LINE: a quick reply's or a template's button label
MAX_QUICK_REPLIES = 13  # LINE: buttons under one message
# Buttons every screen may get besides its own (the way to a person, the menu).
SYSTEM_LABELS = ("sys.btn.person", "sys.btn.home")
OTHER_LINE_LIMITS = {"sys.line.btn.friend": MAX_LABEL_CHARS, "sys.line.menu": 14}  # 14: a rich menu's chat bar
REFERRAL_PRESSES = 2
STALE_AFTER = timedelta(days=365)
REQUIRED_LOCALES = ("ja", "en")
# Plural expressions are tried on these n (gettext's own range check is the same idea).
PLURAL_SAMPLES = (*range(0, 1001), 1_000_000, 2_000_000, 10_000_000)
# Render every screen at a time when hour-limited services are open and when they are closed.
SAMPLE_TIMES = (datetime(2026, 6, 3, 12, 0, tzinfo=JAPAN), datetime(2026, 6, 7, 3, 0, tzinfo=JAPAN))


def check_content(content: Content, today: date | None = None, rendered: bool = True) -> list[Problem]:
    """All problems, errors and warnings, sorted by file and path. ``rendered=False`` leaves out rendering every
    screen (text and button id limits), for content whose stamp says exactly this was checked with it."""
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
    problems.extend(_written_channel_problems(content))
    problems.extend(_service_problems(content, today or datetime.now(JAPAN).date()))
    problems.extend(_message_problems(content))
    problems.extend(_label_problems(content))
    problems.extend(p for forms in content.catalogs.plural_forms for p in _plural_problems(forms))
    if rendered and all(p.severity != "error" for p in problems):
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
            if {"parent", "any"} & set(node.audience):  # a parent's "talk to a person" (machine.AUDIENCE_HELP)
                targets |= {AUDIENCE_HELP["p"]} & set(content.nodes)
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


def _written_channel_problems(content: Content) -> list[Problem]:
    """Teenagers write more readily than they phone: a teen screen that names services names at least one that
    answers in writing (a chat or LINE contact)."""
    problems = []
    for node in content.nodes.values():
        services = [content.services[sid] for sid in node.referrals if sid in content.services]
        if "teen" in node.audience and services and not any(service.written for service in services):
            problems.append(Problem(node.file, f"{node.path}.referrals", "a teen screen names no service that answers "
                                    "in writing; add a chat or LINE service that fits (see flows/services.yaml)"))
    return problems


def _service_problems(content: Content, today: date) -> list[Problem]:
    problems = []
    for service in content.services.values():
        if any(span.days_known for span in service.open_spans) and service.closed is None:
            problems.append(Problem(content.services_file, f"{service.path}.closed", "missing: a service with opening "
                                    "hours must say on which days it is closed, e.g. closed: [holidays, 12-29..01-03] "
                                    "(closed: [] if the reference says it also opens on holidays)"))
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
    # Texts the flows do not name (web page, posters, ...) are required too: every id of the default catalogue.
    origins = catalogs.origins.get(catalogs.default, {})
    for msgid, origin in origins.items():
        if msgid.endswith(SHORT_SUFFIX):
            continue  # a short form is written only where a locale's label is too long (_label_problems)
        used.setdefault(msgid, (origin.replace(f"/{catalogs.default}/", "/{locale}/", 1), msgid))
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


def label_length(text: str) -> int:
    """A label's length as LINE counts it, in UTF-16 code units (an emoji outside the BMP counts 2): the
    safe reading where the API says "characters"."""
    return len(text.encode("utf-16-le")) // 2


def _label_problems(content: Content) -> list[Problem]:
    """Every button label, in every locale, fits LINE's 20 characters: the label, or its short form
    ``<msgid>.short`` where the catalogue writes one (a shorter wording, never a cut word)."""
    catalogs = content.catalogs
    labels: dict[str, tuple[str, str]] = {msgid: ("locales/{locale}/LC_MESSAGES/messages.po", msgid)
                                          for msgid in SYSTEM_LABELS}
    for node in content.nodes.values():
        for button in node.buttons:
            labels.setdefault(button.label, (node.file, f"{button.path}.label"))
    problems = []
    for msgid, (file, path) in sorted(labels.items()):
        short_id = msgid + SHORT_SUFFIX
        for locale in catalogs.locales:
            if not catalogs.has(locale, msgid):
                continue  # reported as missing
            label = catalogs.gettext(locale, msgid)
            where = file.replace("{locale}", locale)
            if catalogs.has(locale, short_id):
                short = catalogs.gettext(locale, short_id)
                po = catalogs.origins.get(locale, {}).get(short_id, where)
                if label_length(short) > MAX_LABEL_CHARS:
                    problems.append(Problem(po, short_id, f"short form {short!r} is {label_length(short)} characters "
                                            f"in locale {locale!r}, over LINE's {MAX_LABEL_CHARS}"))
                elif placeholders(short) != placeholders(label):
                    problems.append(Problem(po, short_id, f"short form in locale {locale!r}: placeholders differ "
                                            "from the label's"))
            elif label_length(label) > MAX_LABEL_CHARS:
                problems.append(Problem(where, path, f"label {label!r} is {label_length(label)} characters in locale "
                                        f"{locale!r}, over LINE's {MAX_LABEL_CHARS} for a button; write a shorter "
                                        f"wording as {short_id!r} in locales/{locale}/LC_MESSAGES/*.po"))
    for locale in catalogs.locales:
        for msgid, limit in OTHER_LINE_LIMITS.items():
            text = catalogs.gettext(locale, msgid)
            if catalogs.has(locale, msgid) and label_length(text) > limit:
                problems.append(Problem(f"locales/{locale}/LC_MESSAGES/messages.po", msgid,
                                        f"{text!r} is {label_length(text)} characters, over LINE's {limit} here"))
        name = catalogs.display_name(locale)
        if label_length(name) > MAX_LABEL_CHARS:
            problems.append(Problem(f"locales/{locale}/LC_MESSAGES/messages.po", "sys.language_name",
                                    f"language name {name!r} is over LINE's {MAX_LABEL_CHARS} characters"))
    return problems


def required_message_ids(content: Content, locale: str) -> frozenset[str]:
    """What a complete catalogue for ``locale`` holds: every id of the default catalogue, every text the
    flows and the engine use, and the service texts that flows/services.yaml does not write in ``locale``."""
    catalogs = content.catalogs
    ids = {*(i for i in catalogs.message_ids(catalogs.default) if not i.endswith(SHORT_SUFFIX)), *SYSTEM_MESSAGES}
    for node in content.nodes.values():
        ids.update((node.text, *(b.label for b in node.buttons)))
    for service in content.services.values():
        for field_name in ("name", "hours", "when"):
            written: dict[str, str] = getattr(service, field_name)
            if written and locale not in written:
                ids.add(f"svc.{service.id}.{field_name}")
    return frozenset(i for i in ids if i)


def completeness(content: Content) -> dict[str, tuple[int, int]]:
    """Per shipped locale, (message ids present, message ids required); ``anshin check`` prints it."""
    result = {}
    for locale in content.catalogs.locales:
        required = required_message_ids(content, locale)
        result[locale] = (len(required & content.catalogs.message_ids(locale)), len(required))
    return result


def _babel_plurals(locale: str) -> tuple[int, str] | None:
    """nplurals and the expression from Babel's CLDR-derived table, or None where Babel does not know the
    language. ja_Easy is read as ja."""
    try:
        parsed = Locale.parse(locale)
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    for key in (str(parsed), parsed.language):
        if key in PLURALS:
            count, expression = PLURALS[key]
            return count, expression
    return None


def _plural_problems(forms: PluralForms) -> list[Problem]:
    """A catalogue's Plural-Forms (as Babel read the header) must be a working gettext rule, with the number of
    forms Babel's CLDR data gives for the locale where Babel knows the language."""
    if forms.count is None or forms.expression is None:
        return []  # neither Plural-Forms nor Language: gettext's default applies, nothing declared to check
    declared = f"nplurals={forms.count}; plural={forms.expression};"
    if forms.count < 1:
        return [Problem(forms.file, "Plural-Forms", f"{declared!r}: nplurals must be at least 1")]
    try:
        rule = gettext.c2py(forms.expression)
    except (ValueError, SyntaxError, RecursionError) as error:
        return [Problem(forms.file, "Plural-Forms", f"{declared!r}: plural expression does not parse: {error}")]
    problems = []
    for n in PLURAL_SAMPLES:
        try:
            index = rule(n)
        except (ArithmeticError, ValueError, RecursionError) as error:
            problems.append(Problem(forms.file, "Plural-Forms", f"{declared!r}: fails for n={n}: {error}"))
            break
        if not 0 <= index < forms.count:
            problems.append(Problem(forms.file, "Plural-Forms",
                                    f"{declared!r}: gives form {index} for n={n}, but there are {forms.count}"))
            break
    # Babel's table follows CLDR, which can differ from older gettext usage (pt_BR: 3 forms, not 2).
    expected = _babel_plurals(forms.locale)
    if expected is not None and expected[0] != forms.count:
        problems.append(Problem(forms.file, "Plural-Forms", f"{declared!r} does not match Babel's CLDR data for "
                                f"locale {forms.locale!r}: nplurals={expected[0]}; plural={expected[1]};"))
    return problems


def _rendered_problems(content: Content) -> list[Problem]:
    problems: set[Problem] = set()
    longest: dict[tuple[str, str, str], str] = {}  # the longest id per button, reported once
    machine = FlowMachine(content)
    for moment in SAMPLE_TIMES:
        # Lengths do not depend on the holiday table, which costs 0.1 s to build: never build it at start-up.
        renderer = Renderer(content, machine, clock=lambda moment=moment: moment,  # type: ignore[misc]
                            holiday=lambda day: False)
        for key, node in content.nodes.items():
            for locale in content.catalogs.locales:
                for audience in ("t", "p", "s", "x"):
                    reply = renderer.screen(key, locale, audience)
                    count = sum(len(row) for row in reply.buttons)
                    if count > MAX_QUICK_REPLIES:
                        problems.add(Problem(node.file, node.path, f"{count} buttons in locale {locale!r}, over "
                                             f"LINE's {MAX_QUICK_REPLIES} under one message"))
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
