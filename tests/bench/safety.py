"""Benchmark of the safety layer (issues 7, 18): throughput, latency per message, start-up and memory it adds.

Run: python tests/bench/safety.py [--seconds N] [--rules-only]
Prints messages per second and p50/p99/max per message over the tuned evaluation sets (every locale), on one
core (the embedder uses one thread), then, measured in fresh processes, the start-up time and resident memory
the safety layer adds: importing bot.safety, and loading the exemplar layer on the first message.
Budgets (issue 18): p99 <= 25 ms, start-up added <= 0.5 s, RSS added <= 120 MB. Figures only: exits 0.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

P99_MS = 25.0
STARTUP_S = 0.5
RSS_MB = 120.0

# Run in a fresh interpreter: what importing and the first message cost, and the memory they add.
_PROBE = """
import json, time, sys
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
t0 = time.perf_counter(); r0 = rss()
import bot.safety
if sys.argv[1] == "rules-only":
    bot.safety.rules_only()
t1 = time.perf_counter(); r1 = rss()
bot.safety.assess("ちょっと聞いてもいい？")
t2 = time.perf_counter(); r2 = rss()
for text in sys.argv[2:]:
    bot.safety.assess(text)
r3 = rss()
print(json.dumps({"import_s": t1 - t0, "first_s": t2 - t1, "rss_import": r1 - r0, "rss_loaded": r2 - r0,
                  "rss_after": r3 - r0}))
"""


def latencies(texts: list[str], seconds: float) -> tuple[float, list[float]]:
    """Messages per second (best round) and every per-message time (ms) of the timed rounds."""
    from bot.safety import assess

    for text in texts:  # warm up: the model loads on the first message
        assess(text)
    best, times = 0.0, []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline or not times:
        start = time.perf_counter()
        for text in texts:
            t = time.perf_counter()
            assess(text)
            times.append(1000 * (time.perf_counter() - t))
        best = max(best, len(texts) / (time.perf_counter() - start))
    return best, times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def fresh_process(texts: list[str], mode: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", _PROBE, mode, *texts[:200]], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0, help="time spent timing messages")
    parser.add_argument("--rules-only", action="store_true", help="measure with the exemplar layer off")
    args = parser.parse_args()
    if args.rules_only:
        from bot.safety import rules_only

        rules_only()
    from bot.safety.evaluate import load_cases

    texts = [c.text for path in sorted((ROOT / "tests" / "data").glob("safety_*.yaml")) for c in load_cases(path)]
    rate, times = latencies(texts, args.seconds)
    start = fresh_process(texts, "rules-only" if args.rules_only else "both")
    p99 = percentile(times, 0.99)
    mean = sum(map(len, texts)) / len(texts)
    print(f"messages: {len(texts)} (tuned sets, every locale), {mean:.1f} chars on average")
    print(f"throughput:     {rate:10,.0f} messages/s on one core")
    print(f"per message:    p50 {percentile(times, 0.5):.2f} ms, p99 {p99:.2f} ms, max {max(times):.2f} ms"
          f"  (budget p99 <= {P99_MS:.0f} ms: {'met' if p99 <= P99_MS else 'NOT met'})")
    added = start["import_s"] + start["first_s"]
    verdict = "met" if added <= STARTUP_S else "NOT met"
    print(f"start-up added: import bot.safety {start['import_s']:.3f} s + first message (loads the model) "
          f"{start['first_s']:.3f} s = {added:.3f} s  (budget {STARTUP_S} s: {verdict})")
    print(f"RSS added:      {start['rss_import']:.1f} MB after import, {start['rss_loaded']:.1f} MB with the model, "
          f"{start['rss_after']:.1f} MB after 200 messages  (budget {RSS_MB:.0f} MB: "
          f"{'met' if start['rss_after'] <= RSS_MB else 'NOT met'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
