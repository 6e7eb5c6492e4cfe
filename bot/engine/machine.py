"""Compile the screens into ONE shared ``transitions`` Machine, built once at start-up.

No model is ever added to the machine (``add_model`` per user costs memory and quadratic time, see
transitions issues #146 and #434): a press builds a throwaway ``Cursor`` and fires the event on it.
The machine's answer depends only on (screen, trigger, audience) and the content never changes while
the bot runs, so each answer is kept in a table that the content bounds, not the number of users.
"""

from __future__ import annotations

from typing import Any

from transitions import Machine

from bot.engine.model import Content, Node

__all__ = ["AUDIENCE_HELP", "AUDIENCE_MENUS", "AUDIENCE_STATES", "HELP_SCREEN", "START_SCREEN", "Cursor", "FlowMachine",
           "trigger_for"]

START_SCREEN = "start.menu"
HELP_SCREEN = "help.menu"
AUDIENCE_MENUS = {"t": "teen.menu", "p": "parent.menu", "s": "school.menu"}
# "Talk to a person" leads an audience with its own help screen there (written for parents), else to help.menu.
AUDIENCE_HELP = {"p": "parent.help"}
STAY, PERSON, HOME = "@", "@person", "@home"
# The audiences a button id may carry (upper case: inside a crisis reply chain).
AUDIENCE_STATES = frozenset("tpsxTPSX")


class Cursor:
    """The lightest model transitions accepts: one attribute, created per event, never stored."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def trigger_for(source: Node, target: str) -> str:
    """A button's trigger: the target's node name within a flow, its full key across flows."""
    flow, _, name = target.partition(".")
    return name if flow == source.flow else target


class FlowMachine:
    """The compiled flows: which triggers exist from which screen, and where they lead."""

    def __init__(self, content: Content) -> None:
        self.screens = frozenset(content.nodes)
        self._answers: dict[tuple[str, str, str], str | None] = {}
        self.machine = Machine(
            model=None, states=sorted(self.screens), initial=None,
            auto_transitions=False, send_event=True, ignore_invalid_triggers=False,
        )
        for node in content.nodes.values():
            for button in node.buttons:
                if button.to is not None and button.to in self.screens:
                    self.machine.add_transition(trigger_for(node, button.to), node.key, button.to)
        if not self.screens:
            return
        self.machine.add_transition(STAY, "*", "=")
        for code, help_screen in AUDIENCE_HELP.items():
            if help_screen in self.screens and HELP_SCREEN in self.screens:
                # From that help screen itself, the person button opens the whole directory.
                sources: list[Any] = sorted(self.screens - {help_screen})
                self.machine.add_transition(PERSON, sources, help_screen, conditions=[_audience_is(code)])
        if HELP_SCREEN in self.screens:
            self.machine.add_transition(PERSON, "*", HELP_SCREEN)
        if START_SCREEN in self.screens:
            # "Main menu" on an audience's own menu goes back to "who is here?", to change audience.
            for menu in AUDIENCE_MENUS.values():
                if menu in self.screens:
                    self.machine.add_transition(HOME, menu, START_SCREEN)
        for code, menu in AUDIENCE_MENUS.items():
            if menu in self.screens:
                self.machine.add_transition(HOME, "*", menu, conditions=[_audience_is(code)])
        if START_SCREEN in self.screens:
            self.machine.add_transition(HOME, "*", START_SCREEN)

    def can_fire(self, screen: str, trigger: str) -> bool:
        event = self.machine.events.get(trigger)
        return screen in self.screens and event is not None and screen in event.transitions

    def fire(self, screen: str, trigger: str, audience: str) -> str | None:
        """The screen a press leads to, or None if this screen has no such button."""
        key = (screen, trigger, audience)
        try:
            return self._answers[key]
        except KeyError:
            pass
        target = self.trigger(screen, trigger, audience)
        if audience in AUDIENCE_STATES and self.can_fire(screen, trigger):
            self._answers[key] = target  # forged screens, triggers or audiences are never kept
        return target

    def trigger(self, screen: str, trigger: str, audience: str) -> str | None:
        """Fire the event through transitions on a throwaway model: what ``fire`` asks once per key."""
        if not self.can_fire(screen, trigger):
            return None
        cursor = Cursor(screen)
        if not self.machine.events[trigger].trigger(cursor, audience=audience):
            return None
        return cursor.state


def _audience_is(code: str) -> Any:
    def condition(event_data: Any) -> bool:
        return bool(str(event_data.kwargs.get("audience", "")).lower() == code)

    condition.__name__ = f"audience_is_{code}"
    return condition
