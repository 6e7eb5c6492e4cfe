"""`assess(text)`: the crisis category, the screen to show, and what decided it.

Two layers. The rules (rules.yaml) are exact and explainable and are tried first; when no rule fires, the
message is compared with exemplars written in every locale (exemplars.py) and the nearest label decides,
if it is sure enough. When the exemplar layer cannot run here, the rules answer alone.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from bot.safety.categories import CATEGORIES, CATEGORY_TOPIC, EMERGENCY_CATEGORIES
from bot.safety.lexicon import normalise
from bot.safety.rules import RULES
from bot.safety.text import LIMIT

__all__ = ["Assessment", "assess"]


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the safety layer decided about one free-text message.

    category: None (benign) or a crisis category; topic: the screen key to show, or None for the engine's
    generic free-text screen; emergency: danger now or self-harm; rule: what decided it, a rule id
    ("suicide.want_to_die"), "exemplar:<label>/<locale>" or "" if nothing did; exemplar and score: the
    nearest exemplar (our own example text, never the user's) and its cosine score, when that layer ran.
    """

    category: str | None
    topic: str | None
    emergency: bool
    rule: str
    exemplar: str = ""
    score: float = 0.0


NOTHING = Assessment(category=None, topic=None, emergency=False, rule="")
# If classification itself ever failed, offer a person rather than nothing.
FAILSAFE = Assessment(category=None, topic="help.talk", emergency=False, rule="safety.failsafe")


def _by_exemplar(text: str, topic_rule: str | None) -> Assessment | None:
    from bot.safety.exemplars import EXEMPLARS  # numpy and the model load on the first message, not at import

    near = EXEMPLARS.nearest(unicodedata.normalize("NFKC", text[:LIMIT]))
    if near is None:
        return None
    label = EXEMPLARS.decide(near)
    fired = f"exemplar:{near.exemplar.ref}"
    score = round(near.score, 4)
    if label in CATEGORIES:
        topic = CATEGORY_TOPIC[label]
        return Assessment(label, topic, label in EMERGENCY_CATEGORIES, fired, near.exemplar.text, score)
    if topic_rule is not None:
        return None
    if label is not None:
        return Assessment(None, label, False, fired, near.exemplar.text, score)
    return Assessment(None, None, False, "", near.exemplar.text, score)


def assess(text: str) -> Assessment:
    """Classify one message. Never raises; the text is neither stored nor logged."""
    try:
        if not isinstance(text, str) or not text:
            return NOTHING
        norm = normalise(text)
        if not norm:
            return NOTHING
        rule = RULES.first(norm)
        if rule is not None and rule.category is not None:
            return Assessment(rule.category, rule.topic, rule.category in EMERGENCY_CATEGORIES, rule.id)
        if rule is None:
            by_exemplar = _by_exemplar(text, None)
            if by_exemplar is not None:
                return by_exemplar
            return NOTHING
        return Assessment(None, rule.topic, False, rule.id)
    except Exception:
        return FAILSAFE
