"""Phrasings the rules were never tuned on: their first-run figures are a floor, not a target."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.safety.embedder import unavailable_reason
from bot.safety.evaluate import LANGS, Case, Report, evaluate, load_cases

UNSEEN = Path(__file__).resolve().parent / "data" / "unseen"
# Measured once, before any tuning on this file (see its header).
FIRST_RUN_RECALL = {"emergency": 0.75, "suicide": 0.70, "abuse_home": 0.75, "sexual_assault": 0.75,
                    "sexual_images": 0.90, "paid_dating": 0.85, "grooming": 0.85}
FIRST_RUN_FALSE_EMERGENCY = 2 / 70

# blind10 (issue 18), every locale, written by a helper who read nothing of the project; its third run, at e13cda7
# after round 3b was tuned on other data only (see its header for all three runs).
# These floors hold where the exemplar layer runs; without it (no AVX2) the rules alone are held to what they gave
# on blind10 at the same commit: every crisis 211/352, 2/232 false emergencies.
BLIND10_RECALL = {"emergency": 70 / 75, "suicide": 44 / 55, "abuse_home": 35 / 44, "sexual_assault": 40 / 45,
                  "sexual_images": 43 / 45, "paid_dating": 35 / 44, "grooming": 36 / 44}
BLIND10_LOCALE_RECALL = {"ja": 36 / 40, "ja_Easy": 29 / 39, "en": 33 / 39, "zh_Hans": 34 / 40, "ko": 34 / 38,
                         "vi": 38 / 39, "pt_BR": 33 / 38, "fil": 34 / 39, "ne": 32 / 40}
BLIND10_FALSE_EMERGENCY = 11 / 232
BLIND10_TOPIC_ACCURACY = 202 / 232
BLIND10_RULES_ONLY_RECALL = 211 / 352
BLIND10_RULES_ONLY_FALSE_EMERGENCY = 2 / 232
EXEMPLARS_OFF = unavailable_reason()


@pytest.fixture(scope="module")
def blind10() -> Report:
    return evaluate(load_cases(UNSEEN / "safety_blind10.yaml", split="all"))


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(UNSEEN / "safety_blind8.yaml", split="all")


@pytest.mark.parametrize(("category", "floor"), sorted(FIRST_RUN_RECALL.items()))
def test_recall_on_unseen_phrasings_does_not_fall(cases: list[Case], category: str, floor: float) -> None:
    assert evaluate(cases).recall(category) >= floor - 1e-9


def test_unseen_benign_phrases_raise_no_more_emergencies(cases: list[Case]) -> None:
    assert evaluate(cases).false_emergency_rate() <= FIRST_RUN_FALSE_EMERGENCY + 1e-9




needs_exemplars = pytest.mark.skipif(EXEMPLARS_OFF is not None, reason=f"exemplar layer off: {EXEMPLARS_OFF}")


@needs_exemplars
@pytest.mark.parametrize(("category", "floor"), sorted(BLIND10_RECALL.items()))
def test_blind10_recall_per_category_does_not_fall(blind10: Report, category: str, floor: float) -> None:
    assert blind10.recall(category) >= floor - 1e-9


@needs_exemplars
@pytest.mark.parametrize(("lang", "floor"), sorted(BLIND10_LOCALE_RECALL.items()))
def test_blind10_recall_per_locale_does_not_fall(blind10: Report, lang: str, floor: float) -> None:
    assert blind10.recall(None, lang) >= floor - 1e-9


@needs_exemplars
def test_blind10_false_alarms_and_topics_do_not_get_worse(blind10: Report) -> None:
    assert blind10.false_emergency_rate() <= BLIND10_FALSE_EMERGENCY + 1e-9
    assert blind10.topic_accuracy() >= BLIND10_TOPIC_ACCURACY - 1e-9


def test_blind10_covers_every_locale(blind10: Report) -> None:
    assert set(blind10.langs()) == set(LANGS)


@pytest.mark.skipif(EXEMPLARS_OFF is None, reason="the exemplar layer runs here (its floors apply)")
def test_blind10_without_the_exemplar_layer_the_rules_hold_their_own_floor(blind10: Report) -> None:
    assert blind10.recall(None) >= BLIND10_RULES_ONLY_RECALL - 1e-9
    assert blind10.false_emergency_rate() <= BLIND10_RULES_ONLY_FALSE_EMERGENCY + 1e-9
