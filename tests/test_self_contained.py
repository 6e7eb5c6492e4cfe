"""A fresh clone has nothing beside it: no code, test or content reaches outside the repository (issue 20)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import conftest

ROOT = Path(__file__).resolve().parent.parent
# A path that climbs out of the repository, or names the research notes that sit beside the development checkout
# (spelled in pieces so that this file does not match itself).
NOTES = "sha" + "red"
OUTSIDE = re.compile(rf"\.\./{NOTES}|{NOTES}/reference|/ *\"{NOTES}\"|parents\[(?:[3-9])\]|\.parent\.parent\.parent")
ALLOWED = {"tests/test_reference_copy.py"}  # the one test that compares our copies with the notes


def _sources() -> list[Path]:
    files = [ROOT / ".ci" / "run"]
    for folder in ("bot", "tests", "flows", "deploy"):
        files += [p for p in (ROOT / folder).rglob("*") if p.is_file() and p.suffix in (".py", ".yaml", ".sh", "")]
    return [p for p in files if "fixtures" not in p.parts]


def test_no_code_test_or_content_names_a_path_outside_the_repository() -> None:
    offending = [f"{p.relative_to(ROOT)}:{n}" for p in _sources() if str(p.relative_to(ROOT)) not in ALLOWED
                 for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
                 if OUTSIDE.search(line)]
    assert offending == []


def test_the_path_check_can_fail() -> None:
    assert OUTSIDE.search(f'SPEC = Path(__file__).parents[2].parent / "{NOTES}/reference/api.json"')
    assert OUTSIDE.search(f"cat ../{NOTES}/reference/services-ja.yaml")
    assert not OUTSIDE.search('SPEC = Path(__file__).parents[1] / "fixtures/telegram-bot-api/api.json"')


def test_opening_a_file_beside_the_repository_is_seen() -> None:
    """Every test runs under an audit hook (conftest.py) that fails it if it opened a file beside the repository."""
    beside = ROOT.parent / "anshin-no-such-sibling" / "facts.yaml"
    with contextlib.suppress(OSError):
        beside.read_text(encoding="utf-8")
    seen = list(conftest._opened_beside)
    conftest._opened_beside.clear()  # this test opened it on purpose
    if ROOT.parent == Path(ROOT.anchor):
        return  # a checkout at the root of a disk has nothing beside it; the hook is off there
    if str(ROOT.parent) in conftest._TEMP:
        return  # a clone right in the temporary folder (/tmp/anshin): what sits beside it is the tests' own temp files
    assert str(beside) in seen
