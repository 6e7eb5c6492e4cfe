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
# project; figures rounded down, all measured at 5b46f4b (round 5c). blind10: its seventh run; blind11: its fourth;
# blind12: its third; blind13: its second; blind14: its first (the honest estimate). Later runs were lower in some
# cells by one phrase (blind10 pt_BR 89.5% -> 86.8%; blind11 right topic 82.7% -> 82.2%; blind12 right topic 81.2%
# -> 80.7%): the floors are the runs as measured, recorded in each header. These floors hold where the exemplar
# layer runs; without it (no AVX2) the rules alone are held to what they gave at the same commit.
SPLITS: dict[str, dict[str, Any]] = {
    "safety_blind10.yaml": {
        "recall": {"emergency": 0.92, "suicide": 0.8727, "abuse_home": 0.8636, "sexual_assault": 0.8888,
                   "sexual_images": 0.9555, "paid_dating": 0.8409, "grooming": 0.8636},
        "locale": {"ja": 0.9499, "ja_Easy": 0.7435, "en": 0.8717, "zh_Hans": 0.9749, "ko": 0.9473, "vi": 0.9743,
                   "pt_BR": 0.8684, "fil": 0.8461, "ne": 0.8249},
        "false_emergency": 0.0432, "topic": 0.8491, "rules_only": (0.625, 0.0087),
    },
    "safety_blind11.yaml": {
        "recall": {"emergency": 0.8604, "suicide": 0.6666, "abuse_home": 0.7555, "sexual_assault": 0.7555,
                   "sexual_images": 0.8636, "paid_dating": 0.8222, "grooming": 0.6666},
        "locale": {"ja": 0.875, "ja_Easy": 0.8, "en": 0.878, "zh_Hans": 0.7804, "ko": 0.775, "vi": 0.7142,
                   "pt_BR": 0.7142, "fil": 0.7857, "ne": 0.6666},
        "false_emergency": 0.0267, "topic": 0.8222, "rules_only": (0.5783, 0.0134),
    },
    "safety_blind12.yaml": {
        "recall": {"emergency": 0.8846, "suicide": 0.7962, "abuse_home": 0.7777, "sexual_assault": 0.6744,
                   "sexual_images": 0.8222, "paid_dating": 0.8444, "grooming": 0.6744},
        "locale": {"ja": 0.8684, "ja_Easy": 0.7297, "en": 0.7948, "zh_Hans": 0.8249, "ko": 0.7631, "vi": 0.7073,
                   "pt_BR": 0.875, "fil": 0.8974, "ne": 0.6829},
        "false_emergency": 0.0404, "topic": 0.8071, "rules_only": (0.5155, 0.018),
    },
    "safety_blind13.yaml": {
        "recall": {"emergency": 0.8589, "suicide": 0.7678, "abuse_home": 0.7045, "sexual_assault": 0.7906,
                   "sexual_images": 0.8139, "paid_dating": 0.8837, "grooming": 0.7209},
        "locale": {"ja": 0.8536, "ja_Easy": 0.8125, "en": 0.8157, "zh_Hans": 0.923, "ko": 0.8947, "vi": 0.6585,
                   "pt_BR": 0.8292, "fil": 0.7692, "ne": 0.6341},
        "false_emergency": 0.0374, "topic": 0.8317, "rules_only": (0.5457, 0.0187),
    },
    "safety_blind14.yaml": {
        "recall": {"emergency": 0.8352, "suicide": 0.7213, "abuse_home": 0.8222, "sexual_assault": 0.6904,
                   "sexual_images": 0.8604, "paid_dating": 0.8444, "grooming": 0.7209},
        "locale": {"ja": 0.8421, "ja_Easy": 0.7692, "en": 0.8292, "zh_Hans": 0.8461, "ko": 0.7948, "vi": 0.7142,
                   "pt_BR": 0.8095, "fil": 0.8571, "ne": 0.6428},
        "false_emergency": 0.0417, "topic": 0.824, "rules_only": (0.5603, 0.0278),
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
