"""The project's copies of the reference facts and API specs are the research notes' current files.

The notes live beside the development checkout (``../shared/reference``), not in a clone: this is the one test
that looks outside the repository, and only to compare; everything else reads the copies. Where the notes are
absent it skips with that reason.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTES = ROOT.parent / "shared" / "reference"
COPIES = {
    "services-ja.yaml": "reference/services-ja.yaml",
    "services-sns-ja.yaml": "reference/services-sns-ja.yaml",
    "prefecture-juvenile-lines-ja.yaml": "reference/prefecture-juvenile-lines-ja.yaml",
    "safety-content-facts.md": "reference/safety-content-facts.md",
    "content-facts-2026-12.md": "reference/content-facts-2026-12.md",
    "telegram-bot-api/api.json": "tests/fixtures/telegram-bot-api/api.json",
    "telegram-bot-api/SOURCE.txt": "tests/fixtures/telegram-bot-api/SOURCE.txt",
    "line-messaging-api/messaging-api.yml": "tests/fixtures/line-messaging-api/messaging-api.yml",
    "line-messaging-api/webhook.yml": "tests/fixtures/line-messaging-api/webhook.yml",
    "line-messaging-api/LICENSE": "tests/fixtures/line-messaging-api/LICENSE",
    "line-messaging-api/SOURCE.txt": "tests/fixtures/line-messaging-api/SOURCE.txt",
}


@pytest.mark.reads_outside
@pytest.mark.parametrize("note", sorted(COPIES))
def test_the_copy_is_the_current_note(note: str) -> None:
    if not NOTES.is_dir():
        pytest.skip(f"the research notes are not beside this checkout ({NOTES}); the copies cannot be compared")
    ours = ROOT / COPIES[note]
    assert ours.is_file(), f"{COPIES[note]} is missing: copy {note} from the research notes"
    assert ours.read_bytes() == (NOTES / note).read_bytes(), f"{COPIES[note]} differs from the notes: copy it again"


@pytest.mark.reads_outside
def test_every_note_has_a_copy() -> None:
    if not NOTES.is_dir():
        pytest.skip(f"the research notes are not beside this checkout ({NOTES})")
    notes = {str(p.relative_to(NOTES)) for p in NOTES.rglob("*") if p.is_file()}
    assert notes - set(COPIES) == set(), "a reference file has no copy in the project: add it to COPIES and copy it"
