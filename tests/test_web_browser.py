"""The web chat in a real browser: Debian's Chromium driven by Playwright, against a real server.

Walks a teen and a parent path by clicking, switches language, presses quick exit, records every
request, and saves screenshots under artifacts/ (not compared pixel by pixel). Without
/usr/bin/chromium the tests skip locally and fail in CI (CI=true).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from bot.channels.web.app import create_app, start_web
from bot.engine import Engine
from tests.system import require

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}


class Servers:
    """The chat (for one engine) and a neutral site (quick exit's target), both on 127.0.0.1."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runners: list[web.AppRunner] = []
        neutral = web.Application()

        async def page(request: web.Request) -> web.Response:
            name = "weather" if request.path == "/" else "before"
            html = f"<!doctype html><link rel='icon' href='data:,'><title>{name}</title><p id='neutral'>{name}</p>"
            return web.Response(text=html, content_type="text/html")

        neutral.router.add_get("/", page)
        neutral.router.add_get("/before", page)
        self.neutral = f"http://127.0.0.1:{self._start(neutral)}"

    def _start(self, app: web.Application) -> int:
        runner, port = asyncio.run_coroutine_threadsafe(start_web(app), self.loop).result(10)
        self.runners.append(runner)
        return port

    def chat(self, engine: Engine) -> str:
        return f"http://127.0.0.1:{self._start(create_app(engine, exit_url=self.neutral + '/'))}/"

    def close(self) -> None:
        for runner in self.runners:
            asyncio.run_coroutine_threadsafe(runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    require(CHROMIUM.exists(), "chromium", "the web chat's browser tests")
    from playwright.sync_api import sync_playwright  # a test dependency: pip install -e '.[test]'
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def servers() -> Iterator[Servers]:
    running = Servers()
    yield running
    running.close()


@pytest.fixture(scope="module")
def chat_url(servers: Servers, fixture_engine: Engine) -> str:
    return servers.chat(fixture_engine)


class Visit:
    """One browser context: a page, every request it made and every console error."""

    def __init__(self, browser: Any, locale: str, viewport: dict[str, int]) -> None:
        self.context = browser.new_context(locale=locale, viewport=viewport, service_workers="block",
                                           reduced_motion="reduce")
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.context.on("request", lambda request: self.requests.append(request.url))
        self.context.on("response", lambda r: self.errors.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        self.page = self.context.new_page()
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, url: str) -> Any:
        self.page.goto(url)
        self.page.locator("li.msg.bot").first.wait_for()
        return self.page

    def press(self, label: str) -> None:
        """Click the current screen's button and wait for the answer."""
        count = self.page.locator("li.msg.bot").count()
        self.page.locator(".buttons button.btn", has_text=label).click()
        self.page.locator("li.msg.bot").nth(count).wait_for()

    def last(self) -> Any:
        return self.page.locator("li.msg.bot").last

    def close(self) -> None:
        hosts = {urlsplit(url).hostname for url in self.requests if not url.startswith(("data:", "about:"))}
        self.context.close()
        assert hosts <= {"127.0.0.1"}, f"requests left the machine: {sorted(h or '' for h in hosts)}"
        assert self.errors == [], f"browser console errors (CSP?): {self.errors}"


@pytest.fixture
def visit(browser: Any) -> Iterator[Callable[..., Visit]]:
    opened: list[Visit] = []

    def make(locale: str = "ja-JP", viewport: dict[str, int] = PHONE) -> Visit:
        opened.append(Visit(browser, locale, viewport))
        return opened[-1]

    yield make
    for one in opened:
        one.close()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=False)


def test_a_teen_walks_to_a_helpline_by_clicking(visit: Callable[..., Visit], chat_url: str,
                                                fixture_engine: Engine) -> None:
    t = lambda msgid: fixture_engine.content.catalogs.gettext("ja", msgid)  # noqa: E731
    v = visit("ja-JP")
    page = v.open(chat_url)
    assert page.evaluate("() => document.documentElement.lang") == "ja"
    assert page.locator("#quick-exit").inner_text() == t("web.quick_exit")
    v.press(t("start.menu.btn.teen"))
    v.press(t("teen.menu.btn.meet"))
    page.keyboard.press("Tab")  # the keyboard works too: focus is on the new message, Tab reaches its button
    assert page.evaluate("() => document.activeElement.textContent") == t("teen.meet.btn.next")
    page.keyboard.press("Enter")
    v.last().get_by_text(t("teen.meet_next")).wait_for()
    last = v.last()
    assert last.get_attribute("data-referrals") == "childline police_consultation_9110"
    assert last.locator('a[href="tel:0120997777"]').inner_text() == "0120-99-7777"
    assert last.locator('a[href="tel:%239110"]').first.inner_text() == "#9110"
    assert page.locator(".buttons").count() == 1, "only the current screen keeps buttons"
    assert last.locator("button", has_text=t("sys.btn.person")).is_visible()
    assert page.locator("#log").get_attribute("aria-live") == "polite"
    shot(page, "web-fixture-phone-ja.png")


def test_a_parent_walks_in_english_and_links_open_safely(visit: Callable[..., Visit], chat_url: str,
                                                         fixture_engine: Engine) -> None:
    t = lambda msgid: fixture_engine.content.catalogs.gettext("en", msgid)  # noqa: E731
    v = visit("en-US", DESKTOP)
    page = v.open(chat_url)
    assert page.evaluate("() => document.documentElement.lang") == "en"
    v.press(t("start.menu.btn.parent"))
    link = v.last().locator("a.btn.link")
    assert link.get_attribute("href") == "https://www.mext.go.jp/a_menu/shotou/seitoshidou/1306988.htm"
    assert link.get_attribute("target") == "_blank"
    assert link.get_attribute("rel") == "noopener noreferrer"
    v.press(t("parent.menu.btn.filtering"))
    assert v.last().locator('a[href="tel:%239110"]').count() >= 1
    v.press(t("sys.btn.person"))
    assert v.last().locator('a[href="tel:0120078310"]').count() == 1
    shot(page, "web-fixture-desktop-en.png")


def test_the_language_switch_and_the_language_screen_set_the_page_language(
        visit: Callable[..., Visit], chat_url: str, fixture_engine: Engine) -> None:
    gettext = fixture_engine.content.catalogs.gettext
    v = visit("ja-JP")
    page = v.open(chat_url)
    page.select_option("#lang-select", "en")
    v.last().get_by_text(gettext("en", "start.menu")).wait_for()
    assert page.evaluate("() => document.documentElement.lang") == "en"
    assert page.locator("#quick-exit").inner_text() == gettext("en", "web.quick_exit")
    assert page.locator("#message").get_attribute("placeholder") == gettext("en", "web.input.placeholder")
    v.press(gettext("en", "start.menu.btn.language"))
    v.press("日本語")
    page.wait_for_function("(lang) => document.documentElement.lang === lang", arg="ja")  # a function: see
    # test_web_languages.py
    assert page.locator("#send").inner_text() == gettext("ja", "web.send")
    assert page.locator("#lang-select").input_value() == "ja"


def test_quick_exit_leaves_and_back_does_not_return(visit: Callable[..., Visit], chat_url: str,
                                                    servers: Servers, fixture_engine: Engine) -> None:
    v = visit("ja-JP")
    page = v.page
    page.goto(servers.neutral + "/before")
    v.open(chat_url)
    v.press(fixture_engine.content.catalogs.gettext("ja", "start.menu.btn.teen"))
    page.locator("#message").fill("ここに書いた")
    page.mouse.wheel(0, 4000)
    box = page.locator("#quick-exit").bounding_box()
    assert box is not None and 0 <= box["y"] < PHONE["height"], "quick exit stays in view"
    page.locator("#quick-exit").click()
    page.wait_for_url(servers.neutral + "/")
    assert page.locator("#neutral").inner_text() == "weather"
    page.go_back()
    page.wait_for_load_state()
    assert page.url == servers.neutral + "/before", "Back must not return to the chat"
    assert not page.url.startswith(chat_url)


def test_typed_text_gets_an_answer_and_a_person_button(visit: Callable[..., Visit], chat_url: str,
                                                       fixture_engine: Engine) -> None:
    v = visit("ja-JP")
    page = v.open(chat_url)
    page.locator("#message").fill("こんにちは")
    page.locator("#send").click()
    page.locator("li.msg.bot").nth(1).wait_for()
    assert page.locator("li.msg.user").last.inner_text().endswith("こんにちは")
    assert v.last().locator("button", has_text=fixture_engine.content.catalogs.gettext("ja", "sys.btn.person"))


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_screenshots_of_the_shipped_content(visit: Callable[..., Visit], servers: Servers,
                                            shipped_engine: Engine, lang: str) -> None:
    """Phone-width screenshots of the real content (the README's come from here); desktop too."""
    t = lambda msgid: shipped_engine.content.catalogs.gettext(lang, msgid)  # noqa: E731
    url = servers.chat(shipped_engine)
    v = visit(lang)
    page = v.open(url)
    v.press(t("start.menu.btn.teen"))
    assert page.locator(".buttons button.btn").count() >= 2
    shot(page, f"web-phone-{lang}.png")
    page.set_viewport_size(DESKTOP)
    shot(page, f"web-desktop-{lang}.png")
