"""`assess(text)`: the crisis category, the screen to show, and the rule that fired."""

from __future__ import annotations

from dataclasses import dataclass

from bot.safety.categories import EMERGENCY_CATEGORIES
from bot.safety.lexicon import normalise
from bot.safety.rules import RULES

__all__ = ["Assessment", "assess"]


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the safety layer decided about one free-text message.

    category: None (benign) or a crisis category; topic: the screen key to show,
    or None for the engine's generic free-text screen; emergency: danger now or
    self-harm; rule: id of the rule that fired ("" if none).
    """

    category: str | None
    topic: str | None
    emergency: bool
    rule: str


NOTHING = Assessment(category=None, topic=None, emergency=False, rule="")
# If classification itself ever failed, offer a person rather than nothing.
FAILSAFE = Assessment(category=None, topic="help.talk", emergency=False, rule="safety.failsafe")


def assess(text: str) -> Assessment:
    """Classify one message. Never raises; the text is neither stored nor logged."""
    try:
        if not isinstance(text, str) or not text:
            return NOTHING
        norm = normalise(text)
        if not norm:
            return NOTHING
        rule = RULES.first(norm)
        if rule is None:
            return NOTHING
        return Assessment(
            category=rule.category,
            topic=rule.topic,
            emergency=rule.category in EMERGENCY_CATEGORIES,
            rule=rule.id,
        )
    except Exception:
        return FAILSAFE
