"""Phrasings the rules were never tuned on: their first-run figures are a floor, not a target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.safety.embedder import unavailable_reason
from bot.safety.evaluate import LANGS, Case, Report, evaluate, load_cases

UNSEEN = Path(__file__).resolve().parent / "data" / "unseen"
# Measured once, before any tuning on this file (see its header).
FIRST_RUN_RECALL = {"emergency": 0.75, "suicide": 0.70, "abuse_home": 0.75, "sexual_assault": 0.75,
                    "sexual_images": 0.90, "paid_dating": 0.85, "grooming": 0.85}
FIRST_RUN_FALSE_EMERGENCY = 2 / 70

# The splits of tests/data/unseen/ in every locale (issue 18), each written by helpers who read nothing of the
# project; figures rounded down. blind10: its fourth run, at the commit that added blind11 (round 4 tuned on other
# data only; see its header for all four runs). blind11: its first run, the same commit (the honest estimate).
# These floors hold where the exemplar layer runs; without it (no AVX2) the rules alone are held to what they gave
# at the same commit.
SPLITS: dict[str, dict[str, Any]] = {
    "safety_blind10.yaml": {
        "recall": {"emergency": 0.9066, "suicide": 0.8545, "abuse_home": 0.8863, "sexual_assault": 0.8888,
                   "sexual_images": 0.9555, "paid_dating": 0.8409, "grooming": 0.8409},
        "locale": {"ja": 0.925, "ja_Easy": 0.7179, "en": 0.8717, "zh_Hans": 0.975, "ko": 0.8947, "vi": 0.9743,
                   "pt_BR": 0.8947, "fil": 0.8717, "ne": 0.825},
        "false_emergency": 0.0432, "topic": 0.8491, "rules_only": (0.6051, 0.0087),
    },
    "safety_blind11.yaml": {
        "recall": {"emergency": 0.8488, "suicide": 0.6666, "abuse_home": 0.7111, "sexual_assault": 0.6888,
                   "sexual_images": 0.8181, "paid_dating": 0.7777, "grooming": 0.5333},
        "locale": {"ja": 0.875, "ja_Easy": 0.725, "en": 0.878, "zh_Hans": 0.7804, "ko": 0.75, "vi": 0.619,
                   "pt_BR": 0.6904, "fil": 0.7619, "ne": 0.5238},
        "false_emergency": 0.0356, "topic": 0.8133, "rules_only": (0.5081, 0.0134),
    },
}
EXEMPLARS_OFF = unavailable_reason()


@pytest.fixture(scope="module", params=sorted(SPLITS))
def split(request: pytest.FixtureRequest) -> tuple[str, Report]:
    return request.param, evaluate(load_cases(UNSEEN / request.param, split="all"))


@pytest.fixture(scope="module")
def cases() -> list[Case]:
    return load_cases(UNSEEN / "safety_blind8.yaml", split="all")


@pytest.mark.parametrize(("category", "floor"), sorted(FIRST_RUN_RECALL.items()))
def test_recall_on_unseen_phrasings_does_not_fall(cases: list[Case], category: str, floor: float) -> None:
    assert evaluate(cases).recall(category) >= floor - 1e-9


def test_unseen_benign_phrases_raise_no_more_emergencies(cases: list[Case]) -> None:
    assert evaluate(cases).false_emergency_rate() <= FIRST_RUN_FALSE_EMERGENCY + 1e-9




needs_exemplars = pytest.mark.skipif(EXEMPLARS_OFF is not None, reason=f"exemplar layer off: {EXEMPLARS_OFF}")


def test_every_unseen_split_has_floors() -> None:
    assert sorted(p.name for p in UNSEEN.glob("safety_blind1*.yaml")) == sorted(SPLITS)


@needs_exemplars
def test_recall_per_category_and_locale_does_not_fall(split: tuple[str, Report]) -> None:
    name, report = split
    floors = SPLITS[name]
    low = {c: report.recall(c) for c, floor in floors["recall"].items() if report.recall(c) < floor}
    low |= {x: report.recall(None, x) for x, floor in floors["locale"].items() if report.recall(None, x) < floor}
    assert not low, f"{name}: below its floor: {low}"


@needs_exemplars
def test_false_alarms_and_topics_do_not_get_worse(split: tuple[str, Report]) -> None:
    name, report = split
    assert report.false_emergency_rate() <= SPLITS[name]["false_emergency"], name
    assert report.topic_accuracy() >= SPLITS[name]["topic"], name


def test_every_split_covers_every_locale(split: tuple[str, Report]) -> None:
    assert set(split[1].langs()) == set(LANGS)


@pytest.mark.skipif(EXEMPLARS_OFF is None, reason="the exemplar layer runs here (its floors apply)")
def test_without_the_exemplar_layer_the_rules_hold_their_own_floor(split: tuple[str, Report]) -> None:
    name, report = split
    recall, false_emergency = SPLITS[name]["rules_only"]
    assert report.recall(None) >= recall
    assert report.false_emergency_rate() <= false_emergency
