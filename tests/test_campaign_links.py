"""Campaign links and posters: the payload reads back through the engine, the poster's QR decodes to the link."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import zxingcpp
from click.testing import CliRunner
from PIL import Image

from bot.cli import main
from bot.engine import Engine, Event, parse_payload
from bot.i18n import Catalogs
from bot.ops.links import AUDIENCES, LinkError, build_links, build_payload, check_bot_username
from bot.ops.poster import PosterError, find_font, poster_text, render_svg, wrap, write_poster
from tests.conftest import PROJECT
from tests.system import require

BOT = "AnshinExampleBot"
MENUS = {"teen": "teen.menu", "parent": "parent.menu", "school": "school.menu"}
POSTER_IDS = ("poster.line", "poster.scan", *(f"poster.title.{a}" for a in AUDIENCES))


@pytest.fixture(scope="module")
def catalogs() -> Catalogs:
    return Catalogs.load(PROJECT / "locales")


def decode(image: Image.Image) -> list[str]:
    return [result.text for result in zxingcpp.read_barcodes(image)]


@pytest.mark.parametrize("audience", sorted(AUDIENCES))
@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_campaign_link_opens_the_audience_menu_in_its_language(
        shipped_engine: Engine, audience: str, lang: str) -> None:
    payload = build_payload("spring2027", audience, lang, shipped_engine.locales)
    assert payload == f"{AUDIENCES[audience]}-{lang}-spring2027"
    request = parse_payload(payload)
    assert (request.valid, request.campaign, request.locale) == (True, "spring2027", lang)
    reply = shipped_engine.handle(Event("start", payload, lang="en" if lang == "ja" else "ja"))[0]
    assert reply.screen == MENUS[audience]
    assert all(f":{lang}:" in button_id for button_id in reply.button_ids())


def test_underscore_is_allowed_in_a_campaign_because_parse_payload_reads_it_back() -> None:
    assert parse_payload(build_payload("new_term_2027", "school", "ja")).campaign == "new_term_2027"


@pytest.mark.parametrize("campaign", ["spring-2027", "春2027", "spring 2027", "a/b", "x?start=t", "", "a" * 60])
def test_campaign_codes_a_link_cannot_carry_are_refused(campaign: str) -> None:
    with pytest.raises(LinkError):
        build_payload(campaign, "parent", "ja")


def test_the_longest_accepted_payload_is_64_characters() -> None:
    assert len(build_payload("a" * 59, "teen", "ja")) == 64
    with pytest.raises(LinkError, match="at most 59"):
        build_payload("a" * 60, "teen", "ja")


def test_unknown_audience_and_language_are_refused() -> None:
    with pytest.raises(LinkError, match="unknown audience"):
        build_payload("spring2027", "kids", "ja")
    with pytest.raises(LinkError, match="unknown language"):
        build_payload("spring2027", "teen", "fr", ["ja", "en"])


@pytest.mark.parametrize("name", ["bot", "Anshin", "anshin bot", "a" * 30 + "bot", "1anshinbot", "anshin-bot"])
def test_bad_bot_usernames_are_refused(name: str) -> None:
    with pytest.raises(LinkError):
        check_bot_username(name)


def test_links_for_telegram_and_the_web_chat() -> None:
    links = build_links("spring2027", "parent", "ja", "@" + BOT, "https://chat.example.org/anshin/")
    assert links.telegram == f"https://t.me/{BOT}?start=p-ja-spring2027"
    assert links.web == "https://chat.example.org/anshin/?start=p-ja-spring2027"
    with pytest.raises(LinkError):
        build_links("spring2027", "parent", "ja", BOT, "javascript:alert(1)")


def test_every_shipped_locale_has_the_poster_texts(catalogs: Catalogs) -> None:
    missing = [(code, msgid) for code in catalogs.locales for msgid in POSTER_IDS if not catalogs.has(code, msgid)]
    assert missing == []


def test_posters_name_no_phone_number(catalogs: Catalogs) -> None:
    texts = [catalogs.gettext(code, msgid) for code in catalogs.locales for msgid in POSTER_IDS]
    assert [t for t in texts if re.search(r"\d{2,}", t)] == []


def test_japanese_wraps_between_characters_but_never_before_a_full_stop() -> None:
    assert wrap("あいうえお。かきくけこ", 6, len) == ["あいうえお。", "かきくけこ"]
    assert wrap("あいうえお。かきくけこ", 5, len) == ["あいうえ", "お。かきく", "けこ"]
    assert wrap("one two three", 7, len) == ["one two", "three"]


def _has_font() -> bool:
    try:
        find_font()
    except PosterError:
        return False
    return True


@pytest.mark.parametrize("audience", sorted(AUDIENCES))
def test_the_png_poster_is_a4_and_its_qr_decodes_to_the_link(catalogs: Catalogs, tmp_path: Path,
                                                             audience: str) -> None:
    require(_has_font(), "fonts-noto-cjk", "a PNG poster (a Japanese font)")
    links = build_links("spring2027", audience, "ja", BOT)
    path = write_poster(tmp_path / "poster.png", links.telegram, poster_text(catalogs, "ja", audience, links.telegram))
    image = Image.open(path)
    width_in, height_in = (side / dpi for side, dpi in zip(image.size, image.info["dpi"], strict=True))
    assert (round(width_in * 25.4), round(height_in * 25.4)) == (210, 297)
    assert decode(image) == [links.telegram]


def test_the_svg_poster_carries_the_texts_and_a_qr_that_decodes_to_the_link(catalogs: Catalogs) -> None:
    links = build_links("spring2027", "teen", "en", BOT)
    text = poster_text(catalogs, "en", "teen", links.telegram)
    svg = render_svg(links.telegram, text)
    assert 'width="210mm" height="297mm"' in svg
    shown = " ".join(re.findall(r"<text [^>]*>([^<]*)</text>", svg))
    assert "Worried about something online? Ask Anshin" in shown
    assert "It keeps nothing: not your name, not what you write" in shown
    # Paint the SVG's own QR squares, four modules of quiet zone included, and read them back.
    modules = int(re.search(r'<g id="qr"[^>]*><rect width="(\d+)"', svg).group(1))  # type: ignore[union-attr]
    scale = 8
    image = Image.new("L", (modules * scale, modules * scale), 255)
    for x, y in re.findall(r"M(\d+) (\d+)h1v1h-1z", svg):
        image.paste(0, (int(x) * scale, int(y) * scale, (int(x) + 1) * scale, (int(y) + 1) * scale))
    assert decode(image) == [links.telegram]


def test_the_qr_check_can_fail() -> None:
    assert decode(Image.new("L", (200, 200), 255)) == []


def test_a_missing_font_names_the_package_to_install(tmp_path: Path) -> None:
    with pytest.raises(PosterError, match="apt-get install -y fonts-noto-cjk"):
        find_font([tmp_path])


def test_cli_prints_both_links_and_writes_the_poster(tmp_path: Path) -> None:
    poster = tmp_path / "school.svg"
    result = CliRunner().invoke(main, ["link", "--campaign", "spring2027", "--audience", "school", "--lang", "ja",
                                       "--bot-username", BOT, "--web-url", "https://chat.example.org",
                                       "--qr", str(poster)])
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "payload:  s-ja-spring2027",
        f"telegram: https://t.me/{BOT}?start=s-ja-spring2027",
        "web:      https://chat.example.org/?start=s-ja-spring2027",
        f"poster:   {poster}",
    ]
    assert "学校と先生のための" in poster.read_text(encoding="utf-8")


@pytest.mark.parametrize("args", [
    ["--campaign", "spring-2027", "--audience", "teen"],
    ["--campaign", "spring2027", "--audience", "kids"],
    ["--campaign", "spring2027", "--audience", "teen", "--lang", "fr"],
    ["--campaign", "spring2027", "--audience", "teen", "--qr", "poster.pdf"],
])
def test_cli_refuses_bad_options_with_exit_code_2(args: list[str]) -> None:
    result = CliRunner().invoke(main, ["link", "--bot-username", BOT, *args])
    assert result.exit_code == 2
    assert "Error:" in result.stderr


# --- LINE (issue 17) -------------------------------------------------------------------------------------------


def test_line_links_add_the_friend_and_open_the_chat_with_the_campaign_text() -> None:
    from urllib.parse import unquote, urlsplit

    from bot.ops.links import build_line_links

    links = build_line_links("spring2027", "parent", "en", "@anshin")
    assert links.friend == "https://line.me/R/ti/p/@anshin"
    assert links.chat == "https://line.me/R/oaMessage/@anshin/?%2Fstart%20p-en-spring2027"
    assert unquote(urlsplit(links.chat).query) == "/start p-en-spring2027"
    assert build_line_links("spring2027", "parent", "en", "anshin").chat == links.chat
    for bad in ("@", "@an shin", "@アンシン", "a/b"):
        with pytest.raises(LinkError):
            build_line_links("spring2027", "parent", "en", bad)


async def test_the_text_a_line_campaign_link_prefills_opens_its_menu_and_is_counted(shipped_engine: Engine) -> None:
    """What the oaMessage link types in, sent through the LINE channel: the audience's menu, in the link's
    language, and the campaign counted."""
    from urllib.parse import unquote, urlsplit

    from bot.metrics import ReachMetrics
    from bot.ops.links import build_line_links
    from tests.fakes.line_api import FakeLineAPI
    from tests.fakes.line_events import LineUser
    from tests.fakes.line_harness import LineHarness

    links = build_line_links("spring2027", "school", "en", "@anshin", shipped_engine.locales)
    metrics = ReachMetrics.for_engine(shipped_engine, ["spring2027"])
    api = FakeLineAPI()
    await api.start()
    try:
        async with LineHarness(api, shipped_engine, metrics=metrics) as line:
            assert await line.send(LineUser().text(unquote(urlsplit(links.chat).query))) == 200
    finally:
        await api.stop()
    [reply] = api.replies()
    expected = shipped_engine.handle(Event("start", links.payload))[0]
    assert expected.screen == "school.menu" and reply.body["messages"][0]["text"] == expected.text
    assert 'anshin_starts_total{audience="school",campaign="spring2027",locale="en"} 1.0' in \
        metrics.exposition().decode()


def test_cli_prints_the_line_links_and_the_poster_opens_the_chat(tmp_path: Path) -> None:
    poster = tmp_path / "parent.png"
    result = CliRunner().invoke(main, ["link", "--channel", "line", "--campaign", "spring2027", "--audience",
                                       "parent", "--lang", "ja", "--web-url", "https://chat.example.org",
                                       "--qr", str(poster)], env={"ANSHIN_LINE_BASIC_ID": "@anshin"})
    assert result.exit_code == 0, result.output
    chat = "https://line.me/R/oaMessage/@anshin/?%2Fstart%20p-ja-spring2027"
    assert result.stdout.splitlines() == [
        "payload:  p-ja-spring2027", f"line:     {chat}", "friend:   https://line.me/R/ti/p/@anshin",
        "web:      https://chat.example.org/?start=p-ja-spring2027", f"poster:   {poster}"]
    assert decode(Image.open(poster)) == [chat]
    missing = CliRunner().invoke(main, ["link", "--channel", "line", "--campaign", "x", "--audience", "teen"],
                                 env={"ANSHIN_LINE_BASIC_ID": ""})
    assert missing.exit_code == 2 and "ANSHIN_LINE_BASIC_ID" in missing.stderr
