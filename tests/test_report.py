"""`anshin report`: a campaign table from a /metrics page, read from a file and over real HTTP."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine import Engine, Event
from bot.metrics import ReachMetrics
from bot.ops.report import ReportError, campaign_rows

STARTS = ["p-ja-spring2027", "p-ja-spring2027", "t-ja-spring2027", "s-en-spring2027", "p-ja-newterm",
          "t-ja-zzz", ""]
TABLE = """\
campaign    parent  teen  school  unknown  en  ja  total
----------  ------  ----  ------  -------  --  --  -----
spring2027       2     1       1        0   1   3      4
newterm          1     0       0        0   0   1      1
other            0     1       0        0   0   1      1
none             0     0       0        1   0   1      1
starts: conversations opened (not people); none = no campaign link, other = unknown code
"""


@pytest.fixture
def exposition(fixture_engine: Engine) -> bytes:
    metrics = ReachMetrics.for_engine(fixture_engine, campaigns=["spring2027", "newterm"])
    for payload in STARTS:
        event = Event("start", payload)
        metrics.record(event, fixture_engine.handle(event))
    return metrics.exposition()


@pytest.fixture
def metrics_url(exposition: bytes) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.end_headers()
            self.wfile.write(exposition)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/metrics"
    server.shutdown()
    server.server_close()


def test_report_from_a_file_prints_the_campaign_table(exposition: bytes, tmp_path: Path) -> None:
    saved = tmp_path / "metrics.txt"
    saved.write_bytes(exposition)
    result = CliRunner().invoke(main, ["report", "--from", str(saved)])
    assert result.exit_code == 0, result.output
    assert result.stdout == TABLE


def test_report_reads_a_live_metrics_url(metrics_url: str) -> None:
    result = CliRunner().invoke(main, ["report", "--from", metrics_url])
    assert result.exit_code == 0, result.output
    assert result.stdout == TABLE


def test_a_page_without_anshin_counters_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ReportError):
        campaign_rows("# HELP other_total x\n# TYPE other_total counter\nother_total 1.0\n")
    missing = CliRunner().invoke(main, ["report", "--from", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "cannot read" in missing.stderr
