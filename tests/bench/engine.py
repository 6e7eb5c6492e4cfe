"""Benchmark: button presses per second through Engine.handle(), and memory after 100,000 users.

Run: python tests/bench/engine.py [--presses 100000]
Prints the engine loop and, measured in the same run, a baseline loop doing only the JSON decode and
encode of the same event lines, with the ratio between them; then the engine loop again with the machine's
table of answers off, so that every press is fired through transitions. Targets: >= 20,000 presses/s; RSS growth
under 5 MB after 100,000 presses from 100,000 distinct simulated users.
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
from collections import deque
from pathlib import Path

from bot.channels.protocol import answer_text
from bot.engine import Engine, Event, load_content
from bot.engine.render import CACHE_SIZE

ROOT = Path(__file__).resolve().parents[2]


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def reachable_button_ids(engine: Engine) -> list[str]:
    """Every button id a user can reach from the start screen in both languages (breadth first)."""
    seen: set[str] = set()
    queue = deque(i for lang in ("ja", "en") for r in engine.handle(Event("start", "", lang)) for i in r.button_ids())
    while queue:
        button_id = queue.popleft()
        if button_id in seen:
            continue
        seen.add(button_id)
        for reply in engine.handle(Event("press", button_id)):
            queue.extend(i for i in reply.button_ids() if i not in seen)
    return sorted(seen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--presses", type=int, default=100_000)
    args = parser.parse_args()
    engine = Engine(load_content(ROOT))
    pool = reachable_button_ids(engine)
    rng = random.Random(7)
    # One press per simulated user: each line is a distinct user's event (client language varies).
    langs = ["ja", "en", "ja-JP", "en-US", None]
    lines = [json.dumps({"press": rng.choice(pool), **({"lang": lang} if (lang := rng.choice(langs)) else {})})
             for _ in range(args.presses)]

    start = time.perf_counter()
    for line in lines:
        json.dumps(json.loads(line))
    baseline_s = time.perf_counter() - start

    # Warm up as a bot does in its first minutes: every reachable button once in every client language fills
    # the bounded tables (rendered replies, the machine's answers) before memory is measured.
    for button_id in pool:
        for lang in langs:
            answer_text(engine, json.dumps({"press": button_id, "lang": lang}))
    gc.collect()
    before = rss_kib()
    start = time.perf_counter()
    for line in lines:
        answer_text(engine, line)
    engine_s = time.perf_counter() - start
    gc.collect()
    after = rss_kib()

    # The same loop with the machine's table off: every press fired through transitions on a new Cursor.
    machine = engine.machine
    machine.fire = machine.trigger  # type: ignore[method-assign]
    start = time.perf_counter()
    for line in lines:
        answer_text(engine, line)
    untabled_s = time.perf_counter() - start

    print(f"reachable button ids: {len(pool)}; presses: {len(lines)} from {len(lines)} simulated users")
    print(f"baseline (JSON decode+encode only): {len(lines) / baseline_s:,.0f} lines/s")
    print(f"engine (decode, handle, encode):    {len(lines) / engine_s:,.0f} presses/s")
    print(f"ratio engine/baseline: {baseline_s / engine_s:.3f}")
    print(f"engine, every press through transitions (table off): {len(lines) / untabled_s:,.0f} presses/s")
    print(f"RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB, growth {(after - before) / 1024:.2f} MiB")
    print(f"held after the run: {len(engine.renderer._cache)} rendered replies (at most {CACHE_SIZE}), "
          f"{len(machine._answers)} machine answers (bounded by the content), "
          f"{len(machine.machine.models)} machine models")


if __name__ == "__main__":
    main()
