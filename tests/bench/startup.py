"""Benchmark: how long each command takes to its first answer, and what it holds when idle.

Run: python tests/bench/startup.py [--runs 5]
Each process is started afresh --runs times, one after another, on 127.0.0.1 only; the figures are the median
and the range. Baselines measured in the same run: `python -c pass` (the interpreter alone) and a bare aiohttp
server answering /healthz (what any web server in Python costs).
  - `anshin simulate`: from spawn to the first answer line (for {"start": ""});
  - `anshin chat`: from spawn to the first screen and its prompt;
  - `anshin serve` (web chat), `anshin telegram --webhook` (aiogram, python-telegram-bot) and `anshin line`: from
    spawn to 200 on /healthz, the Bot API answered by a small fake in its own process;
  - RSS: VmRSS at the first answer (half a second after it for simulate and chat), and, for servers, 3 s later,
    once they have prepared free text in the background (the safety layer's rules and its model, which any process
    holds from the first typed message on).
Targets (issue 20): simulate <= 0.3 s, serve <= 0.5 s, a webhook worker <= 1 s on either library; idle RSS:
simulate <= 40 MB, a webhook worker <= 100 MB. It prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path[0] = str(ROOT)  # instead of tests/bench: its telegram.py would shadow python-telegram-bot

from tests.bench.processes import free_port, rss_mb  # noqa: E402
from tests.bench.webhook import HOOK, SECRET, TOKEN, serve_fake_api  # noqa: E402

PYTHON = sys.executable
BARE_AIOHTTP = """
import sys
from aiohttp import web
async def health(request):
    return web.Response(text="ok")
app = web.Application()
app.router.add_get("/healthz", health)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), print=None)
"""
IDLE_PYTHON = "import sys; sys.stdin.read()"


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def healthy(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
        connection.request("GET", "/healthz")
        ok = connection.getresponse().status == 200
        connection.close()
        return ok
    except OSError:
        return False


Figures = tuple[float, float, float]  # seconds to the first answer, RSS then, RSS once free text is prepared


def until_healthy(args: list[str], port: int, env: dict[str, str]) -> Figures:
    """Seconds from spawn to 200 on /healthz, the RSS at that moment, and the RSS 3 s later, once the server has
    prepared free text in the background (the safety layer's rules and model, which any worker reading text
    holds from its first typed message on)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not healthy(port):
            if process.poll() is not None:
                raise SystemExit(f"{' '.join(args)} exited with {process.returncode} before it was ready")
            if time.perf_counter() - start > 60:
                raise SystemExit(f"{' '.join(args)} was not ready within 60 s")
            time.sleep(0.002)
        ready = time.perf_counter() - start
        at_ready = rss_mb(process.pid)
        time.sleep(3.0)
        return ready, at_ready, rss_mb(process.pid)
    finally:
        stop(process)


def until_output(args: list[str], stdin: bytes, marker: bytes, env: dict[str, str]) -> Figures:
    """Seconds from spawn until ``marker`` appears on stdout (``stdin`` written at once), and the idle RSS then."""
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(stdin)
        process.stdin.flush()
        seen = b""
        while marker not in seen:
            chunk = os.read(process.stdout.fileno(), 65536)
            if not chunk:
                raise SystemExit(f"{' '.join(args)} ended before its first answer")
            seen += chunk
        ready = time.perf_counter() - start
        time.sleep(0.5)
        idle = rss_mb(process.pid)
        return ready, idle, idle
    finally:
        process.stdin.close()
        stop(process)


def env_for(**extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}
    return {**keep, "PYTHONPATH": str(ROOT), **extra}


