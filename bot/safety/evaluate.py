"""Evaluate `assess` on the labelled set: recall, false alarms, topics, confusion.

Run: python -m bot.safety.evaluate [--split NAME|all] [--failures] [PATH]

A labelled file holds one or more splits: every top-level key whose value is a
list of phrases ("dev", "heldout", "blind2", ...) is a split, in file order.
"""

from __future__ import annotations

import argparse
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.safety.categories import CATEGORIES
from bot.safety.classify import Assessment, assess
from bot.yamlfile import safe_load

__all__ = [
    "DEFAULT_PATH",
    "SPLITS",
    "Case",
    "Report",
    "evaluate",
    "format_report",
    "load_cases",
    "main",
    "split_names",
]

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "tests" / "data" / "safety_eval.yaml"
BENIGN = "benign"
# Every shipped locale, in the order of the columns; a case's `lang` is the language it is written in.
LANGS = ("ja", "ja_Easy", "en", "zh_Hans", "ko", "vi", "pt_BR", "fil", "ne")
# The splits of the default file (kept for callers that list them).
SPLITS = ("dev", "heldout", "blind", "fresh")


@dataclass(frozen=True, slots=True)
class Case:
    text: str
    lang: str
    category: str | None  # None = benign
    topic: str | None
    split: str


def _read(path: Path | str) -> dict[str, Any]:
    data = safe_load(Path(path).read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def split_names(path: Path | str = DEFAULT_PATH) -> tuple[str, ...]:
    """The splits found in a file: top-level keys holding a list, in file order."""
    return tuple(str(k) for k, v in _read(path).items() if isinstance(v, list))


def load_cases(path: Path | str = DEFAULT_PATH, split: str = "all") -> list[Case]:
    """Read a labelled file; `split` is one of its splits or "all"."""
    data = _read(path)
    names = tuple(str(k) for k, v in data.items() if isinstance(v, list))
    if split != "all" and split not in names:
        raise ValueError(f"no split {split!r} in {path} (found: {', '.join(names) or 'none'})")
    cases: list[Case] = []
    for name in names:
        if split not in ("all", name):
            continue
        for item in data[name] or []:
            category = item["category"]
            cases.append(
                Case(
                    text=str(item["text"]),
                    lang=str(item["lang"]),
                    category=None if category == BENIGN else str(category),
                    topic=item.get("topic"),
                    split=name,
                )
            )
    return cases


def _ratio(hit: int, total: int) -> float:
    return hit / total if total else 1.0


@dataclass
class Report:
    """Counts behind every figure; the properties turn them into rates."""

    recall_hits: Counter[tuple[str, str]] = field(default_factory=Counter)  # (cat, lang)
    recall_total: Counter[tuple[str, str]] = field(default_factory=Counter)
    benign_total: Counter[str] = field(default_factory=Counter)  # lang
    false_emergency: Counter[str] = field(default_factory=Counter)
    false_crisis: Counter[str] = field(default_factory=Counter)
    topic_right: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)  # (expected, got)
    failures: list[tuple[Case, Assessment]] = field(default_factory=list)

    def recall(self, category: str | None, lang: str | None = None) -> float:
        """Recall of one crisis category (None: of every crisis phrase) in one language or all."""
        langs = LANGS if lang is None else (lang,)
        cats = CATEGORIES if category is None else (category,)
        hit = sum(self.recall_hits[(c, x)] for c in cats for x in langs)
        return _ratio(hit, sum(self.recall_total[(c, x)] for c in cats for x in langs))

    def langs(self) -> tuple[str, ...]:
        """The languages that have phrases in this report, in column order."""
        seen = {x for _, x in self.recall_total} | set(self.benign_total)
        return tuple(x for x in LANGS if x in seen) + tuple(sorted(seen - set(LANGS)))

    def _benign(self, counter: Counter[str], lang: str | None) -> float:
        langs = LANGS if lang is None else (lang,)
        return _ratio(sum(counter[x] for x in langs), sum(self.benign_total[x] for x in langs))

    def false_emergency_rate(self, lang: str | None = None) -> float:
        return self._benign(self.false_emergency, lang)

    def false_crisis_rate(self, lang: str | None = None) -> float:
        return self._benign(self.false_crisis, lang)

    def topic_accuracy(self, lang: str | None = None) -> float:
        return self._benign(self.topic_right, lang)


