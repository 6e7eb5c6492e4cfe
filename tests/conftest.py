"""Shared fixtures. Conventions are in tests/README.md."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest

# isort: off
from bot.channels.telegram import aiogram_types  # noqa: F401  (before any test imports aiogram, as a worker does)
# isort: on
from bot.engine import Engine, load_content
from bot.engine.render import JAPAN
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.harness import HARNESSES, Harness

PROJECT = Path(__file__).resolve().parent.parent
FIXTURE_CONTENT = Path(__file__).resolve().parent / "fixtures" / "content"
# A Wednesday noon in Japan: services with office hours are open, Childline (16:00-21:00) is not.
FIXED_NOW = datetime(2026, 6, 3, 12, 0, tzinfo=JAPAN)


# Self-contained (issue 20): a fresh clone has nothing beside it, so no test may open a file outside the repository
# (such as the research notes beside the development checkout). An audit hook sees every file this process opens;
# a test that opened one beside the repository fails, unless it is marked `reads_outside` (the one test that
# compares our copies with the notes).
_BESIDE = str(PROJECT.parent) + os.sep
# Temporary files are the tests' own, but only count as such where the repository sits right in the temporary
# folder; in a copy at /tmp/x/anshin, /tmp/x/other is beside it like any other folder.
_TEMP = {os.path.realpath(tempfile.gettempdir()), tempfile.gettempdir()}
_ALLOWED = tuple({str(PROJECT) + os.sep, sys.prefix + os.sep, sys.base_prefix + os.sep,
                  *(temp + os.sep for temp in _TEMP if temp == str(PROJECT.parent))})
_opened_beside: list[str] = []


def _watch_opens(event: str, args: tuple[object, ...]) -> None:
    if event != "open" or not args or isinstance(args[0], int) or args[0] is None:
        return
    path = os.path.abspath(os.fsdecode(args[0]))  # type: ignore[arg-type]
    if path.startswith(_BESIDE) and not path.startswith(_ALLOWED):
        _opened_beside.append(path)


if PROJECT.parent != Path(PROJECT.anchor):  # a checkout at the root of a disk has nothing "beside" it
    sys.addaudithook(_watch_opens)


@pytest.fixture(autouse=True)
def _stays_inside_the_repository(request: pytest.FixtureRequest) -> Iterator[None]:
    _opened_beside.clear()
    yield
    if _opened_beside and request.node.get_closest_marker("reads_outside") is None:
        reached = sorted(set(_opened_beside))
        pytest.fail(f"opened files outside the repository, which a fresh clone does not have: {reached[:3]}; "
                    "keep a copy in the project (see reference/README.md)")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update", action="store_true", help="rewrite golden transcripts from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update"))


@pytest.fixture(scope="session")
def fixture_engine() -> Engine:
    return Engine(load_content(FIXTURE_CONTENT), clock=lambda: FIXED_NOW)


@pytest.fixture(scope="session")
def shipped_engine() -> Engine:
    return Engine(load_content(PROJECT), clock=lambda: FIXED_NOW)


@pytest.fixture
def content_copy(tmp_path: Path) -> Callable[[], Path]:
    """A writable copy of the small fixture content, for tests that break it on purpose."""

    def make() -> Path:
        target = tmp_path / "content"
        shutil.copytree(FIXTURE_CONTENT, target)
        return target

    return make


@pytest.fixture
async def api() -> AsyncIterator[FakeBotAPI]:
    """A fake Bot API server on 127.0.0.1; after the test, every request must have kept to the spec and no
    media may have been downloaded."""
    server = FakeBotAPI()
    await server.start()
    yield server
    await server.stop()
    assert server.problems() == [], "a request broke the Bot API spec"
    assert server.calls("getFile") == [], "media must never be downloaded"


@pytest.fixture(params=sorted(HARNESSES))
async def bot(request: pytest.FixtureRequest, api: FakeBotAPI, fixture_engine: Engine) -> AsyncIterator[Harness]:
    """The bot on each Telegram harness in turn (aiogram and PTB, polling and webhook), on the fixture content,
    its calls going to ``api``."""
    harness = HARNESSES[request.param](api, fixture_engine, None)
    await harness.start()
    yield harness
    await harness.stop()
