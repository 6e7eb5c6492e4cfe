"""No invented facts: every number, address and link Anshin shows comes from the reference files.

The reference files are the project's own copy in `reference/` (its README says where they come from).
`flows/services.yaml` keeps each service's contacts beside its sources; these tests hold them, and every phone number
or URL written anywhere in flows/ or the catalogues, to the reference files, and keep the numbers the reference marks
as superseded or unverified out of everything Anshin ships. The reference is services-ja.yaml, services-sns-ja.yaml
(chat and LINE services), prefecture-juvenile-lines-ja.yaml, safety-content-facts.md and content-facts-2026-12.md
(whose sections also stand as the entry of a service they alone describe).
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
SNS_REF = REFERENCE / "services-sns-ja.yaml"
PREFECTURES_REF = REFERENCE / "prefecture-juvenile-lines-ja.yaml"
FACTS_REF = REFERENCE / "safety-content-facts.md"
NEW_FACTS_REF = REFERENCE / "content-facts-2026-12.md"
REFERENCE_FILES = (SERVICES_REF, SNS_REF, PREFECTURES_REF, FACTS_REF, NEW_FACTS_REF)
# Services that no YAML entry describes, only a section of content-facts-2026-12.md: service id -> section number.
FACT_SECTIONS = {"moj_foreign_language_jinken_dial": "6"}
SHIPPED = sorted([*ROOT.glob("flows/*.yaml"), *ROOT.glob("locales/*/LC_MESSAGES/*.po")])

# Japanese phone numbers as services print them (03-3580-4970, 0120-41-7867, 0120-786714, 0570-090911, 0570-...)
# and #-dials.
PHONE = re.compile(r"(?<![\d-])(?:0\d{1,4}-\d{1,4}-\d{3,4}|0120-?\d{2,3}-?\d{3,4}|0120\d{6}|0(?:570|120)-\d{6}|#\d{4})"
                   r"(?![\d-])")
URL = re.compile(r"https?://[^\s\"'<>)\]]+")
# Lines the prefecture file lists carry these ids (it has none of its own): juvenile_line_<prefecture>.
PREFECTURE_ID = re.compile(r"juvenile_line_([a-z]+)")
DIALABLE = ("phone", "short_code", "email", "line")


def _urls(text: str) -> set[str]:
    return {u.rstrip(".,;") for u in URL.findall(text)}


def _sections(markdown: str) -> dict[str, str]:
    """``## 6. Help in other languages`` -> {"6": its text}."""
    parts = re.split(r"^## (\d+)\. ", markdown, flags=re.MULTILINE)
    return {number: body for number, body in zip(parts[1::2], parts[2::2], strict=True)}


def _https_hosts(urls: set[str]) -> set[str]:
    return {u.split("/")[2] for u in urls if u.startswith("https://")}


@cache
def load_reference() -> dict[str, Any]:
    services = [*yaml.safe_load(SERVICES_REF.read_text(encoding="utf-8")),
                *yaml.safe_load(SNS_REF.read_text(encoding="utf-8"))]
    prefectures = yaml.safe_load(PREFECTURES_REF.read_text(encoding="utf-8"))
    text = "".join(p.read_text(encoding="utf-8") for p in REFERENCE_FILES)
    new_facts = NEW_FACTS_REF.read_text(encoding="utf-8")
    forbidden = {
        (v["value"] if isinstance(v, dict) else str(v))
        for s in services for key in ("superseded_numbers", "unverified_numbers_do_not_use") for v in s.get(key) or []
    }
    by_prefecture = {re.sub(r".*\((\w+)\).*", r"\1", p["prefecture"]).lower(): p for p in prefectures}
    urls = _urls(text)
    return {"services": {s["id"]: s for s in services}, "prefectures": by_prefecture, "text": text,
            "numbers": set(PHONE.findall(text)), "urls": urls, "https_hosts": _https_hosts(urls),
            "forbidden": forbidden, "sections": _sections(new_facts), "new_fact_urls": _urls(new_facts)}