def evaluate(cases: Iterable[Case], classify: Callable[[str], Assessment] = assess) -> Report:
    """Classify every case and count what matters for the thresholds."""
    report = Report()
    for case in cases:
        got = classify(case.text)
        expected_label = case.category or BENIGN
        report.confusion[(expected_label, got.category or BENIGN)] += 1
        if case.category is not None:
            report.recall_total[(case.category, case.lang)] += 1
            ok = got.category == case.category
            report.recall_hits[(case.category, case.lang)] += ok
        else:
            report.benign_total[case.lang] += 1
            report.false_emergency[case.lang] += got.emergency
            report.false_crisis[case.lang] += got.category is not None
            ok = got.category is None and got.topic == case.topic
            report.topic_right[case.lang] += ok
        if not ok:
            report.failures.append((case, got))
    return report


def _pct(x: float) -> str:
    return f"{100 * x:5.1f}%"


def format_report(report: Report, failures: bool = False) -> str:
    """The figures as a plain-text table: recall per category and per locale, then the benign figures."""
    langs = report.langs()
    lines = [f"{'recall':<24}{'all':>8}" + "".join(f"{x:>8}" for x in langs) + f"{'n':>6}"]
    for cat in (*CATEGORIES, None):
        n = sum(report.recall_total[(c, x)] for c in ((cat,) if cat else CATEGORIES) for x in langs)
        row = [_pct(report.recall(cat, lang)) for lang in (None, *langs)]
        lines.append(f"{cat or 'every crisis':<24}" + "".join(f"{r:>8}" for r in row) + f"{n:>6}")
    lines.append("")
    n_benign = sum(report.benign_total.values())
    for name, fn in (
        ("benign false emergency", report.false_emergency_rate),
        ("benign false crisis", report.false_crisis_rate),
        ("benign topic accuracy", report.topic_accuracy),
    ):
        row = [_pct(fn(lang)) for lang in (None, *langs)]
        lines.append(f"{name:<24}" + "".join(f"{r:>8}" for r in row) + f"{n_benign:>6}")
    labels = [*CATEGORIES, BENIGN]
    short = {c: c[:8] for c in labels}
    lines += ["", "confusion (rows expected, columns got)"]
    lines.append(f"{'':<16}" + "".join(f"{short[c]:>9}" for c in labels))
    for exp in labels:
        counts = [report.confusion[(exp, got)] for got in labels]
        lines.append(f"{exp:<16}" + "".join(f"{c:>9}" for c in counts))
    if failures:
        lines += ["", "misclassified"]
        for case, got in report.failures:
            lines.append(
                f"  [{case.split}/{case.lang}] {case.text!r}: expected "
                f"{case.category or BENIGN}/{case.topic}, got "
                f"{got.category or BENIGN}/{got.topic} ({_fired(got)})"
            )
    return "\n".join(lines)


def _fired(got: Assessment) -> str:
    """What decided: the rule, or the nearest exemplar and its score (also when it was not sure enough)."""
    if got.rule and not got.rule.startswith("exemplars:"):
        return got.rule
    if not got.exemplar:
        return "no rule; exemplar layer off"
    read = f"{got.rule} p={got.score:.2f}" if got.rule else f"no rule; exemplars unsure p={got.score:.2f}"
    return f"{read}, nearest {got.exemplar}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anshin eval", description=__doc__)
    parser.add_argument("path", nargs="?", default=str(DEFAULT_PATH))
    parser.add_argument("--split", default="all", help="a split of the file, or all")
    parser.add_argument("--failures", action="store_true", help="list misclassified phrases")
    args = parser.parse_args(argv)
    names = split_names(args.path)
    if args.split != "all" and args.split not in names:
        parser.error(f"no split {args.split!r} in {args.path} (found: {', '.join(names) or 'none'})")
    splits = names if args.split == "all" else (args.split,)
    for split in splits:
        cases = load_cases(args.path, split)
        print(f"== {split}: {len(cases)} phrases")
        print(format_report(evaluate(cases), failures=args.failures))
        print()
    if args.split == "all" and len(names) > 1:
        cases = load_cases(args.path, "all")
        print(f"== all: {len(cases)} phrases")
        print(format_report(evaluate(cases)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
