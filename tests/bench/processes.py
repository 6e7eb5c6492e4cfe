"""What the benchmarks share: processes started and stopped on 127.0.0.1, their CPU and memory, the event loop
the load generators run on, and how a load's figures are printed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp

__all__ = ["api_calls", "cpu_seconds", "free_port", "new_loop", "report", "rss_mb", "started", "wait_listening"]


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where installed, as Anshin's worker runs (bot.cli.run_async): for the load generator, the fake API
    and the baseline bot too, so that they take less of the machine from the worker measured."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_listening(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"process {process.args!r} did not start listening on {port}")
        time.sleep(0.05)


@contextlib.contextmanager
def started(args: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_listening(port, process)
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def api_calls(api_port: int) -> int:
    """How many calls a benchmark's fake API (its GET /calls) has answered."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{api_port}/calls") as r:
        return int(await r.text())


def report(name: str, rate: float, latencies: list[float], statuses: dict[int, int], unit: str = "updates") -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{name:28s} {len(ordered):7,d} {unit}  {rate:7,.0f} {unit}/s  p50 {p50:5.1f} ms  p99 {p99:5.1f} ms  "
          f"statuses {statuses}", flush=True)