@pytest.fixture
def reference() -> dict[str, Any]:
    return load_reference()


def _ours() -> list[dict[str, Any]]:
    content = yaml.safe_load((ROOT / "flows/services.yaml").read_text(encoding="utf-8"))
    services: list[dict[str, Any]] = content["services"]
    return services


def _source_entry(reference: dict[str, Any], service_id: str) -> dict[str, Any] | None:
    """The reference entry a service of ours stands on: the same id (services-ja.yaml, services-sns-ja.yaml), a
    prefecture's juvenile line, or the section of content-facts-2026-12.md that alone describes it."""
    if service_id in reference["services"]:
        entry: dict[str, Any] = reference["services"][service_id]
        return entry
    if service_id in FACT_SECTIONS:
        section = reference["sections"][FACT_SECTIONS[service_id]]
        found = [*PHONE.findall(section), *_urls(section)]
        return {"contact": [{"value": v} for v in found], "sources": sorted(_urls(section)), "confidence": "high"}
    match = PREFECTURE_ID.fullmatch(service_id)
    return reference["prefectures"].get(match.group(1)) if match else None


def _cited(entry: dict[str, Any]) -> set[str]:
    """Every page a reference entry cites: its sources and the addresses its notes quote (corrections)."""
    notes = " ".join([*map(str, entry.get("notes") or []), *(str(c.get("note", "")) for c in entry.get("contact", []))])
    return {*entry.get("sources", []), *_urls(notes)}


def contact_problems(service: dict[str, Any], reference: dict[str, Any]) -> list[str]:
    entry = _source_entry(reference, service["id"])
    if entry is None:
        return [f"{service['id']}: no entry with this id in {SERVICES_REF.name}, {SNS_REF.name} or "
                f"{PREFECTURES_REF.name}"]
    theirs = {c["value"] for c in entry.get("contact", [])}
    # A LINE account may be given by the name the reference records for it instead of an ID it asks to verify.
    notes = (str(c.get("note", "")) for c in entry.get("contact", []))
    account_names = " ".join([str(entry.get("name_ja", "")), *notes])
    problems = []
    for contact in service["contacts"]:
        value, kind = contact["value"], contact["kind"]
        if value in theirs:
            continue
        if kind == "web" and value in entry.get("sources", []):
            continue  # a page the reference read for this service, linked instead of a contact it doubts
        if kind == "line" and not value.startswith("@") and value in account_names:
            continue
        if kind not in DIALABLE and kind != "web" and not PHONE.search(value) and not URL.search(value):
            continue  # a description of how to reach it ("QR code on school devices"), no number to get wrong
        problems.append(f"{service['id']}: {kind} {value!r} is not a contact of its reference entry")
    for source in service.get("sources", []):
        # A source is a page the entry cites, or one of content-facts-2026-12.md, which corrects the entries and
        # states facts about several lines (their closed days by law, §1).
        if URL.match(source) and source not in _cited(entry) and source not in reference["new_fact_urls"]:
            problems.append(f"{service['id']}: source {source!r} is not one of its reference entry's sources")
    return problems


def test_every_contact_is_the_reference_entrys_own(reference: dict[str, Any]) -> None:
    problems = [p for s in _ours() for p in contact_problems(s, reference)]
    assert problems == []


def test_no_service_rests_on_a_fact_the_reference_rates_low(reference: dict[str, Any]) -> None:
    """"low" = not confirmed: never shipped as a fact (services-sns-ja.yaml has such entries)."""
    low = [s["id"] for s in _ours() if (_source_entry(reference, s["id"]) or {}).get("confidence") == "low"]
    assert low == []
    assert [sid for sid, entry in reference["services"].items() if entry.get("confidence") == "low"], "vacuous"


def test_a_line_account_is_its_reference_id_or_the_name_the_reference_records(reference: dict[str, Any]) -> None:
    oyako = next(s for s in _ours() if s["id"] == "cfa_oyako_soudan_line")
    assert contact_problems(oyako, reference) == []
    forged = {**oyako, "contacts": [{"kind": "line", "value": "@778asdib"}]}
    assert contact_problems(forged, reference) == [
        "cfa_oyako_soudan_line: line '@778asdib' is not a contact of its reference entry"]
    renamed = {**oyako, "contacts": [{"kind": "line", "value": "親子の相談LINE"}]}
    assert contact_problems(renamed, reference) != []


