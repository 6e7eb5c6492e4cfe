"""Turn a screen and a state into a Reply: localised text, referral cards and buttons with state ids."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.engine.closed import HolidayTest, closed_on, is_national_holiday
from bot.engine.events import Button, Reply
from bot.engine.ids import encode_button
from bot.engine.machine import HELP_SCREEN, HOME, PERSON, START_SCREEN, FlowMachine, trigger_for
from bot.engine.model import AUDIENCE_CODES, ButtonSpec, Content, Node, Service
from bot.engine.season import Period, in_any

__all__ = ["JAPAN", "SHORT_SUFFIX", "SYSTEM_MESSAGES", "Clock", "Renderer", "audience_after"]

JAPAN = ZoneInfo("Asia/Tokyo")
SHORT_SUFFIX = ".short"  # `<label msgid>.short`: a button label's short form, for media with small buttons (LINE)
CACHE_SIZE = 2048
_PARENTHESISED = re.compile(r"[(（][^)）]*[)）]")
Clock = Callable[[], datetime]
CONTACT_ICONS = {"phone": "📞", "short_code": "📞", "web": "🌐", "chat": "💬", "line": "💬 LINE", "email": "✉️"}
# Message ids the engine itself uses; `anshin check` requires them in every locale like flow texts.
SYSTEM_MESSAGES = (
    "sys.btn.person", "sys.btn.home", "sys.svc.free", "sys.svc.paid", "sys.svc.anonymous",
    "sys.svc.open_now", "sys.svc.closed_now", "sys.svc.open_elsewhere", "sys.svc.written_elsewhere",
    "sys.referrals", "sys.console.hint",
    "sys.language_name",
    "sys.tg.group", "sys.tg.btn.private", "sys.tg.description", "sys.tg.short_description",  # Telegram
    "sys.tg.cmd.start", "sys.tg.cmd.help", "sys.tg.cmd.language", "sys.tg.cmd.privacy",
    "sys.line.group", "sys.line.btn.friend", "sys.line.menu",  # LINE
)


def audience_after(node: Node, current: str) -> str:
    """Entering a screen written for one audience puts the conversation in that audience."""
    specific = [a for a in node.audience if a != "any"]
    code = AUDIENCE_CODES[specific[0]] if len(specific) == 1 else current.lower()
    return code.upper() if current.isupper() else code  # upper case: still in a crisis reply chain


class Renderer:
    def __init__(self, content: Content, machine: FlowMachine, clock: Clock | None = None,
                 seasonal_first: Mapping[str, str] | None = None, seasons: tuple[Period, ...] = (),
                 holiday: HolidayTest = is_national_holiday) -> None:
        self.content = content
        self.machine = machine
        self.clock: Clock = clock or (lambda: datetime.now(JAPAN))
        self.holiday = holiday
        # Inside a campaign period (Japan's calendar), screen -> the target whose button goes first.
        self.seasonal_first = dict(seasonal_first or {}) if seasons else {}
        self.seasons = seasons
        # When every line a screen names is closed, the first line open at all hours is offered; and when every
        # line there that answers in writing is closed, the first written one open at all hours (services.yaml order).
        always_open = [s for s in content.services.values() if s.open_always and not s.emergency]
        self._spoken_fallback = next((s for s in always_open if not s.written), None)
        self._written_fallback = next((s for s in always_open if s.written), None)
        # Screens whose cards say "open now" or "closed now": they change with the minute, the rest with the day.
        self._timed = frozenset(key for key, node in content.nodes.items() if any(
            service.open_spans and not service.open_always
            for service in (content.services.get(sid) for sid in node.referrals) if service is not None))
        # Replies are immutable and depend only on these arguments and the minute or the day: a small LRU cache
        # keeps popular screens cheap (and the same objects) without growing with the number of users.
        self._cache: OrderedDict[tuple[str, str, str, bool, date], Reply] = OrderedDict()

    def screen(self, key: str, locale: str, audience: str, emergency: bool = False) -> Reply:
        """A screen as a reply. An upper-case audience marks a crisis chain: services and the person
        button come first, so one "I'm fine" press does not push the help out of sight."""
        minute = self.clock().astimezone(JAPAN).replace(second=0, microsecond=0)
        cache_key = (key, locale, audience, emergency, minute if key in self._timed else minute.date())
        reply = self._cache.get(cache_key)
        if reply is not None:
            self._cache.move_to_end(cache_key)
            return reply
        reply = self._render(key, locale, audience, emergency, minute)
        self._cache[cache_key] = reply
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return reply

    def _render(self, key: str, locale: str, audience: str, emergency: bool, now: datetime) -> Reply:
        node = self.content.nodes[key]
        gettext = self.content.catalogs.gettext
        crisis = emergency or audience.isupper()
        parts = [gettext(locale, node.text)]
        referrals = tuple(sid for sid in node.referrals if sid in self.content.services)
        if referrals:
            cards = self.cards(referrals, locale, now)
            parts.insert(0, cards) if crisis else parts.append(cards)
        rows: list[tuple[Button, ...]] = [
            (Button(gettext(locale, b.label), url=b.url, short=self._short(locale, b.label)),) if b.url is not None
            else (Button(gettext(locale, b.label), self._id(locale, audience, node, b.to or ""),
                         short=self._short(locale, b.label)),)
            for b in self._buttons(node, now)
        ]
        if node.languages:
            choices = [Button(self.content.catalogs.display_name(code), encode_button(code, audience, key, HOME))
                       for code in self.content.catalogs.locales]
            rows.extend(tuple(choices[i:i + 2]) for i in range(0, len(choices), 2))
        system: list[Button] = []
        if key != HELP_SCREEN and HELP_SCREEN in self.content.nodes:
            system.append(Button(gettext(locale, "sys.btn.person"), encode_button(locale, audience, key, PERSON),
                                 short=self._short(locale, "sys.btn.person")))
        if key != START_SCREEN:
            system.append(Button(gettext(locale, "sys.btn.home"), encode_button(locale, audience, key, HOME),
                                 short=self._short(locale, "sys.btn.home")))
        if system:
            # In a crisis the way to a person comes before anything else on the screen.
            rows.insert(0, tuple(system[:1])) if crisis else rows.append(tuple(system))
            if crisis and len(system) > 1:
                rows.append(tuple(system[1:]))
        return Reply("\n\n".join(p for p in parts if p), tuple(rows), referrals, emergency, screen=key, locale=locale,
                     crisis=crisis)

    def _buttons(self, node: Node, now: datetime) -> tuple[ButtonSpec, ...]:
        """The screen's own buttons; in a campaign period its seasonal button moves to the top."""
        first = self.seasonal_first.get(node.key)
        if first is None or not in_any(self.seasons, now.date()):
            return node.buttons
        return (*(b for b in node.buttons if b.to == first), *(b for b in node.buttons if b.to != first))

    def _short(self, locale: str, msgid: str) -> str | None:
        """The label's short form in this locale (``<msgid>.short``), where the catalogue writes one."""
        short = msgid + SHORT_SUFFIX
        return self.content.catalogs.gettext(locale, short) if self.content.catalogs.has(locale, short) else None

    @staticmethod
    def _id(locale: str, audience: str, node: Node, target: str) -> str:
        return encode_button(locale, audience, node.key, trigger_for(node, target))

    def cards(self, service_ids: tuple[str, ...], locale: str, now: datetime) -> str:
        gettext = self.content.catalogs.gettext
        cards, any_closed, any_open, written = [], False, False, []
        for sid in service_ids:
            service = self.content.services[sid]
            is_open = _is_open(service, now, self.holiday)
            any_closed |= is_open is False
            any_open |= is_open is True or service.open_always
            if service.written:
                written.append(is_open is False)
            cards.append(self._card(service, locale, is_open))
        text = gettext(locale, "sys.referrals") + "\n" + "\n\n".join(cards)
        if any_closed and not any_open and self._spoken_fallback is not None:
            text += self._fallback("sys.svc.open_elsewhere", self._spoken_fallback, locale)
        if written and all(written) and self._written_fallback is not None:
            text += self._fallback("sys.svc.written_elsewhere", self._written_fallback, locale)
        return text

    def _fallback(self, msgid: str, service: Service, locale: str) -> str:
        line = self.content.catalogs.gettext(locale, msgid).replace("{service}", self.service_name(service, locale))
        return "\n\n" + line + "\n" + "\n".join(self._contact_lines(service))

    def service_text(self, service: Service, field_name: str, locale: str) -> str:
        """A service's name, hours or when-to-call: from the catalogue (``svc.<id>.<field>``, how locales
        beyond ja and en translate them), else from services.yaml."""
        msgid = f"svc.{service.id}.{field_name}"
        if locale not in getattr(service, field_name) and self.content.catalogs.has(locale, msgid):
            return self.content.catalogs.gettext(locale, msgid)
        return service.text(field_name, locale)

    def service_name(self, service: Service, locale: str) -> str:
        """Outside Japanese the Japanese name stays beside the translation: it is what a child must say or
        search for."""
        name, japanese = self.service_text(service, "name", locale), service.name.get("ja", "")
        if locale.startswith("ja") or not japanese or japanese in name:
            return name
        # A name the Japanese already spells ("Take It Down" in "Take It Down(テイク・イット・ダウン)") needs no gloss.
        return name if _PARENTHESISED.sub("", name).strip() in japanese else f"{name} ({japanese})"

    def _card(self, service: Service, locale: str, is_open: bool | None) -> str:
        gettext = self.content.catalogs.gettext
        lines = [f"■ {self.service_name(service, locale)}", *self._contact_lines(service)]
        facts = [self.service_text(service, "hours", locale)] if service.hours else []
        if is_open is not None:
            facts.append(gettext(locale, "sys.svc.open_now" if is_open else "sys.svc.closed_now"))
        if service.free is not None:
            facts.append(gettext(locale, "sys.svc.free" if service.free else "sys.svc.paid"))
        if service.anonymous:
            facts.append(gettext(locale, "sys.svc.anonymous"))
        if facts:
            lines.append("🕒 " + " / ".join(f for f in facts if f))
        if service.when:
            lines.append(self.service_text(service, "when", locale))
        return "\n".join(lines)

    @staticmethod
    def _contact_lines(service: Service) -> list[str]:
        return [f"{CONTACT_ICONS.get(c.kind, '•')} {c.value}" for c in service.contacts]


def _is_open(service: Service, now: datetime, holiday: HolidayTest = is_national_holiday) -> bool | None:
    """Open now (``now`` in Japan time) where the reference gives exact hours and days; closed outside the hours,
    on its breaks, and on national holidays for a service closed then; None where the reference does not say."""
    if service.open_always or not service.open_spans:
        return None
    if not any(span.within(now) for span in service.open_spans):
        return False
    if closed_on(service.closed, now.date(), holiday):
        return False
    if any(span.on(now) for span in service.open_spans):
        return True
    return None if any(not span.days_known for span in service.open_spans if span.within(now)) else False
