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

# blind9 (issue 18), every locale, first run at fe8f6e6 with the exemplar layer (see its header). These floors hold
# where the exemplar layer runs; without it (no AVX2) the rules alone are held to what they gave on blind9 at the
# same commit (bot.safety.rules_only()): every crisis 195/241, 0.9% false emergency.
BLIND9_RECALL = {"emergency": 52 / 58, "suicide": 33 / 38, "abuse_home": 27 / 29, "sexual_assault": 26 / 29,
                 "sexual_images": 29 / 29, "paid_dating": 28 / 29, "grooming": 27 / 29}
BLIND9_LOCALE_RECALL = {"ja": 26 / 33, "ja_Easy": 21 / 25, "en": 30 / 33, "zh_Hans": 24 / 25, "ko": 24 / 25,
                        "vi": 25 / 25, "pt_BR": 24 / 25, "fil": 24 / 25, "ne": 24 / 25}
BLIND9_FALSE_EMERGENCY = 1 / 116
BLIND9_TOPIC_ACCURACY = 110 / 116
BLIND9_RULES_ONLY_RECALL = 195 / 241
EXEMPLARS_OFF = unavailable_reason()


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(UNSEEN / "safety_blind8.yaml", split="all")


@pytest.fixture(scope="module")
def blind9() -> Report:
    return evaluate(load_cases(UNSEEN / "safety_blind9.yaml", split="all"))


@pytest.mark.parametrize(("category", "floor"), sorted(FIRST_RUN_RECALL.items()))
def test_recall_on_unseen_phrasings_does_not_fall(cases: list[Case], category: str, floor: float) -> None:
    assert evaluate(cases).recall(category) >= floor - 1e-9


def test_unseen_benign_phrases_raise_no_more_emergencies(cases: list[Case]) -> None:
    assert evaluate(cases).false_emergency_rate() <= FIRST_RUN_FALSE_EMERGENCY + 1e-9


needs_exemplars = pytest.mark.skipif(EXEMPLARS_OFF is not None, reason=f"exemplar layer off: {EXEMPLARS_OFF}")


@needs_exemplars
@pytest.mark.parametrize(("category", "floor"), sorted(BLIND9_RECALL.items()))
def test_blind9_recall_per_category_does_not_fall(blind9: Report, category: str, floor: float) -> None:
    assert blind9.recall(category) >= floor - 1e-9


@needs_exemplars
@pytest.mark.parametrize(("lang", "floor"), sorted(BLIND9_LOCALE_RECALL.items()))
def test_blind9_recall_per_locale_does_not_fall(blind9: Report, lang: str, floor: float) -> None:
    assert blind9.recall(None, lang) >= floor - 1e-9


@needs_exemplars
def test_blind9_false_alarms_and_topics_do_not_get_worse(blind9: Report) -> None:
    assert blind9.false_emergency_rate() <= BLIND9_FALSE_EMERGENCY + 1e-9
    assert blind9.topic_accuracy() >= BLIND9_TOPIC_ACCURACY - 1e-9


def test_blind9_covers_every_locale(blind9: Report) -> None:
    assert set(blind9.langs()) == set(LANGS)


@pytest.mark.skipif(EXEMPLARS_OFF is None, reason="the exemplar layer runs here (its floors apply)")
def test_blind9_without_the_exemplar_layer_the_rules_hold_their_own_floor(blind9: Report) -> None:
    assert blind9.recall(None) >= BLIND9_RULES_ONLY_RECALL - 1e-9
    assert blind9.false_emergency_rate() <= BLIND9_FALSE_EMERGENCY + 1e-9
