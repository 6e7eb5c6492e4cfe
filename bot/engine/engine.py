"""``Engine.handle(event) -> replies``: pure, no I/O, no per-user state."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import NamedTuple

from bot.engine.check import check_content
from bot.engine.events import MAX_TEXT_CHARS, Event, Reply
from bot.engine.ids import decode_button, parse_payload
from bot.engine.loader import load_content
from bot.engine.machine import AUDIENCE_MENUS, HELP_SCREEN, HOME, START_SCREEN, FlowMachine
from bot.engine.model import Content, Problem
from bot.engine.render import Clock, Renderer, audience_after
from bot.engine.season import SPRING_FIRST, Period

__all__ = ["ContentError", "Engine", "Routed", "TextRouter"]

log = logging.getLogger(__name__)


class Routed(NamedTuple):
    """Where free text leads: a screen (None: the generic free-text screen), and how urgent it is."""

    screen: str | None
    emergency: bool = False  # danger now or self-harm: the reply is marked "emergency"
    crisis: bool = False  # any crisis category: services and the person button come first


TextRouter = Callable[[str], Routed]


class ContentError(Exception):
    """The content has errors; the engine refuses to start rather than fail a user later."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        lines = "\n".join(f"  {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"{len(problems)} content problem(s); run `anshin check`:\n{lines}{more}")


class Engine:
    """Validated content compiled into one shared machine; every event is answered from scratch."""

    def __init__(self, content: Content, clock: Clock | None = None, router: TextRouter | None = None,
                 seasonal_first: Mapping[str, str] | None = None, spring: tuple[Period, ...] = ()) -> None:
        """``spring``: campaign periods (default none); inside one, each screen in ``seasonal_first`` puts
        the button to its target first (default ``{"parent.menu": "parent.first_phone"}``)."""
        errors = [p for p in check_content(content, rendered=not content.stamped) if p.severity == "error"]
        if errors:
            raise ContentError(errors)
        self.content = content
        self.machine = FlowMachine(content)
        first = SPRING_FIRST if seasonal_first is None else seasonal_first
        self.renderer = Renderer(content, self.machine, clock, first, spring)
        self._router = router  # the safety layer is built at the first typed message, not at start-up
        self.locales = content.catalogs.locales

    @classmethod
    def from_root(cls, root: Path, clock: Clock | None = None) -> Engine:
        return cls(load_content(root), clock=clock)

    def handle(self, event: Event) -> list[Reply]:
        """Answer one event. Never raises: a bug still gets a kind answer with a way to a person."""
        try:
            return self._handle(event)
        except Exception as error:  # the last line of defence; the reason is logged without content
            log.error("engine failed on a %s event: %s", event.kind, type(error).__name__)
            return [self._event_screen("outdated", self.content.catalogs.default, "x")]

    def _handle(self, event: Event) -> list[Reply]:
        client_locale = self.content.catalogs.negotiate(event.lang)
        if event.kind == "press":
            return [self._press(event.value, client_locale)]
        if event.kind == "start":
            request = parse_payload(event.value)
            locale = request.locale if request.locale in self.locales else client_locale
            screen = AUDIENCE_MENUS.get(request.audience, START_SCREEN) if request.valid else START_SCREEN
            if screen not in self.content.nodes:
                screen = START_SCREEN
            return [self.renderer.screen(screen, locale, request.audience if request.valid else "x")]
        if event.kind == "command":
            name = event.value if event.value in ("help", "privacy", "language", "cancel") else "help"
            return [self._event_screen(name, client_locale, "x")]
        if event.kind == "media":
            return [self._event_screen("media", client_locale, "x")]
        return [self._text(event.value[:MAX_TEXT_CHARS], client_locale)]

    def _press(self, button_id: str, client_locale: str) -> Reply:
        state = decode_button(button_id)
        if state is None or state.locale not in self.locales:
            return self._event_screen("outdated", client_locale, "x")
        target = self.machine.fire(state.screen, state.trigger, state.audience)
        if target is None:
            return self._event_screen("outdated", state.locale, state.audience)
        audience = audience_after(self.content.nodes[target], state.audience)
        if state.trigger == HOME:
            audience = audience.lower()  # going back to the menu is the user's choice to leave the crisis chain
        return self.renderer.screen(target, state.locale, audience)

    def prepare_text(self) -> None:
        """Build what reading free text needs (the safety layer's rules and model) now rather than at the first
        typed message: servers call this in a background thread once they listen. Never raises."""
        try:
            warm_up = getattr(self.router, "warm_up", None)
            if callable(warm_up):
                layer = "with" if warm_up() else "without"
                log.info("free text: ready to read, %s the exemplar layer", layer)
        except Exception as error:  # the first message will try again; nothing is lost
            log.warning("preparing the text router failed: %s", type(error).__name__)

    @property
    def router(self) -> TextRouter:
        if self._router is None:
            self._router = _default_router()
        return self._router

    def _text(self, text: str, locale: str) -> Reply:
        routed = self.router(text)
        if routed.screen is None or routed.screen not in self.content.nodes:
            return self._event_screen("text", locale, "x")
        audience = audience_after(self.content.nodes[routed.screen], "X" if routed.crisis else "x")
        return self.renderer.screen(routed.screen, locale, audience, routed.emergency)

    def _event_screen(self, event: str, locale: str, audience: str) -> Reply:
        key = self.content.events.get(event) or HELP_SCREEN
        return self.renderer.screen(key, locale, audience)


class _SafetyRouter:
    """Free text through ``bot.safety``: the category and topic it finds, as a screen and its urgency."""

    def __init__(self) -> None:
        from bot.safety import assess, warm_up

        self._assess = assess
        self.warm_up = warm_up

    def __call__(self, text: str) -> Routed:
        assessment = self._assess(text)
        return Routed(assessment.topic, assessment.emergency, assessment.category is not None)


def _default_router() -> TextRouter:
    try:
        return _SafetyRouter()
    except ImportError:  # the safety package is optional only while it is being built
        return lambda text: Routed(None)
