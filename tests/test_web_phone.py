"""The web chat on a small phone (360x740, Chromium), light and dark, on the shipped content: only the chat scrolls
(never the document), the first words of each new answer are on screen, quick exit stays on screen however far
the chat is scrolled and is the first stop of Tab (Esc works it too), the privacy note is visible on first load,
the brand is not cut, and every text keeps a contrast of 4.5:1 or more."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bot.engine import Engine
from tests.test_web_browser import ARTIFACTS, Servers, Visit, browser, servers, visit  # noqa: F401  (fixtures)

SMALL_PHONE = {"width": 360, "height": 740}
# Text against its own background, as the page computes them: (selector, what it is).
CONTRAST = [("#quick-exit", "quick exit"), (".brand", "brand"), ("#privacy-note", "privacy note"),
            ("li.msg.bot .text", "answer"), (".buttons button.btn", "button"), ("#send", "send"),
            ("#message", "input")]

# The WCAG contrast ratio of an element's text colour against the first opaque background behind it.
CONTRAST_JS = """(selector) => {
  const rgb = (c) => c.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92
    : Math.pow((v + 0.055) / 1.055, 2.4); }).reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
  const node = document.querySelector(selector);
  let back = node, bg = null;
  while (back) {
    const c = getComputedStyle(back).backgroundColor;
    if (rgb(c).length === 3 || rgb(c)[3] > 0.99) { bg = rgb(c).slice(0, 3); break; }
    back = back.parentElement;
  }
  const fg = rgb(getComputedStyle(node).color).slice(0, 3);
  const [a, b] = [lum(fg), lum(bg || [255, 255, 255])].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}"""

# Whether the first line of the element's text is on screen: inside the chat's visible area, not under the bar
# or the input dock, and what the page shows at that point is that text.
FIRST_LINE_JS = """(node) => {
  const text = node.querySelector('.text');
  const box = text.getBoundingClientRect();
  const line = parseFloat(getComputedStyle(text).lineHeight) || 24;
  const bar = document.querySelector('.bar').getBoundingClientRect();
  const dock = document.querySelector('.dock').getBoundingClientRect();
  const x = box.left + 8, y = box.top + line / 2;
  const seen = document.elementFromPoint(x, y);
  return box.top >= bar.bottom - 1 && box.top + line <= dock.top + 1 && !!seen && text.contains(seen);
}"""

ON_SCREEN_JS = """(selector) => {
  const node = document.querySelector(selector);
  const box = node.getBoundingClientRect();
  if (box.top < 0 || box.left < 0 || box.bottom > innerHeight || box.right > innerWidth) return false;
  const seen = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  return !!seen && (seen === node || node.contains(seen));
}"""


def document_scrolls(page: Any) -> bool:
    return bool(page.evaluate("() => document.scrollingElement.scrollHeight > innerHeight + 1 || scrollY > 0"))


@pytest.fixture(params=["light", "dark"])
def phone(request: pytest.FixtureRequest, visit: Callable[..., Visit]) -> Visit:  # noqa: F811
    made = visit("ja-JP", SMALL_PHONE)
    made.page.emulate_media(color_scheme=request.param)
    return made


@pytest.fixture(scope="module")
def shipped_url(servers: Servers, shipped_engine: Engine) -> str:  # noqa: F811
    return servers.chat(shipped_engine)


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_a_teens_path_reads_right_on_a_small_phone(phone: Visit, shipped_url: str, shipped_engine: Engine,
                                                   lang: str) -> None:
    t = lambda msgid: shipped_engine.content.catalogs.gettext(lang, msgid)  # noqa: E731
    page = phone.open(shipped_url + f"?lang={lang}")
    assert page.evaluate(ON_SCREEN_JS, "#privacy-note"), "the privacy note is visible on first load"
    assert page.evaluate("() => { const b = document.querySelector('.brand'); return b.scrollWidth <= "
                         "b.clientWidth; }"), "the brand is not cut"
    assert not document_scrolls(page)
    for step in range(4):  # the teen menu, then the first topic of each screen (long answers), whatever they are
        label = t("start.menu.btn.teen") if step == 0 else page.locator(".buttons button.btn").first.inner_text()
        phone.press(label)
        page.wait_for_timeout(100)
        newest = page.locator("li.msg.bot").last
        assert newest.evaluate(FIRST_LINE_JS), f"the first words of the answer to {label!r} are on screen"
        assert not document_scrolls(page), "only the chat scrolls, never the page"
        assert page.evaluate(ON_SCREEN_JS, "#quick-exit")
    page.mouse.move(180, 400)
    for delta in (4000, -8000, 2500):
        page.mouse.wheel(0, delta)
        page.wait_for_timeout(150)
        assert page.evaluate(ON_SCREEN_JS, "#quick-exit"), "quick exit stays on screen however far one scrolls"
        assert page.evaluate(ON_SCREEN_JS, "#message"), "and so does the input"
        assert not document_scrolls(page)
    dark = page.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-phone-360-{lang}-{'dark' if dark else 'light'}.png"))


def test_every_text_has_a_contrast_of_at_least_4_5(phone: Visit, shipped_url: str, shipped_engine: Engine) -> None:
    page = phone.open(shipped_url)
    phone.press(shipped_engine.content.catalogs.gettext("ja", "start.menu.btn.teen"))
    ratios = {name: round(page.evaluate(CONTRAST_JS, selector), 2) for selector, name in CONTRAST}
    assert all(ratio >= 4.5 for ratio in ratios.values()), ratios


def test_quick_exit_is_the_first_tab_stop_and_esc_works_it(phone: Visit, chat_url: str,
                                                           servers: Servers) -> None:  # noqa: F811
    page = phone.open(chat_url)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.id") == "quick-exit"
    assert page.locator("#quick-exit").get_attribute("aria-keyshortcuts") == "Escape"
    page.locator("#message").fill("ここに書いた")
    page.locator("#message").focus()
    page.keyboard.press("Escape")  # from anywhere, the input included
    page.wait_for_url(servers.neutral + "/")


def test_the_contrast_check_can_fail(visit: Callable[..., Visit]) -> None:  # noqa: F811
    page = visit("ja-JP", SMALL_PHONE).page
    page.set_content("<p id='pale' style='color:#bbb;background:#fff'>pale</p>"
                     "<p id='firm' style='color:#222;background:#fff'>firm</p>")
    assert page.evaluate(CONTRAST_JS, "#pale") < 4.5 < page.evaluate(CONTRAST_JS, "#firm")


@pytest.fixture(scope="module")
def chat_url(servers: Servers, fixture_engine: Engine) -> str:  # noqa: F811
    return servers.chat(fixture_engine)



def test_the_bar_fits_a_small_phone_in_every_language(visit: Callable[..., Visit], shipped_url: str,  # noqa: F811
                                                     shipped_engine: Engine) -> None:
    """Quick exit's label is longer in some languages: the brand and quick exit stay whole, the menu gives way."""
    v = visit("ja-JP", SMALL_PHONE)
    cut: dict[str, str] = {}
    for locale in shipped_engine.locales:
        page = v.open(shipped_url + f"?lang={locale}")
        label = shipped_engine.content.catalogs.gettext(locale, "web.quick_exit")
        page.wait_for_function("(label) => document.querySelector('#quick-exit').textContent === label", arg=label)
        for selector in (".brand", "#quick-exit"):
            whole = page.evaluate(f"() => {{ const n = document.querySelector('{selector}'); "
                                  "return n.scrollWidth <= n.clientWidth; }")
            if not (whole and page.evaluate(ON_SCREEN_JS, selector)):
                cut[locale] = selector
    assert cut == {}, cut
