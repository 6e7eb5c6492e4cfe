"""Benchmark: messages classified per second on the evaluation set (issue 7).

Run: python tests/bench/safety.py [--seconds N]
Prints assess() throughput, a baseline of plain NFKC normalisation in the same
run, and the ratio. Target: at least 20,000 messages/s on one core.
"""

from __future__ import annotations

import argparse
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.safety import assess
from bot.safety.evaluate import load_cases

TARGET = 20_000


def rate(fn: Callable[[str], object], texts: list[str], seconds: float) -> float:
    """Messages per second, best of a few timed rounds over `texts`."""
    for text in texts:  # warm up
        fn(text)
    best = 0.0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        for _ in range(5):
            for text in texts:
                fn(text)
        elapsed = time.perf_counter() - start
        best = max(best, 5 * len(texts) / elapsed)
    return best


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement")
    args = parser.parse_args()
    texts = [c.text for c in load_cases(split="all")]
    safety = rate(assess, texts, args.seconds)
    baseline = rate(nfkc, texts, args.seconds)
    print(f"evaluation set: {len(texts)} messages, {sum(map(len, texts)) / len(texts):.1f} chars on average")
    print(f"bot.safety.assess:        {safety:12,.0f} messages/s")
    print(f"baseline NFKC normalise:  {baseline:12,.0f} messages/s")
    print(f"ratio (baseline/assess):  {baseline / safety:12.1f}x")
    print(f"target {TARGET:,}/s: {'met' if safety >= TARGET else 'NOT met'}")
    return 0 if safety >= TARGET else 1


if __name__ == "__main__":
    raise SystemExit(main())
