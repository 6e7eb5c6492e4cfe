"""`assess(text)`: the crisis category, the screen to show, and what decided it.

Two layers. The rules (rules.yaml) are exact and explainable and are tried first; when no rule fires, the
message is compared with exemplars written in every locale (exemplars.py) and the nearest label decides,
if it is sure enough. When the exemplar layer cannot run here, the rules answer alone.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from bot.safety.categories import CATEGORIES, CATEGORY_TOPIC, EMERGENCY_CATEGORIES, SCREEN_CATEGORY
from bot.safety.language import rules_language
from bot.safety.lexicon import normalise
from bot.safety.romaji import to_hiragana
from bot.safety.rules import RULES, Rule
from bot.safety.text import LIMIT

__all__ = ["Assessment", "assess"]


@dataclass(frozen=True, slots=True)
class Assessment:
    """What the safety layer decided about one free-text message.

    category: None (benign) or a crisis category; topic: the screen key to show, or None for the engine's
    generic free-text screen; emergency: danger now or self-harm; rule: what decided it, a rule id
    ("suicide.want_to_die"), "exemplars:<label>" or "" if nothing did; when the exemplar layer ran, exemplar
    is the nearest exemplar of the label it read (our own example text, never the user's, with its locale and
    cosine score) and score the probability it gave that label.
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


def _by_exemplars(text: str) -> Assessment | None:
    """The exemplar layer's reading, or None when it cannot run here."""
    from bot.safety.exemplars import EXEMPLARS  # numpy and the model load on the first message, not at import

    folded = unicodedata.normalize("NFKC", text[:LIMIT])
    reading = EXEMPLARS.read(folded, rules_language(folded))
    if reading is None:
        return None
    near = f"{reading.nearest.text} [{reading.nearest.locale} {reading.similarity:.2f}]"
    score = round(reading.probability, 4)
    label = reading.label
    if label is None:
        return Assessment(None, None, False, "", near, score)
    if label in CATEGORIES:
        return Assessment(label, CATEGORY_TOPIC[label], label in EMERGENCY_CATEGORIES, f"exemplars:{label}", near,
                          score)
    if label in SCREEN_CATEGORY:  # a sharper screen of a crisis (an overdose now: 119 first)
        category = SCREEN_CATEGORY[label]
        return Assessment(category, label, category in EMERGENCY_CATEGORIES, f"exemplars:{label}", near, score)
    return Assessment(None, label, False, f"exemplars:{label}", near, score)


def _romaji(found: tuple[Rule | None, Rule | None]) -> tuple[Rule | None, Rule | None]:
    """A rule that fired on the romaji message read as hiragana, named as such in what decided it."""
    rule, frame = found
    if rule is None:
        return None, frame
    return replace(rule, id=f"{rule.id}@romaji"), frame


def assess(text: str) -> Assessment:
    """Classify one message. Never raises; the text is neither stored nor logged."""
    try:
        if not isinstance(text, str) or not text:
            return NOTHING
        norm = normalise(text)
        if not norm:
            return NOTHING
        rule, frame = RULES.match(norm)
        if rule is None and (kana := to_hiragana(text)) is not None:
            rule, frame = _romaji(RULES.match(normalise(kana)))
        if rule is not None and rule.category is not None:
            return Assessment(rule.category, rule.topic, rule.category in EMERGENCY_CATEGORIES, rule.id)
        if rule is not None:
            return Assessment(None, rule.topic, False, rule.id)
        read = _by_exemplars(text) or NOTHING
        if frame is not None and read.category is not None:  # a story or homework: a topic at most
            return Assessment(None, None, False, frame.id, read.exemplar, read.score)
        return read
    except Exception:
        return FAILSAFE
