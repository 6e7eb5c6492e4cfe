"""Load `rules.yaml` into compiled, ordered rules over one term index."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.safety.categories import ALL_TOPICS, CATEGORIES, CATEGORY_TOPIC, SCREEN_CATEGORY
from bot.safety.lexicon import LEXICON, Lexicon, load_yaml
from bot.safety.matcher import TermIndex

__all__ = ["RULES", "Guard", "Rule", "RuleSet"]

_SLOT = re.compile(r"\{([a-z_0-9]+)\}")
_MAX_TEMPLATE = 5000
_NEVER_SKIPPED = ("emergency", "suicide")


@dataclass(frozen=True, slots=True)
class Rule:
    """One explainable rule: every group must be present, no `unless` term, and
    not every group of `calm` (a hyperbole: a laugh *and* a trivial cause)."""

    id: str
    category: str | None
    topic: str | None
    order: int
    groups: tuple[frozenset[int], ...]
    unless: frozenset[int]
    whole: frozenset[str]
    calm: tuple[frozenset[int], ...] = ()

    def fires(self, found: set[int], normalised: str) -> bool:
        if self.whole and normalised not in self.whole:
            return False
        if not self.unless.isdisjoint(found):
            return False
        if self.calm and all(not group.isdisjoint(found) for group in self.calm):
            return False
        return all(not group.isdisjoint(found) for group in self.groups)


@dataclass(frozen=True, slots=True)
class Guard:
    """Who is writing, not what happened: when it fires, rules of `skip` do not.

    A parent ("my daughter ...") or a teacher ("one of my students ...")
    describing a child's situation, or a teenager worried about a friend, is
    answered by the topic screens for them; the crisis screens are written to
    the child in it. Emergency and suicide are never skipped.
    """

    id: str
    skip: frozenset[str]
    rule: Rule


class RuleSet:
    """All rules, indexed by the terms of their first group."""

    def __init__(self, data: dict[str, Any], lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self.terms = TermIndex()
        self._normalised: dict[str, str] = {}
        self._named: dict[str, list[str]] = {
            str(k): [str(t) for t in v] for k, v in (data.get("groups") or {}).items()
        }
        crisis = sorted(
            enumerate(data.get("crisis") or []),
            key=lambda item: (CATEGORIES.index(item[1]["category"]), item[0]),
        )
        raw = [spec for _, spec in crisis] + list(data.get("topics") or [])
        self.rules: list[Rule] = [self._rule(spec, order) for order, spec in enumerate(raw)]
        self.guards: list[Guard] = [self._guard(spec) for spec in data.get("guards") or []]
        # Frames: fiction, homework, the news. When one fires, no crisis rule does (and no crisis is read from
        # the exemplars): "a story where the girl gets kidnapped" is not danger now.
        self.frames: list[Rule] = [
            self._rule({**spec, "topic": next(iter(ALL_TOPICS))}, -1) for spec in data.get("frames") or []]
        ids = [r.id for r in self.rules] + [g.id for g in self.guards] + [f.id for f in self.frames]
        if len(set(ids)) != len(ids):
            raise ValueError("rules: duplicate rule id")
        self.terms.compile()
        self._by_term: dict[int, list[Rule]] = {}
        self._whole: dict[str, list[Rule]] = {}
        for rule in self.rules:
            if rule.whole:
                for phrase in rule.whole:
                    self._whole.setdefault(phrase, []).append(rule)
            else:
                for term_id in rule.groups[0]:
                    self._by_term.setdefault(term_id, []).append(rule)

    def _expand(self, items: Iterable[Any]) -> list[str]:
        out: list[str] = []
        for item in items:
            text = str(item)
            if text.startswith("@"):
                out.extend(self._expand(self._named[text[1:]]))
            elif "{" in text:
                out.extend(self._template(text))
            else:
                out.append(text)
        return out

    def _template(self, text: str) -> list[str]:
        """"{die}{want}": every concatenation of a term of `die` and one of `want`."""
        parts = _SLOT.split(text)  # literal, name, literal, name, ..., literal
        combos = [""]
        for i, part in enumerate(parts):
            options = self._expand(self._named[part]) if i % 2 else [part]
            combos = [c + o for c in combos for o in options]
            if len(combos) > _MAX_TEMPLATE:
                raise ValueError(f"rules: template {text!r} expands to too many terms")
        return combos

    def _term_ids(self, items: Iterable[Any]) -> frozenset[int]:
        ids = set()
        for text in self._expand(items):
            prefix = "*" if text.endswith("*") else ""
            norm = self._normalised.get(text)
            if norm is None:  # templates repeat terms: normalise each spelling once
                norm = self._normalised[text] = self.lexicon.normalise(text.rstrip("*"))
            if not norm:
                raise ValueError(f"rules: term {text!r} normalises to nothing")
            ids.add(self.terms.add(norm + prefix))
        return frozenset(ids)

    def _rule(self, spec: dict[str, Any], order: int) -> Rule:
        category = spec.get("category")
        if category is not None and category not in CATEGORIES:
            raise ValueError(f"rules: {spec['id']}: unknown category {category!r}")
        topic = spec.get("topic") or (CATEGORY_TOPIC[category] if category else None)
        if topic not in ALL_TOPICS:
            raise ValueError(f"rules: {spec['id']}: unknown topic {topic!r}")
        if category is not None and topic not in (CATEGORY_TOPIC[category], None) and (
                SCREEN_CATEGORY.get(topic) != category):
            raise ValueError(f"rules: {spec['id']}: {topic!r} is not a screen of {category!r}")
        groups = [spec["any"]] if "any" in spec else list(spec.get("all") or [])
        whole = frozenset(self.lexicon.normalise(str(p)) for p in spec.get("whole") or [])
        if not groups and not whole:
            raise ValueError(f"rules: {spec['id']}: no terms")
        return Rule(
            id=str(spec["id"]),
            category=category,
            topic=topic,
            order=order,
            groups=tuple(self._term_ids(g) for g in groups),
            unless=self._term_ids(spec.get("unless") or []),
            whole=whole,
            calm=tuple(self._term_ids(g) for g in spec.get("calm") or []),
        )

    def _guard(self, spec: dict[str, Any]) -> Guard:
        skip = frozenset(str(c) for c in spec.get("skip") or [])
        if not skip <= set(CATEGORIES) - set(_NEVER_SKIPPED):
            raise ValueError(f"rules: {spec['id']}: cannot skip {sorted(skip)}")
        rule = self._rule({**spec, "topic": next(iter(ALL_TOPICS))}, -1)
        return Guard(id=str(spec["id"]), skip=skip, rule=rule)

    def first(self, normalised: str) -> Rule | None:
        """The highest-priority rule that fires on a normalised text, if any."""
        return self.match(normalised)[0]

    def match(self, normalised: str) -> tuple[Rule | None, Rule | None]:
        """The rule that fires (as `first`), and the frame that fired, if any (then no crisis rule fires)."""
        found = self.terms.find(self.lexicon.mask_idioms(normalised))
        frame = next((f for f in self.frames if f.fires(found, normalised)), None)
        return self._first(found, normalised, frame is not None), frame

    def _first(self, found: set[int], normalised: str, framed: bool) -> Rule | None:
        candidates: dict[int, Rule] = {}
        for term_id in found:
            for rule in self._by_term.get(term_id, ()):
                candidates[rule.order] = rule
        for rule in self._whole.get(normalised, ()):
            candidates[rule.order] = rule
        skipped: set[str] = set()
        for order in sorted(candidates):
            rule = candidates[order]
            if (framed and rule.category is not None) or rule.category in skipped or not rule.fires(found, normalised):
                continue
            if rule.category is not None and rule.category not in _NEVER_SKIPPED:
                for guard in self.guards:
                    if rule.category in guard.skip and guard.rule.fires(found, normalised):
                        skipped |= guard.skip
                if rule.category in skipped:
                    continue
            return rule
        return None


def _merged(*names: str) -> dict[str, Any]:
    """Rule files read as one: named groups shared, rule lists in file order."""
    out: dict[str, Any] = {"groups": {}, "guards": [], "frames": [], "crisis": [], "topics": []}
    for name in names:
        data = load_yaml(name) or {}
        for key in ("guards", "frames", "crisis", "topics"):
            out[key] += data.get(key) or []
        for group, terms in (data.get("groups") or {}).items():
            if group in out["groups"]:
                raise ValueError(f"rules: {name}: group {group!r} is defined twice")
            out["groups"][group] = terms
    return out


# rules.yaml: Japanese and English; rules_world.yaml: the other shipped languages, romaji and plain kana.
RULES: RuleSet = RuleSet(_merged("rules.yaml", "rules_world.yaml"), LEXICON)