def measurements(api: str) -> dict[str, Callable[[], Figures]]:
    def pass_() -> Figures:
        return until_output([PYTHON, "-c", "print('ready', flush=True); import sys; sys.stdin.read()"],
                            b"", b"ready", env_for())

    def bare_aiohttp() -> Figures:
        port = free_port()
        return until_healthy([PYTHON, "-c", BARE_AIOHTTP, str(port)], port, env_for())

    def simulate() -> Figures:
        return until_output([PYTHON, "-m", "bot", "simulate"], b'{"start": ""}\n', b"\n", env_for())

    def chat() -> Figures:
        return until_output([PYTHON, "-m", "bot", "chat"], b"", b"\n> ", env_for())

    def serve() -> Figures:
        port = free_port()
        return until_healthy([PYTHON, "-m", "bot", "serve", "--port", str(port)], port, env_for())

    def webhook(framework: str) -> Callable[[], Figures]:
        def measure() -> Figures:
            port = free_port()
            env = env_for(ANSHIN_TELEGRAM_TOKEN=TOKEN, ANSHIN_TELEGRAM_API=api, ANSHIN_WEBHOOK_SECRET=SECRET,
                          ANSHIN_WEBHOOK_URL=f"https://bench.example.org{HOOK}", ANSHIN_PORT=str(port))
            return until_healthy([PYTHON, "-m", "bot", "telegram", "--framework", framework, "--webhook"], port, env)
        return measure

    def line() -> Figures:
        port = free_port()
        env = env_for(ANSHIN_LINE_CHANNEL_SECRET="benchlinesecret0123456789abcdef0",
                      ANSHIN_LINE_CHANNEL_ACCESS_TOKEN="bench-line-token-0123456789abcdef", ANSHIN_LINE_API=api,
                      ANSHIN_PORT=str(port))
        return until_healthy([PYTHON, "-m", "bot", "line"], port, env)

    return {"python -c pass": pass_, "bare aiohttp server": bare_aiohttp, "anshin simulate": simulate,
            "anshin chat": chat, "anshin serve": serve, "telegram --webhook (aiogram)": webhook("aiogram"),
            "telegram --webhook (ptb)": webhook("ptb"), "anshin line": line}


TARGETS = {"anshin simulate": (0.3, 40.0), "anshin serve": (0.5, None), "telegram --webhook (aiogram)": (1.0, 100.0),
           "telegram --webhook (ptb)": (1.0, 100.0), "anshin line": (1.0, 100.0)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    api_port = free_port()
    fake = multiprocessing.Process(target=serve_fake_api, args=(api_port,), daemon=True)
    fake.start()
    try:
        while not healthy_socket(api_port):
            time.sleep(0.05)
        runs: dict[str, list[Figures]] = {}
        cases = measurements(f"http://127.0.0.1:{api_port}")
        for _ in range(args.runs):  # interleaved, so that a noisy moment hits every command alike
            for name, measure in cases.items():
                runs.setdefault(name, []).append(measure())
    finally:
        fake.terminate()
        fake.join()
    base_time = statistics.median(figures[0] for figures in runs["python -c pass"])
    print(f"start-up, {args.runs} runs each (median, [min-max]); baselines measured in the same run")
    print(f"{'command':30} {'first answer':>22} {'x python':>9} {'RSS at first answer MB':>24} "
          f"{'text prepared MB':>18}  target")
    for name, figures in runs.items():
        times, sizes, prepared = ([f[k] for f in figures] for k in range(3))
        target = TARGETS.get(name)
        goal = "" if target is None else f"<= {target[0]} s" + (f", <= {target[1]:.0f} MB" if target[1] else "")
        print(f"{name:30} {statistics.median(times):6.3f} s [{min(times):.3f}-{max(times):.3f}] "
              f"{statistics.median(times) / base_time:8.1f}x {statistics.median(sizes):10.1f} "
              f"[{min(sizes):.1f}-{max(sizes):.1f}] {statistics.median(prepared):9.1f} "
              f"[{min(prepared):.0f}-{max(prepared):.0f}]  {goal}")


def healthy_socket(port: int) -> bool:
    import socket

    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


if __name__ == "__main__":
    main()
