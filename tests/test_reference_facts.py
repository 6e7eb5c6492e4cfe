"""No invented facts: every number, address and link Anshin shows comes from the reference files.

The reference files are the project's own copy in `reference/` (its README says where they come from).
`flows/services.yaml` keeps each service's contacts beside its sources; these tests hold them, and every phone number
or URL written anywhere in flows/ or the catalogues, to the reference files, and keep the numbers the reference marks
as superseded or unverified out of everything Anshin ships.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"  # the project's copy of the facts; tests/test_reference_copy.py keeps it current
SERVICES_REF = REFERENCE / "services-ja.yaml"
PREFECTURES_REF = REFERENCE / "prefecture-juvenile-lines-ja.yaml"
FACTS_REF = REFERENCE / "safety-content-facts.md"
SHIPPED = sorted([*ROOT.glob("flows/*.yaml"), *ROOT.glob("locales/*/LC_MESSAGES/*.po")])

# Japanese phone numbers as services print them (03-3580-4970, 0120-41-7867, 0120-786714, 0570-...) and #-dials.
PHONE = re.compile(r"(?<![\d-])(?:0\d{1,4}-\d{1,4}-\d{3,4}|0120-?\d{2,3}-?\d{3,4}|0120\d{6}|#\d{4})(?![\d-])")
URL = re.compile(r"https?://[^\s\"'<>)\]]+")
# Lines the prefecture file lists carry these ids (it has none of its own): juvenile_line_<prefecture>.
PREFECTURE_ID = re.compile(r"juvenile_line_([a-z]+)")
DIALABLE = ("phone", "short_code", "email", "line")


def _urls(text: str) -> set[str]:
    return {u.rstrip(".,;") for u in URL.findall(text)}


@cache
def load_reference() -> dict[str, Any]:
    services = yaml.safe_load(SERVICES_REF.read_text(encoding="utf-8"))
    prefectures = yaml.safe_load(PREFECTURES_REF.read_text(encoding="utf-8"))
    text = "".join(p.read_text(encoding="utf-8") for p in (SERVICES_REF, PREFECTURES_REF, FACTS_REF))
    forbidden = {
        (v["value"] if isinstance(v, dict) else str(v))
        for s in services for key in ("superseded_numbers", "unverified_numbers_do_not_use") for v in s.get(key) or []
    }
    by_prefecture = {re.sub(r".*\((\w+)\).*", r"\1", p["prefecture"]).lower(): p for p in prefectures}
    return {"services": {s["id"]: s for s in services}, "prefectures": by_prefecture, "text": text,
            "numbers": set(PHONE.findall(text)), "urls": _urls(text), "forbidden": forbidden}


@pytest.fixture
def reference() -> dict[str, Any]:
    return load_reference()


def _ours() -> list[dict[str, Any]]:
    content = yaml.safe_load((ROOT / "flows/services.yaml").read_text(encoding="utf-8"))
    services: list[dict[str, Any]] = content["services"]
    return services


def _source_entry(reference: dict[str, Any], service_id: str) -> dict[str, Any] | None:
    """The reference entry a service of ours stands on: the same id, or a prefecture's juvenile line."""
    if service_id in reference["services"]:
        entry: dict[str, Any] = reference["services"][service_id]
        return entry
    match = PREFECTURE_ID.fullmatch(service_id)
    return reference["prefectures"].get(match.group(1)) if match else None


def contact_problems(service: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    entry = _source_entry(reference, service["id"])
    if entry is None:
        return [f"{service['id']}: no entry with this id in {SERVICES_REF.name} or {PREFECTURES_REF.name}"]
    theirs = {c["value"] for c in entry.get("contact", [])}
    problems = []
    for contact in service["contacts"]:
        value, kind = contact["value"], contact["kind"]
        if value in theirs:
            continue
        if kind == "web" and value in entry.get("sources", []):
            continue  # a page the reference read for this service, linked instead of a contact it doubts
        if kind not in DIALABLE and kind != "web" and not PHONE.search(value) and not URL.search(value):
            continue  # a description of how to reach it ("QR code on school devices"), no number to get wrong
        problems.append(f"{service['id']}: {kind} {value!r} is not a contact of its reference entry")
    for source in service.get("sources", []):
        if URL.match(source) and source not in entry.get("sources", []):
            problems.append(f"{service['id']}: source {source!r} is not one of its reference entry's sources")
    return problems


def test_every_contact_is_the_reference_entrys_own(reference: dict[str, Any]) -> None:
    problems = [p for s in _ours() for p in contact_problems(s, reference)]
    assert problems == []


def test_a_typed_number_or_an_unknown_id_is_caught(reference: dict[str, Any]) -> None:
    mie = next(s for s in _ours() if s["id"] == "juvenile_line_mie")
    typo = {**mie, "contacts": [{"kind": "phone", "value": "0120-41-7868"}]}
    assert contact_problems(typo, reference) == [
        "juvenile_line_mie: phone '0120-41-7868' is not a contact of its reference entry"]
    invented = {**mie, "id": "juvenile_line_osaka"}
    assert contact_problems(invented, reference)[0].startswith("juvenile_line_osaka: no entry with this id")


def test_every_prefecture_the_reference_lists_is_offered(reference: dict[str, Any]) -> None:
    """The police lines by prefecture show every line the reference confirms, and only those."""
    ours = {s["id"] for s in _ours()}
    offered = {m.group(1) for sid in ours if (m := PREFECTURE_ID.fullmatch(sid))} | {"tokyo"}
    assert offered == set(reference["prefectures"])
    tokyo = reference["prefectures"]["tokyo"]["contact"][0]["value"]
    assert tokyo in {c["value"] for c in reference["services"]["mpd_young_telephone_corner"]["contact"]}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_number_and_link_written_in_content_is_in_the_reference(path: Path, reference: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8")
    assert sorted(set(PHONE.findall(text)) - reference["numbers"]) == []
    assert sorted(_urls(text) - reference["urls"]) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_superseded_or_unverified_number_is_shipped(path: Path, reference: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8")
    assert [n for n in sorted(reference["forbidden"]) if n in text] == []


def test_the_number_checks_can_fail(reference: dict[str, Any]) -> None:
    assert reference["forbidden"], "the reference marks superseded numbers; the test must see them"
    planted = "電話は 0120-99-1234 か、https://example.org/help へ"
    assert set(PHONE.findall(planted)) - reference["numbers"] == {"0120-99-1234"}
    assert _urls(planted) - reference["urls"] == {"https://example.org/help"}

