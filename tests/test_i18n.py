"""Languages: client codes negotiate to shipped locales, /start payloads carry a locale, plural forms are checked,
and the Easy Japanese catalogue is complete.

Negotiation tests use a temporary locales directory with tiny catalogues, so they do not depend on how far the
translators of each language have come.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.engine import Engine, Event, check_content, load_content, parse_payload
from bot.engine.check import completeness
from bot.i18n import Catalogs
from bot.i18n.catalogs import PluralForms
from tests.conftest import FIXED_NOW, PROJECT

ALL = ("ja", "en", "ja_Easy", "pt_BR", "zh_Hans", "fil", "ne", "ko", "vi")
PLURALS = {"ja": "nplurals=1; plural=0;", "en": "nplurals=2; plural=(n != 1);", "ja_Easy": "nplurals=1; plural=0;",
           "pt_BR": "nplurals=3; plural=(n == 0 || n == 1) ? 0 : n != 0 && n % 1000000 == 0 ? 1 : 2;",
           "zh_Hans": "nplurals=1; plural=0;", "fil": "nplurals=2; plural=(n != 1);",
           "ne": "nplurals=2; plural=(n != 1);", "ko": "nplurals=1; plural=0;", "vi": "nplurals=1; plural=0;"}


def write_po(root: Path, code: str, entries: dict[str, str], header: str | None = None, name: str = "messages") -> None:
    folder = root / code / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    head = header if header is not None else f"Language: {code}\\nPlural-Forms: {PLURALS.get(code, '')}\\n"
    body = "".join(f'msgid "{k}"\nmsgstr "{v}"\n\n' for k, v in entries.items())
    (folder / f"{name}.po").write_text(f'msgid ""\nmsgstr "{head}"\n\n{body}', encoding="utf-8")


def tiny(tmp_path: Path, codes: tuple[str, ...] = ALL, default: str = "ja") -> Catalogs:
    for code in codes:
        write_po(tmp_path, code, {"hello": f"hello {code}"})
    return Catalogs.load(tmp_path, default=default)


@pytest.mark.parametrize(("client", "expected"), [
    ("pt-BR", "pt_BR"), ("pt_br", "pt_BR"), ("pt", "pt_BR"), ("pt-PT", "pt_BR"),
    ("zh-Hans", "zh_Hans"), ("zh-hans", "zh_Hans"), ("zh-CN", "zh_Hans"), ("zh-SG", "zh_Hans"), ("zh", "zh_Hans"),
    ("zh-TW", "zh_Hans"), ("zh-Hant", "zh_Hans"), ("zh-HK", "zh_Hans"),
    ("fil", "fil"), ("tl", "fil"), ("fil-PH", "fil"), ("tl-PH", "fil"),
    ("ja-JP", "ja"), ("ja", "ja"), ("ne-NP", "ne"), ("ko-KR", "ko"), ("vi-VN", "vi"),
    ("en-US", "en"), ("en-GB", "en"), ("EN", "en"),
    ("fr", "ja"), ("xx", "ja"), ("", "ja"), (None, "ja"), ("123", "ja"), ("a" * 300, "ja"), ("ja_Easy_x", "ja"),
    ("ja_Easy", "ja_Easy"), ("ja-easy", "ja_Easy"),  # named exactly: the language menu and the web page's ?lang=
])
def test_client_codes_negotiate_to_shipped_locales(tmp_path: Path, client: str | None, expected: str) -> None:
    assert tiny(tmp_path).negotiate(client) == expected


@pytest.mark.parametrize(("header", "expected"), [
    ("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7", "vi"),
    ("fr-FR,fr;q=0.9,pt;q=0.8", "pt_BR"),
    ("de;q=0.9, ko;q=0.95", "ko"),
    ("en;q=0, ne", "ne"),
    ("*, fr", "ja"),
    ("zh-TW;q=bad, en", "en"),
])
def test_accept_language_headers_try_each_preference_by_quality(tmp_path: Path, header: str, expected: str) -> None:
    assert tiny(tmp_path).negotiate(header) == expected


def test_only_shipped_locales_are_chosen(tmp_path: Path) -> None:
    catalogs = tiny(tmp_path, ("ja", "en"))
    for client in ("pt-BR", "zh-CN", "tl", "ko-KR", "vi-VN", "ne-NP", "ja-JP"):
        assert catalogs.negotiate(client) in ("ja", "en")
        assert catalogs.negotiate(client) == "ja"


def test_easy_japanese_is_never_guessed_from_a_japanese_client(tmp_path: Path) -> None:
    catalogs = tiny(tmp_path, ("en", "ja_Easy"), default="en")  # even with no plain Japanese shipped
    for client in ("ja", "ja-JP", "ja_JP", "ja,en;q=0.1"):
        assert catalogs.negotiate(client) == "en", client
    assert catalogs.negotiate("ja_Easy") == "ja_Easy"


@pytest.mark.parametrize(("payload", "audience", "locale", "campaign"), [
    ("t-ja_Easy", "t", "ja_Easy", None), ("p-ja_Easy-spring2027", "p", "ja_Easy", "spring2027"),
    ("p-pt_BR-escola_1", "p", "pt_BR", "escola_1"), ("s-zh_Hans-x", "s", "zh_Hans", "x"),
    ("teen-fil", "t", "fil", None),
])
def test_payloads_carry_locales_with_a_region_or_variant(payload: str, audience: str, locale: str,
                                                         campaign: str | None) -> None:
    request = parse_payload(payload)
    assert (request.valid, request.audience, request.locale, request.campaign) == (True, audience, locale, campaign)


@pytest.fixture
def multilingual(content_copy: Callable[[], Path]) -> Path:
    """The fixture content with three more locales, each a copy of Japanese or English that names itself."""
    root = content_copy()
    for code, source, name in (("ja_Easy", "ja", "やさしい にほんご"), ("pt_BR", "en", "Português"),
                               ("zh_Hans", "en", "简体中文")):
        shutil.copytree(root / "locales" / source, root / "locales" / code)
        for po in (root / "locales" / code / "LC_MESSAGES").glob("*.po"):
            text = po.read_text(encoding="utf-8").replace(f"Language: {source}\\n", f"Language: {code}\\n")
            text = text.replace(PLURALS[source], PLURALS[code])
            if po.name == "messages.po":
                text = re.sub(r'(msgid "sys.language_name"\nmsgstr ")[^"]*', rf"\g<1>{name}", text)
            po.write_text(text, encoding="utf-8")
        services = load_content(root).services
        entries = {f"svc.{sid}.{field}": f"{sid} {field} {code}" for sid in services for field in ("name", "hours",
                                                                                                   "when")}
        write_po(root / "locales", code, entries, f"Language: {code}\\nPlural-Forms: {PLURALS[code]}\\n", "services")
    return root


@pytest.mark.parametrize("code", ["ja_Easy", "pt_BR", "zh_Hans"])
def test_a_start_payload_opens_the_bot_in_that_locale(multilingual: Path, code: str) -> None:
    engine = Engine(load_content(multilingual), clock=lambda: FIXED_NOW)
    (reply,) = engine.handle(Event("start", f"t-{code}-spring2027", "en-US"))
    assert reply.screen == "teen.menu"
    assert reply.button_ids() and all(i.startswith(f"1:{code}:t:") for i in reply.button_ids())
    (after,) = engine.handle(Event("press", reply.button_ids()[0], "en-US"))
    assert all(i.startswith(f"1:{code}:") for i in after.button_ids()), "the button keeps the locale"


def test_the_language_menu_lists_each_locale_in_its_own_script(multilingual: Path) -> None:
    engine = Engine(load_content(multilingual), clock=lambda: FIXED_NOW)
    (menu,) = engine.handle(Event("command", "language"))
    labels = {b.label: b.id for row in menu.buttons for b in row}
    assert {"日本語", "English", "やさしい にほんご", "Português", "简体中文"} <= set(labels)
    assert (labels["やさしい にほんご"] or "").startswith("1:ja_Easy:")


def test_new_locales_pass_the_check_and_report_their_completeness(multilingual: Path) -> None:
    content = load_content(multilingual)
    assert [str(p) for p in check_content(content, today=date(2026, 12, 1))] == []
    counts = completeness(content)
    ja_have, ja_need = counts["ja"]
    assert ja_have == ja_need and counts["ja_Easy"] == (ja_need + 3 * len(content.services),) * 2


def test_completeness_counts_missing_texts(multilingual: Path) -> None:
    po = multilingual / "locales/ja_Easy/LC_MESSAGES/messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "sys.btn.home"', 'msgid "sys.btn.hom"'),
                  encoding="utf-8")
    content = load_content(multilingual)
    have, need = completeness(content)["ja_Easy"]
    assert have == need - 1
    assert ("locales/ja_Easy/LC_MESSAGES/messages.po: sys.btn.home: message id 'sys.btn.home' missing in locale "
            "'ja_Easy'") in [str(p) for p in check_content(content, today=date(2026, 12, 1))]


def test_texts_outside_the_flows_are_required_in_every_locale(content_copy: Callable[[], Path]) -> None:
    root = content_copy()
    for code in ("ja", "en"):
        with (root / f"locales/{code}/LC_MESSAGES/messages.po").open("a", encoding="utf-8") as po:
            po.write(f'\nmsgid "web.only"\nmsgstr "page text {code}"\n')
    assert [str(p) for p in check_content(load_content(root), today=date(2026, 12, 1))] == []
    po = root / "locales/en/LC_MESSAGES/messages.po"
    po.write_text(po.read_text(encoding="utf-8").replace('msgid "web.only"', 'msgid "web.onl"'), encoding="utf-8")
    assert ("locales/en/LC_MESSAGES/messages.po: web.only: message id 'web.only' missing in locale 'en'"
            in [str(p) for p in check_content(load_content(root), today=date(2026, 12, 1))])


@pytest.mark.parametrize(("header", "expected"), [
    ("Language: ja\\nPlural-Forms: nplurals=1; plural=0;\\n", []),
    ("Language: ja\\n", []),  # no Plural-Forms: Babel derives them from the language
    ("", []),  # neither: nothing to check against
    ("Language: ja\\nPlural-Forms: nplurals=1; plural=n +;\\n",
     ["'nplurals=1; plural=n +;': plural expression does not parse: unexpected end of plural form"]),
    ("Language: ja\\nPlural-Forms: nplurals=1; plural=(n != 1);\\n",
     ["'nplurals=1; plural=(n != 1);': gives form 1 for n=0, but there are 1"]),
    ("Language: ja\\nPlural-Forms: nplurals=2; plural=n / 0;\\n",
     ["'nplurals=2; plural=n / 0;': fails for n=0: integer division or modulo by zero",
      "'nplurals=2; plural=n / 0;' does not match Babel's CLDR data for locale 'ja': nplurals=1; plural=0;"]),
    ("Language: en\\n",  # a copied English header under ja
     ["'nplurals=2; plural=(n != 1);' does not match Babel's CLDR data for locale 'ja': "
      "nplurals=1; plural=0;"]),
])
def test_plural_forms_must_parse_and_match_cldr(content_copy: Callable[[], Path], header: str,
                                                expected: list[str]) -> None:
    root = content_copy()
    write_po(root / "locales", "ja", {}, header, name="zz_plural")
    lines = [str(p) for p in check_content(load_content(root), today=date(2026, 12, 1))]
    assert sorted(lines) == sorted(f"locales/ja/LC_MESSAGES/zz_plural.po: Plural-Forms: {line}" for line in expected)


def test_plural_forms_are_read_for_easy_japanese_and_unknown_languages(tmp_path: Path) -> None:
    write_po(tmp_path, "ja", {"a": "b"})
    write_po(tmp_path, "ja_Easy", {"a": "b"})
    write_po(tmp_path, "tlh", {"a": "b"}, "Plural-Forms: nplurals=3; plural=n % 3;\\n")
    forms = {f.locale: f for f in Catalogs.load(tmp_path).plural_forms}
    assert forms["ja_Easy"].file.endswith("ja_Easy/LC_MESSAGES/messages.po")
    assert (forms["ja_Easy"].count, forms["ja_Easy"].expression) == (1, "0")
    assert (forms["tlh"].count, forms["tlh"].expression) == (3, "n % 3")
    assert isinstance(forms["tlh"], PluralForms)


# --- the shipped Easy Japanese catalogue -------------------------------------------------------------------------

EASY = PROJECT / "locales" / "ja_Easy" / "LC_MESSAGES"
JA = PROJECT / "locales" / "ja" / "LC_MESSAGES"


def entries(folder: Path) -> dict[str, str]:
    table: dict[str, str] = {}
    for path in sorted(folder.glob("*.po")):
        with path.open("rb") as handle:
            table.update({m.id: m.string for m in read_po(handle) if m.id and isinstance(m.string, str)})
    return table


def test_easy_japanese_has_every_japanese_message_and_every_service_text(shipped_engine: Engine) -> None:
    easy, japanese = entries(EASY), entries(JA)
    assert sorted(set(japanese) - set(easy)) == []
    services = shipped_engine.content.services
    assert sorted({f"svc.{s}.{f}" for s in services for f in ("name", "hours", "when")} - set(easy)) == []
    assert all(text.strip() for text in easy.values())
    assert easy["sys.language_name"] == "やさしい にほんご"


def test_easy_japanese_headers_record_machine_assistance() -> None:
    for path in sorted(EASY.glob("*.po")):
        text = path.read_text(encoding="utf-8")
        assert "machine-assisted" in text.split('msgid ""')[0] and "native review" in text.split('msgid ""')[0]
        assert '"Language: ja_Easy\\n"' in text and '"Plural-Forms: nplurals=1; plural=0;\\n"' in text


FACTS = re.compile(r"https?://\S+|#?\d[-\d:.~]*|[\U0001F300-\U0001FAFF\u2600-\u27BF]")
# Easy Japanese says "16歳未満" as "16歳より下(15歳まで)": the last age in parentheses explains, it adds no fact.
AGE_GLOSS = re.compile(r"(\d+)歳より下[((]\d+歳まで[))]")


def facts(text: str) -> set[str]:
    """Numbers (phone numbers, hours, ages, dates), URLs and emoji: what a rewording must not change."""
    text = AGE_GLOSS.sub(r"\1歳より下", text)
    return {f.rstrip(".") for f in FACTS.findall(text.replace("~", "~"))}


def test_easy_japanese_keeps_every_number_url_and_emoji(shipped_engine: Engine) -> None:
    easy, japanese = entries(EASY), entries(JA)
    for msgid, source in japanese.items():
        assert facts(source) == facts(easy[msgid]), msgid
    for service in shipped_engine.content.services.values():
        for field_name in ("name", "hours", "when"):
            msgid = f"svc.{service.id}.{field_name}"
            assert facts(getattr(service, field_name)["ja"]) == facts(easy[msgid]), msgid


READINGS = {"警察": "けいさつ", "相談": "そうだん", "被害": "ひがい", "削除": "さくじょ", "虐待": "ぎゃくたい",
            "通報": "つうほう", "証拠": "しょうこ", "保護者": "ほごしゃ", "窓口": "まどぐち", "信頼": "しんらい"}


@pytest.mark.parametrize(("word", "reading"), sorted(READINGS.items()))
def test_hard_words_get_their_reading_the_first_time_in_each_text(word: str, reading: str) -> None:
    for msgid, text in entries(EASY).items():
        # 「labels」 are written as the screen shows them, without readings
        unquoted = re.sub(r"「[^」]*」", lambda m: "_" * len(m.group()), text)
        if word in unquoted:
            after = text[unquoted.index(word) + len(word):]
            # the reading follows the word, or the longer word it is part of (児童相談所(じどうそうだんじょ))
            assert re.match(r"[一-龥々ァ-ヶー]{0,6}[((][ぁ-ゖァ-ヶー・ ]+[))]", after), (
                f"{msgid}: {word} without a reading such as ({reading}) at its first use")
