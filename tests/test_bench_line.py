"""The LINE load benchmark runs in CI in its short mode. Speed is measured, not asserted (tests/README.md): this
checks only that the benchmark completes and prints its figures for both bots."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import PROJECT


@pytest.mark.slow
def test_the_line_benchmark_completes_in_short_mode_and_prints_its_figures() -> None:
    done = subprocess.run([sys.executable, str(PROJECT / "tests/bench/line.py"), "--short"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    sys.stdout.write(out)
    figures = r"events/s\s+p50\s+[\d.]+ ms\s+p99\s+[\d.]+ ms\s+statuses \{200: \d+\}"
    assert re.search(r"^one anshin line worker .*" + figures, out, re.M), out
    assert re.search(r"^baseline: SDK echo bot .*" + figures, out, re.M), out
    assert re.search(r"Anshin: [\d.]+x the echo bot's events/s", out), out
    assert re.search(r"RSS before [\d.]+ MB, after [\d.]+ MB: growth [-+][\d.]+ MB", out), out
