"""The evaluation thresholds of issue 7 on every labelled set in tests/data/."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.safety.categories import CATEGORIES
from bot.safety.evaluate import (
    DEFAULT_PATH,
    SPLITS,
    Report,
    evaluate,
    format_report,
    load_cases,
    split_names,
)

DATA = Path(__file__).resolve().parent / "data"
SETS = sorted(p.name for p in DATA.glob("safety_*.yaml"))

RECALL = 0.95  # per crisis category
FALSE_EMERGENCY = 0.03  # benign phrases answered as an emergency
TOPIC_ACCURACY = 0.85  # benign phrases routed to the expected topic


@pytest.fixture(scope="module", params=SETS)
def report(request: pytest.FixtureRequest) -> Report:
    return evaluate(load_cases(DATA / request.param, split="all"))


def test_both_sets_are_there() -> None:
    assert {"safety_eval.yaml", "safety_blind2.yaml", "safety_blind3.yaml", "safety_blind4.yaml"} <= set(SETS)
    assert split_names(DEFAULT_PATH) == SPLITS
    assert split_names(DATA / "safety_blind2.yaml") == ("blind2",)
    assert split_names(DATA / "safety_blind3.yaml") == ("blind3",)
    assert split_names(DATA / "safety_blind4.yaml") == ("blind4",)


@pytest.mark.parametrize("name", SETS)
def test_the_set_is_big_enough(name: str) -> None:
    cases = load_cases(DATA / name, split="all")
    assert len(cases) >= 200
    assert sum(c.category is None for c in cases) >= 60
    for cat in CATEGORIES:
        for lang in ("ja", "en"):
            assert sum(c.category == cat and c.lang == lang for c in cases) >= 7, (cat, lang)
    assert {c.split for c in cases} == set(split_names(DATA / name))


def test_no_phrase_is_in_two_sets() -> None:
    texts = [c.text for name in SETS for c in load_cases(DATA / name, split="all")]
    assert len(set(texts)) == len(texts), "duplicate phrases"


@pytest.mark.parametrize("category", CATEGORIES)
def test_crisis_recall(report: Report, category: str) -> None:
    assert report.recall(category) >= RECALL, format_report(report, failures=True)


@pytest.mark.parametrize("lang", [None, "ja", "en"])
def test_benign_false_emergency(report: Report, lang: str | None) -> None:
    assert report.false_emergency_rate(lang) <= FALSE_EMERGENCY, format_report(report, failures=True)


@pytest.mark.parametrize("lang", [None, "ja", "en"])
def test_benign_topic_accuracy(report: Report, lang: str | None) -> None:
    assert report.topic_accuracy(lang) >= TOPIC_ACCURACY, format_report(report, failures=True)


def test_dev_split_alone_meets_the_thresholds() -> None:
    dev = evaluate(load_cases(split="dev"))
    assert all(dev.recall(cat) >= RECALL for cat in CATEGORIES)
    assert dev.false_emergency_rate() <= FALSE_EMERGENCY
    assert dev.topic_accuracy() >= TOPIC_ACCURACY


def test_main_prints_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.safety.evaluate import main

    assert main(["--split", "dev"]) == 0
    out = capsys.readouterr().out
    assert "benign false emergency" in out and "confusion" in out


def test_main_takes_any_split_in_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    from bot.safety.evaluate import main

    assert main([str(DATA / "safety_blind2.yaml"), "--split", "blind2"]) == 0
    assert "== blind2: 280 phrases" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main([str(DATA / "safety_blind2.yaml"), "--split", "dev"])
    with pytest.raises(ValueError):
        load_cases(DATA / "safety_blind2.yaml", split="nope")
