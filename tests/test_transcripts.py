"""Golden transcripts, goflow-style: `<name>.jsonl` holds events, `<name>.out.jsonl` the expected answers.

Regenerate after a deliberate content change with `pytest tests/test_transcripts.py --update`, then read
the diff before committing it: the diff is what users will see change.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.channels.protocol import answer_line, answer_text
from bot.engine import Engine

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
CASES = sorted(p for p in TRANSCRIPTS.glob("*.jsonl") if not p.name.endswith(".out.jsonl"))


def events_of(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
            and not line.lstrip().startswith("#")]


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_transcript(shipped_engine: Engine, case: Path, update_golden: bool) -> None:
    answers = [answer_text(shipped_engine, line) for line in events_of(case)]
    expected_path = case.with_suffix(".out.jsonl")
    if update_golden:
        expected_path.write_text("\n".join(answers) + "\n", encoding="utf-8")
        return
    assert expected_path.exists(), f"{expected_path.name} missing: run pytest {__file__} --update"
    expected = expected_path.read_text(encoding="utf-8").splitlines()
    assert len(answers) == len(expected), "event and answer counts differ: run with --update and read the diff"
    for number, (got, want) in enumerate(zip(answers, expected, strict=True), start=1):
        assert json.loads(got) == json.loads(want), f"{case.name} event {number} answers differently"


@pytest.mark.parametrize("case", CASES[:3], ids=[p.stem for p in CASES[:3]])
def test_the_simulator_writes_exactly_what_json_dumps_would(shipped_engine: Engine, case: Path) -> None:
    lines = [*events_of(case), "not json", '{"press": "garbage"}', '{"start": "", "extra": 1}']
    for line in lines * 2:  # the second time every reply's encoding comes from its cache
        assert answer_text(shipped_engine, line) == json.dumps(answer_line(shipped_engine, line), ensure_ascii=False)


def test_there_are_transcripts() -> None:
    assert CASES, "no golden transcripts found"
