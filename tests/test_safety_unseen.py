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

EXEMPLARS_OFF = unavailable_reason()


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(UNSEEN / "safety_blind8.yaml", split="all")


@pytest.mark.parametrize(("category", "floor"), sorted(FIRST_RUN_RECALL.items()))
def test_recall_on_unseen_phrasings_does_not_fall(cases: list[Case], category: str, floor: float) -> None:
    assert evaluate(cases).recall(category) >= floor - 1e-9


def test_unseen_benign_phrases_raise_no_more_emergencies(cases: list[Case]) -> None:
    assert evaluate(cases).false_emergency_rate() <= FIRST_RUN_FALSE_EMERGENCY + 1e-9


