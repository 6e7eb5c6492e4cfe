"""`anshin telegram`, `--webhook` and `setup` as real processes against the fake Bot API server, with
either framework (`--framework aiogram|ptb`)."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time

import aiohttp
import pytest
from click.testing import CliRunner

from bot.cli import main
from tests.conftest import FIXTURE_CONTENT
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.updates import Updates

SECRET = "cli-secret_0123456789abcdef"
FRAMEWORKS = ("aiogram", "ptb")
GOOD = {"ANSHIN_TELEGRAM_TOKEN": TOKEN, "ANSHIN_CONTENT": str(FIXTURE_CONTENT)}


def invoke(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    clean = {k: "" for k in ("ANSHIN_TELEGRAM_TOKEN", "ANSHIN_TELEGRAM_API", "ANSHIN_WEBHOOK_URL",
                             "ANSHIN_WEBHOOK_SECRET", "ANSHIN_HOST", "ANSHIN_PORT", "ANSHIN_LOCALE")}
    result = CliRunner().invoke(main, args, env={**clean, **env})
    return result.exit_code, result.stderr


@pytest.mark.parametrize(("args", "env", "variable"), [
    (["telegram"], {"ANSHIN_TELEGRAM_TOKEN": ""}, "ANSHIN_TELEGRAM_TOKEN"),
    (["telegram"], {"ANSHIN_TELEGRAM_TOKEN": "not-a-token"}, "ANSHIN_TELEGRAM_TOKEN"),
    (["telegram", "setup"], {"ANSHIN_TELEGRAM_TOKEN": "12:short"}, "ANSHIN_TELEGRAM_TOKEN"),
    (["telegram"], {**GOOD, "ANSHIN_TELEGRAM_API": "ftp://x"}, "ANSHIN_TELEGRAM_API"),
    (["telegram", "--webhook"], GOOD, "ANSHIN_WEBHOOK_URL"),
    (["telegram", "--webhook"], {**GOOD, "ANSHIN_WEBHOOK_URL": "example.org/hook"}, "ANSHIN_WEBHOOK_URL"),
    (["telegram", "--webhook"], {**GOOD, "ANSHIN_WEBHOOK_URL": "https://e.org/h"}, "ANSHIN_WEBHOOK_SECRET"),
    (["telegram", "--webhook"], {**GOOD, "ANSHIN_WEBHOOK_URL": "https://e.org/h", "ANSHIN_WEBHOOK_SECRET": "short"},
     "ANSHIN_WEBHOOK_SECRET"),
    (["telegram", "--webhook"], {**GOOD, "ANSHIN_WEBHOOK_URL": "https://e.org/h", "ANSHIN_WEBHOOK_SECRET": SECRET,
                                 "ANSHIN_PORT": "80000"}, "ANSHIN_PORT"),
    (["telegram"], {**GOOD, "ANSHIN_LOCALE": "fr"}, "ANSHIN_LOCALE"),
    (["run"], {"ANSHIN_TELEGRAM_TOKEN": "nonsense"}, "ANSHIN_TELEGRAM_TOKEN"),
    (["telegram", "--framework", "ptb"], {"ANSHIN_TELEGRAM_TOKEN": "not-a-token"}, "ANSHIN_TELEGRAM_TOKEN"),
    (["telegram", "--framework", "ptb", "--webhook"], {**GOOD, "ANSHIN_WEBHOOK_URL": "https://e.org/h"},
     "ANSHIN_WEBHOOK_SECRET"),
    (["telegram", "--framework", "ptb", "setup"], {**GOOD, "ANSHIN_LOCALE": "fr"}, "ANSHIN_LOCALE"),
])
def test_a_missing_or_malformed_setting_is_one_line_naming_it(args: list[str], env: dict[str, str],
                                                              variable: str) -> None:
    code, err = invoke(args, env)
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and variable in err
    assert "Traceback" not in err and "not-a-token" not in err and "nonsense" not in err


def test_help_documents_every_setting() -> None:
    result = CliRunner().invoke(main, ["telegram", "--help"])
    for name in ("ANSHIN_TELEGRAM_TOKEN", "ANSHIN_TELEGRAM_API", "ANSHIN_WEBHOOK_URL", "ANSHIN_WEBHOOK_SECRET",
                 "ANSHIN_HOST", "ANSHIN_PORT", "ANSHIN_LOCALE", "ANSHIN_LOG_LEVEL", "--webhook", "setup",
                 "--framework", "aiogram", "ptb"):
        assert name in result.stdout


def test_an_unknown_framework_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["telegram", "--framework", "telebot"], env={"ANSHIN_TELEGRAM_TOKEN": TOKEN})
    assert result.exit_code == 2 and "'telebot' is not one of 'aiogram', 'ptb'" in result.stderr



async def start(api: FakeBotAPI, *args: str, **env: str) -> asyncio.subprocess.Process:
    full = {**os.environ, **GOOD, "ANSHIN_TELEGRAM_API": api.base, "ANSHIN_LOG_LEVEL": "DEBUG", **env}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args, env=full, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def stop_with_sigterm(process: asyncio.subprocess.Process) -> tuple[int, str]:
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, err = await asyncio.wait_for(process.communicate(), 10)
    assert time.monotonic() - began < 5, "SIGTERM took too long"
    return process.returncode or 0, err.decode()


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_polling_answers_and_stops_cleanly_on_sigterm(api: FakeBotAPI, framework: str) -> None:
    process = await start(api, "telegram", "--framework", framework)
    await api.wait_for("getUpdates", 1, timeout=20)
    api.push(Updates(first_name="Zzcanaryname").text("/start"))
    await api.wait_for("sendMessage", 1)
    code, err = await stop_with_sigterm(process)
    assert code == 0, err
    assert "stopped" in err and "Traceback" not in err and "Zzcanaryname" not in err
    assert api.calls("deleteWebhook")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_webhook_registers_checks_the_secret_answers_and_stops_on_sigterm(api: FakeBotAPI,
                                                                                framework: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    process = await start(api, "telegram", "--framework", framework, "--webhook", ANSHIN_WEBHOOK_URL=url,
                          ANSHIN_WEBHOOK_SECRET=SECRET, ANSHIN_HOST="127.0.0.1", ANSHIN_PORT=str(port))
    [registered] = await api.wait_for("setWebhook", 1, timeout=20)
    assert registered.params["url"] == url and registered.params["secret_token"] == SECRET
    update = Updates().text("/help")
    async with aiohttp.ClientSession() as client:
        async with client.post(url, json=update) as response:
            assert response.status == 401
        async with client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "x" * 20}) as response:
            assert response.status == 401
        assert api.calls("sendMessage") == []
        async with client.post(url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}) as response:
            assert response.status == 200
    assert len(api.calls("sendMessage")) == 1
    code, err = await stop_with_sigterm(process)
    assert code == 0, err


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_setup_sets_commands_and_descriptions_per_language_and_a_default(api: FakeBotAPI,
                                                                               framework: str) -> None:
    process = await start(api, "telegram", "--framework", framework, "setup")
    out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    for method in ("setMyCommands", "setMyDescription", "setMyShortDescription"):
        assert sorted(str(r.params.get("language_code")) for r in api.calls(method)) == ["None", "en", "ja"]
    commands = {r.params.get("language_code"): r.params["commands"] for r in api.calls("setMyCommands")}
    assert [c["command"] for c in commands["en"]] == ["start", "help", "language", "privacy"]
    assert commands[None] == commands["ja"]
    assert "setMyCommands en" in out.decode()
