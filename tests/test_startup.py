"""Start-up does only what it must (issue 20): the content stamp, the safety layer built when text is first read,
and one-line errors for the usual mistakes. Speed itself is measured by tests/bench/startup.py, not here."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.engine import ContentError, Engine, load_content
from bot.engine import stamp as stamps
from tests.conftest import PROJECT
from tests.fakes.bot_api import FakeBotAPI

TOKEN = "123456789:AAH-startup-token-not-real_0123456789"


def test_the_shipped_content_is_stamped_as_checked() -> None:
    assert stamps.is_stamped(PROJECT), "flows/checked.sha256 is not current: run `anshin check --stamp` and commit it"


@pytest.fixture
def shipped_copy(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    for part in ("flows", "locales"):
        shutil.copytree(PROJECT / part, root / part)
    return root


def test_a_stamp_vouches_for_exactly_the_content_it_was_written_for(shipped_copy: Path) -> None:
    assert load_content(shipped_copy).stamped, "a copy of the stamped content is the same content"
    catalogue = shipped_copy / "locales" / "en" / "LC_MESSAGES" / "content.po"
    text = catalogue.read_text(encoding="utf-8")
    first = text.index('msgstr "', text.index('msgid "teen.menu'))
    catalogue.write_text(text[:first] + 'msgstr "' + "x" * 5000 + text[first + len('msgstr "'):], encoding="utf-8")
    changed = load_content(shipped_copy)
    assert not changed.stamped
    with pytest.raises(ContentError, match="over Telegram's 4096"):
        Engine(changed)  # the full check ran again: content `anshin check` rejects is never served


def test_check_writes_the_stamp_only_when_asked_and_when_sound(shipped_copy: Path) -> None:
    (shipped_copy / stamps.STAMP_FILE).unlink()
    runner = CliRunner()
    plain = runner.invoke(main, ["check", "--root", str(shipped_copy)])
    assert plain.exit_code == 0 and "is not current" in plain.stdout
    assert not (shipped_copy / stamps.STAMP_FILE).exists()
    stamped = runner.invoke(main, ["check", "--root", str(shipped_copy), "--stamp"])
    assert stamped.exit_code == 0 and "stamp: flows/checked.sha256 written" in stamped.stdout
    assert load_content(shipped_copy).stamped
    (shipped_copy / "flows" / "teen.yaml").write_text("flow: [broken", encoding="utf-8")
    broken = runner.invoke(main, ["check", "--root", str(shipped_copy), "--stamp"])
    assert broken.exit_code == 1 and "stamp:" not in broken.stdout


def test_the_digest_covers_the_code_that_checks(shipped_copy: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "bot"
    for part in stamps._CODE_PARTS:
        shutil.copytree(PROJECT / "bot" / part, code / part)
    monkeypatch.setattr(stamps, "_CODE", code)
    before = stamps.content_digest(shipped_copy)
    check = code / "engine" / "check.py"
    check.write_text(check.read_text(encoding="utf-8").replace("MAX_TEXT_CHARS = 4096", "MAX_TEXT_CHARS = 40"),
                     encoding="utf-8")
    assert stamps.content_digest(shipped_copy) != before


SAFETY_PROBE = """
import sys
from bot.engine import Engine, Event, load_content
import bot.metrics
engine = Engine(load_content(__import__("pathlib").Path(sys.argv[1])))
engine.handle(Event("start", ""))
engine.handle(Event("press", "1:ja:x:start.menu:teen.menu"))
print("bot.safety.rules" in sys.modules)
reply = engine.handle(Event("text", "しにたい"))[0]
print("bot.safety.rules" in sys.modules, reply.emergency)
"""


def test_the_safety_layer_is_built_when_text_is_first_read() -> None:
    done = subprocess.run([sys.executable, "-c", SAFETY_PROBE, str(PROJECT)], capture_output=True, text=True,
                          cwd=PROJECT, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split("\n")[:2] == ["False", "True True"]


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def one_line_error(args: list[str], env: dict[str, str]) -> str:
    result = CliRunner().invoke(main, args, env=env)
    assert result.exit_code == 2, (result.exit_code, result.output)
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error")]
    assert len(errors) == 1 and "Traceback" not in result.output, result.stderr
    assert len(result.stderr.strip().splitlines()) <= 2, result.stderr  # at most the line announcing the server
    return errors[0]


def test_a_port_in_use_is_one_line_with_the_fix(taken_port: int) -> None:
    line = one_line_error(["serve", "--port", str(taken_port)], {})
    assert f"127.0.0.1:{taken_port} is in use" in line and "--port" in line and "ANSHIN_PORT" in line


@pytest.mark.parametrize("framework", ["aiogram", "ptb"])
async def test_a_webhook_port_in_use_is_one_line_with_the_fix(taken_port: int, api: FakeBotAPI, framework: str) -> None:
    env = {**os.environ, "ANSHIN_TELEGRAM_TOKEN": TOKEN, "ANSHIN_TELEGRAM_API": api.base,
           "ANSHIN_WEBHOOK_URL": "https://example.org/hook", "ANSHIN_WEBHOOK_SECRET": "s" * 20,
           "ANSHIN_PORT": str(taken_port), "PYTHONPATH": str(PROJECT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "telegram", "--framework", framework, "--webhook", env=env, cwd=PROJECT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(process.communicate(), 60)
    errors = [line for line in err.decode().splitlines() if line.startswith("Error")]
    assert process.returncode == 2 and "Traceback" not in err.decode()
    assert len(errors) == 1 and f"{taken_port} is in use" in errors[0], err.decode()
    assert "choose another port with ANSHIN_PORT" in errors[0]


@pytest.mark.parametrize(("args", "env", "expected"), [
    (["serve"], {"ANSHIN_PORT": "eighty"}, "ANSHIN_PORT='eighty' is not a port number"),
    (["simulate", "--root", "/nonexistent/anshin"], {}, "--root '/nonexistent/anshin' has no flows/ folder"),
    (["serve"], {"ANSHIN_CONTENT": "/nonexistent/anshin"}, "ANSHIN_CONTENT '/nonexistent/anshin' has no flows/"),
    (["serve"], {"ANSHIN_LOG_LEVEL": "LOUD"}, "ANSHIN_LOG_LEVEL='LOUD' is not a log level"),
])
def test_a_bad_setting_is_one_line_naming_it(args: list[str], env: dict[str, str], expected: str) -> None:
    assert expected in one_line_error(args, env)


def test_a_line_port_in_use_is_one_line_with_the_fix(taken_port: int) -> None:
    env = {**os.environ, "ANSHIN_LINE_CHANNEL_SECRET": "startupsecret0123456789abcdef012",
           "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN": "startup-token-0123456789abcdef", "ANSHIN_LINE_API": "http://127.0.0.1:9",
           "ANSHIN_PORT": str(taken_port), "PYTHONPATH": str(PROJECT)}
    done = subprocess.run([sys.executable, "-m", "bot", "line"], env=env, cwd=PROJECT, capture_output=True, text=True,
                          timeout=60)
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(errors) == 1 and f"{taken_port} is in use" in errors[0], done.stderr
    assert "choose another port with ANSHIN_PORT" in errors[0]


def test_collection_is_off_while_starting_and_back_on_after(shipped_copy: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """main() turns the garbage collector off while a command starts (settle_heap() turns it back on before serving);
    a command that ends, in-process as here, leaves it on."""
    import gc

    import bot.engine.loader as loader

    seen: list[bool] = []

    def watching(root: Path) -> bool:
        seen.append(gc.isenabled())
        return stamps.is_stamped(root)

    monkeypatch.setattr(loader, "is_stamped", watching)
    assert gc.isenabled()
    result = CliRunner().invoke(main, ["simulate", "--root", str(shipped_copy)], input='{"start": ""}\n')
    assert result.exit_code == 0 and seen == [False], "content was loaded with the collector off"
    assert gc.isenabled(), "the collector is on again once the command has ended"


def test_a_server_prepares_free_text_in_the_background_once_it_listens() -> None:
    """The safety layer (rules and model) is built after the server is ready and before anyone types: the first
    message a child writes does not wait for it."""
    env = {**os.environ, "ANSHIN_LOG_LEVEL": "INFO", "PYTHONPATH": str(PROJECT)}
    process = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", "0"], env=env, cwd=PROJECT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    lines: list[str] = []
    try:
        for line in process.stderr:
            lines.append(line.strip())
            if "free text: ready to read" in line or len(lines) > 50:
                break
    finally:
        process.terminate()
        process.wait(15)
    ready = next(i for i, line in enumerate(lines) if line.startswith("Anshin web chat: http://"))
    prepared = next(i for i, line in enumerate(lines) if "free text: ready to read" in line)
    assert ready < prepared, lines
