"""The threshold tool (bot/safety/crossval.py): pooled figures add up, and a fold leaves the live layer as it was."""

from __future__ import annotations

from bot.safety.crossval import _merge, _readout
from bot.safety.evaluate import Case, evaluate
from bot.safety.exemplars import EXEMPLARS, Thresholds


def test_pooled_figures_are_the_sum_of_the_folds() -> None:
    a = evaluate([Case("死にたい", "ja", "suicide", "help.suicide", "x"), Case("hi", "en", None, None, "x")])
    b = evaluate([Case("助けて", "ja", "emergency", "help.now", "y")])
    pooled = _merge([a, b])
    assert sum(pooled.recall_total.values()) == 2
    assert sum(pooled.benign_total.values()) == 1
    assert pooled.recall(None) == (a.recall(None) + b.recall(None)) / 2


def test_a_fold_restores_the_live_read_out() -> None:
    before = (EXEMPLARS._arrays, EXEMPLARS.thresholds)
    with _readout("weight", "bias", Thresholds(0.1, 0.2, 0.3, 0.4, 0.5, 0.6)):
        assert EXEMPLARS._arrays["weight"] == "weight"
        assert EXEMPLARS.thresholds.emergency == 0.1
    assert (EXEMPLARS._arrays, EXEMPLARS.thresholds) == before
