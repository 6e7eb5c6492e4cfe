"""Choose the read-out's thresholds on held-out tuned files, never on an unseen one.

    python -m bot.safety.crossval [--hold FILE ...] [--sweep]

Each held-out file (by default every tuned file, tests/data/safety_*.yaml) is left out in turn: the read-out is
trained on the exemplars and the other tuned files, and the whole safety layer (rules first, then the read-out
with the thresholds of exemplars.yaml, or each of a grid with --sweep) answers the held-out phrases. The figures
pooled over the held-out files are what a threshold is chosen on. Every message is embedded once (about two
minutes); each fold then trains in a few seconds. A development tool: nothing here runs in the bot.
"""

from __future__ import annotations

import argparse
import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from bot.safety.evaluate import Case, Report, evaluate, format_report, load_cases
from bot.safety.exemplars import EXEMPLARS, ROOT, Thresholds, training_files, training_rows
from bot.safety.probe import train

__all__ = ["main"]

GRID = {"emergency": (0.35, 0.5, 0.65), "crisis": (0.5, 0.6, 0.7), "nearest": (0.94, 1.01),
        "crisis_rules_language": (0.6, 0.75, 0.9, 1.01)}


@contextmanager
def _readout(weight: Any, bias: Any, thresholds: Thresholds) -> Iterator[None]:
    """The exemplar layer with another read-out and thresholds, for the duration of a fold."""
    arrays, before = EXEMPLARS._arrays, EXEMPLARS.thresholds
    EXEMPLARS._arrays = {**arrays, "weight": weight, "bias": bias}
    EXEMPLARS.thresholds = thresholds
    try:
        yield
    finally:
        EXEMPLARS._arrays, EXEMPLARS.thresholds = arrays, before


def _embed_once(texts: list[str]) -> dict[str, Any]:
    """Every text's vector (texts as they are embedded: ``training_rows``), computed once and then served to the
    exemplar layer from memory."""
    import numpy as np

    embedder = EXEMPLARS._embedder
    assert embedder is not None
    unique = sorted(set(texts))
    cache = dict(zip(unique, np.asarray(embedder.embed_many(unique), dtype=np.float32), strict=True))
    EXEMPLARS.vector = lambda text: cache[text] if text in cache else embedder.embed(text)  # type: ignore[method-assign]
    return cache


def _fold(held: list[Case], files: list[Path], cache: dict[str, Any]) -> tuple[Any, Any]:
    """The read-out trained without the held-out phrases (nor their other spellings)."""
    import numpy as np

    out = {c.text for c in held}
    cases = [c for path in files for c in load_cases(path) if c.text not in out]
    rows = training_rows(EXEMPLARS.items, cases)
    labels = EXEMPLARS.labels
    return train(np.stack([cache[text] for text, _ in rows]), [labels.index(label) for _, label in rows], len(labels))


def _merge(reports: list[Report]) -> Report:
    total = Report()
    for r in reports:
        for name in ("recall_hits", "recall_total", "benign_total", "false_emergency", "false_crisis", "topic_right",
                     "confusion"):
            getattr(total, name).update(getattr(r, name))
        total.failures.extend(r.failures)
    return total


def _summary(r: Report) -> str:
    langs = " ".join(f"{lang} {r.recall(None, lang):.0%}" for lang in r.langs())
    return (f"every crisis {r.recall(None):.1%}, danger now {r.recall('emergency'):.1%}, "
            f"false urgent {r.false_emergency_rate():.1%}, false crisis {r.false_crisis_rate():.1%}, "
            f"topic {r.topic_accuracy():.1%} | {langs}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.safety.crossval", description=__doc__.split("\n")[0])
    parser.add_argument("--hold", nargs="*", type=Path, help="tuned files to hold out in turn (default: all)")
    parser.add_argument("--sweep", action="store_true", help="try a grid of thresholds")
    parser.add_argument("--halves", action="store_true",
                        help="hold out each file's even phrases, then its odd ones (the rest of it is trained on)")
    args = parser.parse_args(argv)
    if not EXEMPLARS.ready():
        print("the exemplar layer cannot run here")
        return 1
    files = training_files()
    held = [p.resolve() for p in args.hold] if args.hold else files
    cases: dict[Path, list[Case]] = {p: load_cases(p) for p in files}
    every = [c for cs in cases.values() for c in cs]
    cache = _embed_once([text for text, _ in training_rows(EXEMPLARS.items, every)])
    parts = {(p, h): cases[p][h::2] for p in held for h in (0, 1)} if args.halves else {(p, 0): cases[p] for p in held}
    folds = {key: _fold(part, files, cache) for key, part in parts.items()}
    base = EXEMPLARS.thresholds
    grid = [base]
    if args.sweep:
        grid += [replace(base, emergency=e, crisis=c, nearest=n, crisis_rules_language=r)
                 for e, c, n, r in itertools.product(GRID["emergency"], GRID["crisis"], GRID["nearest"],
                                                     GRID["crisis_rules_language"])]
    for thresholds in grid:
        reports = []
        for key, (weight, bias) in folds.items():
            with _readout(weight, bias, thresholds):
                reports.append(evaluate(parts[key]))
        pooled = _merge(reports)
        print(f"{thresholds}: {_summary(pooled)}")
        if thresholds is base and not args.sweep:
            for (path, half), r in zip(folds, reports, strict=True):
                print(f"  {path.relative_to(ROOT)}{' odd' if half else ''}: {_summary(r)}")
            print(format_report(pooled))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