def test_a_service_described_only_by_the_new_facts_holds_to_its_section(reference: dict[str, Any]) -> None:
    dial = next(s for s in _ours() if s["id"] == "moj_foreign_language_jinken_dial")
    assert contact_problems(dial, reference) == []
    typo = {**dial, "contacts": [{"kind": "phone", "value": "0570-090912"}]}
    assert contact_problems(typo, reference) == [
        "moj_foreign_language_jinken_dial: phone '0570-090912' is not a contact of its reference entry"]


def _links_users_open() -> list[tuple[str, str]]:
    """(where, address) of every button link and web contact in flows/."""
    links = []
    for path in sorted(ROOT.glob("flows/*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if path.name == "services.yaml":
            links += [(f"{path.name}: {s['id']}", c["value"]) for s in data["services"] for c in s["contacts"]
                      if c["kind"] in ("web", "chat") and URL.match(c["value"])]
        else:
            links += [(f"{path.name}: {name}", b["url"]) for name, node in data["nodes"].items()
                      for b in node.get("buttons") or [] if "url" in b]
    return links


def _plain_http(links: list[tuple[str, str]], reference: dict[str, Any]) -> list[tuple[str, str]]:
    return [(where, url) for where, url in links
            if url.startswith("http://") and url.split("/")[2] in reference["https_hosts"]]


def test_links_use_https_wherever_the_reference_shows_the_site_over_https(reference: dict[str, Any]) -> None:
    links = _links_users_open()
    assert links
    assert _plain_http(links, reference) == []
    # It can fail: SoftBank's page over http (its site serves https), but not ihaho.jp, known only over http.
    softbank = ("parent.yaml: softbank", "http://www.softbank.jp/mobile/service/filtering/anshin-filter/")
    assert _plain_http([softbank, ("services.yaml: ihaho", "http://www.ihaho.jp/")], reference) == [softbank]


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


def _unknown_urls(text: str, reference: dict[str, Any]) -> set[str]:
    """Addresses the reference does not hold; the https form of one it holds over http counts as held where the
    reference shows that site over https."""
    return {url for url in _urls(text) - reference["urls"]
            if not (url.startswith("https://") and "http://" + url[len("https://"):] in reference["urls"]
                    and url.split("/")[2] in reference["https_hosts"])}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_number_and_link_written_in_content_is_in_the_reference(path: Path, reference: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8")
    assert sorted(set(PHONE.findall(text)) - reference["numbers"]) == []
    assert sorted(_unknown_urls(text, reference)) == []


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_superseded_or_unverified_number_is_shipped(path: Path, reference: dict[str, Any]) -> None:
    text = path.read_text(encoding="utf-8")
    assert [n for n in sorted(reference["forbidden"]) if n in text] == []


def test_the_number_checks_can_fail(reference: dict[str, Any]) -> None:
    assert reference["forbidden"], "the reference marks superseded numbers; the test must see them"
    planted = "電話は 0120-99-1234 か、https://example.org/help へ"
    assert set(PHONE.findall(planted)) - reference["numbers"] == {"0120-99-1234"}
    assert _unknown_urls(planted, reference) == {"https://example.org/help"}
    # The new reference files count: a number only content-facts-2026-12.md gives, a chat only services-sns-ja.yaml
    # gives; an https form of an address known over http only where the site shows https (not ihaho.jp).
    known = "0570-090911 https://talkme.jp/chat/ https://www.softbank.jp/mobile/service/filtering/anshin-filter/"
    assert set(PHONE.findall(known)) - reference["numbers"] == set() and _unknown_urls(known, reference) == set()
    assert _unknown_urls("https://www.ihaho.jp/", reference) == {"https://www.ihaho.jp/"}

