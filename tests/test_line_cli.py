"""`anshin line` and `anshin line setup` as real processes against the fake LINE API; settings that are
missing or malformed are one line naming the variable; `anshin run` picks LINE when its settings are set."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import FIXTURE_CONTENT
from tests.fakes.line_api import ACCESS_TOKEN, FakeLineAPI
from tests.fakes.line_events import CHANNEL_SECRET, LineUser, body, encode, sign

GOOD = {"ANSHIN_LINE_CHANNEL_SECRET": CHANNEL_SECRET, "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN,
        "ANSHIN_CONTENT": str(FIXTURE_CONTENT)}
SETTINGS = ("ANSHIN_LINE_CHANNEL_SECRET", "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN", "ANSHIN_LINE_API",
            "ANSHIN_LINE_WEBHOOK_PATH", "ANSHIN_LINE_BASIC_ID", "ANSHIN_HOST", "ANSHIN_PORT", "ANSHIN_LOCALE",
            "ANSHIN_TELEGRAM_TOKEN")


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env={**dict.fromkeys(SETTINGS, ""), **env})
    return result.exit_code, result.stderr


@pytest.mark.parametrize(("args", "env", "variable"), [
    (["line"], {}, "ANSHIN_LINE_CHANNEL_SECRET"),
    (["line"], {"ANSHIN_LINE_CHANNEL_SECRET": "not a secret!"}, "ANSHIN_LINE_CHANNEL_SECRET"),
    (["line"], {"ANSHIN_LINE_CHANNEL_SECRET": CHANNEL_SECRET}, "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN"),
    (["line"], {**GOOD, "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN": "short"}, "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN"),
    (["line"], {**GOOD, "ANSHIN_LINE_API": "ftp://x"}, "ANSHIN_LINE_API"),
    (["line"], {**GOOD, "ANSHIN_LINE_API": "api.line.me"}, "ANSHIN_LINE_API"),
    (["line"], {**GOOD, "ANSHIN_PORT": "80000"}, "ANSHIN_PORT"),
    (["line"], {**GOOD, "ANSHIN_LINE_WEBHOOK_PATH": "callback"}, "ANSHIN_LINE_WEBHOOK_PATH"),
    (["line"], {**GOOD, "ANSHIN_LINE_WEBHOOK_PATH": "/healthz"}, "ANSHIN_LINE_WEBHOOK_PATH"),
    (["line"], {**GOOD, "ANSHIN_LINE_BASIC_ID": "anshin bot"}, "ANSHIN_LINE_BASIC_ID"),
    (["line"], {**GOOD, "ANSHIN_LOCALE": "fr"}, "ANSHIN_LOCALE"),
    (["line", "setup"], {"ANSHIN_LINE_CHANNEL_ACCESS_TOKEN": "x"}, "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN"),
    (["run"], {"ANSHIN_LINE_CHANNEL_SECRET": "nonsense!", "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN": ACCESS_TOKEN},
     "ANSHIN_LINE_CHANNEL_SECRET"),
    (["run"], {**GOOD, "ANSHIN_TELEGRAM_TOKEN": "123:abc"}, "ANSHIN_TELEGRAM_TOKEN"),
])
def test_a_missing_or_malformed_setting_is_one_line_naming_it(args: list[str], env: dict[str, str],
                                                              variable: str) -> None:
    code, err = invoke(args, env)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and variable in err
    assert "Traceback" not in err and "nonsense" not in err and ACCESS_TOKEN not in err


def test_help_documents_every_setting() -> None:
    result = CliRunner().invoke(main, ["line", "--help"])
    for name in (*SETTINGS[:-1], "ANSHIN_LOG_LEVEL", "setup"):
        assert name in result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def line_api() -> AsyncIterator[FakeLineAPI]:
    api = FakeLineAPI()
    await api.start()
    yield api
    await api.stop()
    assert api.problems() == []


async def start(api: FakeLineAPI, *args: str, **env: str) -> asyncio.subprocess.Process:
    full = {**{k: v for k, v in os.environ.items() if not k.startswith("ANSHIN_")}, **GOOD,
            "ANSHIN_LINE_API": api.base, "ANSHIN_LOG_LEVEL": "DEBUG", **env}
    return await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", *args, env=full,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def until_healthy(base: str, process: asyncio.subprocess.Process, timeout: float = 30) -> float:
    began = time.monotonic()
    async with aiohttp.ClientSession() as client:
        while time.monotonic() - began < timeout:
            assert process.returncode is None, "the process ended"
            try:
                async with client.get(f"{base}/healthz") as response:
                    if response.status == 200:
                        return time.monotonic() - began
            except aiohttp.ClientConnectionError:
                await asyncio.sleep(0.05)
    raise TimeoutError("never healthy")


@pytest.mark.parametrize("command", [["line"], ["run"]])
async def test_the_webhook_answers_signed_events_and_stops_on_sigterm(line_api: FakeLineAPI,
                                                                      command: list[str]) -> None:
    port = free_port()
    process = await start(line_api, *command, ANSHIN_HOST="127.0.0.1", ANSHIN_PORT=str(port),
                          ANSHIN_LINE_WEBHOOK_PATH="/line/hook")
    base = f"http://127.0.0.1:{port}"
    await until_healthy(base, process)
    raw = encode(body(LineUser().text("/help")))
    async with aiohttp.ClientSession() as client:
        async with client.post(f"{base}/line/hook", data=raw) as response:
            assert response.status == 401
        async with client.post(f"{base}/line/hook", data=raw, headers={"X-Line-Signature": sign(raw)}) as response:
            assert response.status == 200
        async with client.get(f"{base}/metrics") as response:
            assert response.status == 200 and "anshin_topics_opened_total" in await response.text()
    assert len(line_api.replies()) == 1
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 10)
    assert time.monotonic() - began < 5, "SIGTERM took too long"
    assert process.returncode == 0, err.decode()
    assert "stopped" in err.decode() and "Traceback" not in err.decode()


async def test_setup_creates_the_rich_menus_once(line_api: FakeLineAPI) -> None:
    for run in range(2):
        process = await start(line_api, "line", "setup")
        out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        lines = out.decode().splitlines()
        assert lines and all(line.startswith("created" if run == 0 else "kept") or run == 0 for line in lines)
    assert line_api.default_menu == line_api.aliases["anshin-ja"]
    assert len(line_api.menus) == len(line_api.images) == len(line_api.aliases)


async def test_setup_that_line_refuses_is_one_line(line_api: FakeLineAPI) -> None:
    line_api.fail("getRichMenuList", 401)
    process = await start(line_api, "line", "setup")
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert err.decode().strip().splitlines()[-1] == "Error: line setup failed: ApiException (HTTP 401)"
