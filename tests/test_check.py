"""`anshin check`: the shipped content passes, and each kind of broken content gives its exact message."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from bot.engine import check_content, load_content
from tests.conftest import PROJECT


def test_shipped_content_has_no_errors() -> None:
    problems = check_content(load_content(PROJECT))
    assert [str(p) for p in problems if p.severity == "error"] == []


def test_fixture_content_is_clean() -> None:
    from tests.conftest import FIXTURE_CONTENT

    assert [str(p) for p in check_content(load_content(FIXTURE_CONTENT), today=date(2026, 12, 1))] == []


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture changed: {old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def strip_referrals_but(root: Path, kept: str) -> None:
    """Remove every screen's referrals except one deep screen's (start -> teen -> meet -> meet_next)."""
    for path in (root / "flows").glob("*.yaml"):
        if path.name != "services.yaml":
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            kept_lines = [line for line in lines if "referrals:" not in line or kept in line]
            path.write_text("".join(kept_lines), encoding="utf-8")


# (name, how to break the fixture, the exact problem line `anshin check` must print)
BREAKAGES: list[tuple[str, Callable[[Path], None], str]] = [
    ("unknown_target",
     lambda r: edit(r / "flows/teen.yaml", "to: pictures}", "to: pictres}"),
     "flows/teen.yaml: nodes.menu.buttons[1]: unknown target 'pictres'"),
    ("unknown_cross_flow_target",
     lambda r: edit(r / "flows/start.yaml", "to: help.now}\n      - {label: start.menu.btn.language",
                    "to: hlep.now}\n      - {label: start.menu.btn.language"),
     "flows/start.yaml: nodes.menu.buttons[3]: unknown target 'hlep.now'"),
    ("unknown_service",
     lambda r: edit(r / "flows/help.yaml", "[police_emergency_110]", "[police_110]"),
     "flows/help.yaml: nodes.now.referrals[0]: unknown service 'police_110' (see flows/services.yaml)"),
    ("unreachable_screen",
     lambda r: edit(r / "flows/school.yaml", "nodes:\n", "nodes:\n  lost:\n    text: school.menu\n"
                    "    referrals: [childline]\n"),
     "flows/school.yaml: nodes.lost: unreachable: no button or event leads to this screen"),
    ("terminal_without_referrals",
     lambda r: edit(r / "flows/teen.yaml", "    referrals: [police_consultation_9110, childline]\n", ""),
     "flows/teen.yaml: nodes.pictures: a screen with no buttons of its own must name a human service in "
     "'referrals'"),
    ("no_referral_within_two_presses",
     lambda r: strip_referrals_but(r, "[childline, police_consultation_9110]"),
     "flows/start.yaml: nodes.menu: no human service within 2 presses; add 'referrals' here or a button to a "
     "screen that has them"),
    ("service_without_source",
     lambda r: edit(r / "flows/services.yaml",
                    "  sources: [https://childline.or.jp/chat]\n", ""),
     "flows/services.yaml: services.childline.sources: missing: every service needs at least one source URL"),
    ("service_without_verified_date",
     lambda r: edit(r / "flows/services.yaml", "  sources: [https://childline.or.jp/chat]\n  verified: 2026-11-28\n",
                    "  sources: [https://childline.or.jp/chat]\n"),
     "flows/services.yaml: services.childline.verified: missing the date the facts were verified "
     "(verified: YYYY-MM-DD)"),
    ("stale_service_is_a_warning",
     lambda r: edit(r / "flows/services.yaml", "  sources: [https://childline.or.jp/chat]\n  verified: 2026-11-28\n",
                    "  sources: [https://childline.or.jp/chat]\n  verified: 2024-01-10\n"),
     "flows/services.yaml: services.childline.verified: warning: verified 2024-01-10, more than 365 days ago; "
     "re-check the facts against the operator's site"),
    ("message_missing_in_a_locale",
     lambda r: edit(r / "locales/en/LC_MESSAGES/content.po", 'msgid "teen.pictures"\nmsgstr "Don\'t send."\n', ""),
     "flows/teen.yaml: nodes.pictures.text: message id 'teen.pictures' missing in locale 'en'"),
    ("system_message_missing",
     lambda r: edit(r / "locales/ja/LC_MESSAGES/messages.po", 'msgid "sys.btn.home"', 'msgid "sys.btn.hom"'),
     "locales/ja/LC_MESSAGES/messages.po: sys.btn.home: message id 'sys.btn.home' missing in locale 'ja'"),
    ("placeholder_mismatch",
     lambda r: edit(r / "locales/en/LC_MESSAGES/messages.po", "Open right now: {service}", "Open right now: {servce}"),
     "locales/en/LC_MESSAGES/messages.po: sys.svc.open_elsewhere: message id 'sys.svc.open_elsewhere' in locale "
     "'en': placeholders differ from 'ja'"),
    ("button_id_over_64_bytes",
     lambda r: (edit(r / "flows/teen.yaml", "to: meet_next}", "to: meet_next_and_a_very_long_name_that_overflows_ids}"),
                edit(r / "flows/teen.yaml", "  meet_next:\n",
                     "  meet_next_and_a_very_long_name_that_overflows_ids:\n")),
     "flows/teen.yaml: nodes.meet: button id '1:ja:t:teen.meet:meet_next_and_a_very_long_name_that_overflows_ids' "
     "is 66 bytes, over Telegram's 64; shorten screen names"),
    ("text_over_4096_characters",
     lambda r: edit(r / "locales/en/LC_MESSAGES/content.po", 'msgstr "Call 110."', 'msgstr "' + "x" * 4100 + '"'),
     "flows/help.yaml: nodes.now: text is 4212 characters in locale 'en', over Telegram's 4096"),
    ("schema_unknown_key",
     lambda r: edit(r / "flows/parent.yaml", "    text: parent.filtering\n",
                    "    text: parent.filtering\n    txet: x\n"),
     "flows/parent.yaml: nodes.filtering: unknown key 'txet' (allowed: audience, buttons, languages, note, "
     "referrals, text)"),
    ("schema_button_without_target",
     lambda r: edit(r / "flows/parent.yaml", "{label: parent.menu.btn.filtering, to: filtering}",
                    "{label: parent.menu.btn.filtering}"),
     "flows/parent.yaml: nodes.menu.buttons[0]: needs exactly one of 'to' (a screen) or 'url' (a link)"),
    ("schema_bad_yaml",
     lambda r: edit(r / "flows/school.yaml", "nodes:\n", "nodes: [\n"),
     "flows/school.yaml: line 5: not valid YAML: expected ',' or ']', but got ':'"),
    ("flow_name_must_match_file",
     lambda r: edit(r / "flows/school.yaml", "flow: school", "flow: schools"),
     "flows/school.yaml: flow: flow name 'schools' must equal the file name 'school'"),
    ("unknown_event_screen",
     lambda r: edit(r / "flows/start.yaml", "  media: media\n", "  media: mdia\n"),
     "flows/start.yaml: events.media: unknown screen 'mdia'"),
    ("service_text_missing_in_a_new_locale",
     lambda r: shutil.copytree(r / "locales/en", r / "locales/ko") and None,
     "locales/ko/LC_MESSAGES/services.po: svc.childline.when: service text 'svc.childline.when' missing in locale "
     "'ko'"),
    ("plural_forms_must_match_cldr",
     lambda r: edit(r / "locales/ja/LC_MESSAGES/messages.po", "nplurals=1; plural=0;", "nplurals=2; plural=(n != 1);"),
     "locales/ja/LC_MESSAGES/messages.po: Plural-Forms: 'nplurals=2; plural=(n != 1);' does not match "
     "Babel's CLDR data for locale 'ja': nplurals=1; plural=0;"),
    ("label_over_20_characters_without_a_short_form",
     lambda r: edit(r / "locales/en/LC_MESSAGES/content.po", 'msgid "teen.menu.btn.meet.short"', 'msgid "x.short"'),
     "flows/teen.yaml: nodes.menu.buttons[0].label: label 'Someone wants to meet' is 21 characters in locale 'en', "
     "over LINE's 20 for a button; write a shorter wording as 'teen.menu.btn.meet.short' in "
     "locales/en/LC_MESSAGES/*.po"),
    ("short_form_over_20_characters",
     lambda r: edit(r / "locales/en/LC_MESSAGES/content.po", 'msgstr "Asked to meet up"',
                    'msgstr "Asked to meet up 🙂 now"'),
     "locales/en/LC_MESSAGES/content.po: teen.menu.btn.meet.short: short form 'Asked to meet up 🙂 now' is 23 "
     "characters in locale 'en', over LINE's 20"),
    ("a_short_form_is_not_required_in_other_locales",
     lambda r: edit(r / "locales/ja/LC_MESSAGES/messages.po", 'msgid "sys.line.menu"',
                    'msgid "start.menu.btn.teen.short"\nmsgstr "中高生"\n\nmsgid "sys.line.menu"'),
     "locales/ja/LC_MESSAGES/messages.po: sys.line.menu: 'メニュー' is fine"),
    ("rich_menu_chat_bar_over_14_characters",
     lambda r: edit(r / "locales/en/LC_MESSAGES/messages.po", 'msgstr "Menu"', 'msgstr "The menu of Anshin"'),
     "locales/en/LC_MESSAGES/messages.po: sys.line.menu: 'The menu of Anshin' is 18 characters, over LINE's 14 here"),
    ("more_buttons_than_line_shows_under_a_message",
     lambda r: edit(r / "flows/parent.yaml", "{label: parent.menu.btn.filtering, to: filtering}",
                    "\n      - ".join(["{label: parent.menu.btn.filtering, to: filtering}"] + [
                        f"{{label: parent.menu.btn.filtering, url: 'https://example.org/{n}'}}" for n in range(12)])),
     "flows/parent.yaml: nodes.menu: 16 buttons in locale 'ja', over LINE's 13 under one message"),
    ("missing_locale",
     lambda r: [p.unlink() for p in (r / "locales/en/LC_MESSAGES").glob("*.po")] and None,
     "locales: en: missing locale 'en': ja and en must be complete"),
    ("teen_screen_without_a_written_channel",
     lambda r: edit(r / "flows/teen.yaml", "referrals: [childline, police_consultation_9110]",
                    "referrals: [police_consultation_9110]"),
     "flows/teen.yaml: nodes.meet_next.referrals: a teen screen names no service that answers in writing; add a "
     "chat or LINE service that fits (see flows/services.yaml)"),
    ("opening_hours_without_closed_days",
     lambda r: edit(r / "flows/services.yaml", "  closed: [12-29..01-03]\n", ""),
     "flows/services.yaml: services.childline.closed: missing: a service with opening hours must say on which days "
     "it is closed, e.g. closed: [holidays, 12-29..01-03] (closed: [] if the reference says it also opens on "
     "holidays)"),
    ("closed_day_that_is_not_a_day",
     lambda r: edit(r / "flows/services.yaml", "  closed: [12-29..01-03]\n", "  closed: [holiday, 12-32..01-03]\n"),
     "flows/services.yaml: services.childline.closed[0]: expected 'holidays' or a period MM-DD..MM-DD (e.g. "
     "12-29..01-03), got 'holiday'"),
    ("opening_day_of_the_month_out_of_range",
     lambda r: edit(r / "flows/services.yaml", "open: [{days: [mon, tue, wed, thu, fri, sat, sun],",
                    "open: [{dates: [32],"),
     "flows/services.yaml: services.childline.open[0].dates: expected days of the month from 1 to 31, got [32]"),
]


@pytest.mark.parametrize(("name", "breakage", "expected"), BREAKAGES, ids=[b[0] for b in BREAKAGES])
def test_each_kind_of_problem_is_reported_exactly(
    content_copy: Callable[[], Path], name: str, breakage: Callable[[Path], None], expected: str
) -> None:
    root = content_copy()
    breakage(root)
    lines = [str(p) for p in check_content(load_content(root), today=date(2026, 12, 1))]
    if expected.endswith("is fine"):  # a breakage that must not be reported
        assert lines == [], "\n".join(lines)
        return
    assert expected in lines, "\n".join(lines)
    errors = [line for line in lines if "warning:" not in line]
    assert errors or "warning:" in expected
