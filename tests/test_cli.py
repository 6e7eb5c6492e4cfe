"""The `anshin` commands, through click's runner and as real processes (statelessness across runs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from bot.cli import main
from tests.conftest import FIXTURE_CONTENT


def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_check_passes_on_good_content() -> None:
    code, out, _ = run("check", "--root", str(FIXTURE_CONTENT))
    assert code == 0
    assert "ok: no errors" in out


def test_check_fails_with_located_problems(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "c"
    shutil.copytree(FIXTURE_CONTENT, root)
    teen = root / "flows" / "teen.yaml"
    teen.write_text(teen.read_text(encoding="utf-8").replace("to: meet}", "to: hlep}"), encoding="utf-8")
    code, _, err = run("check", "--root", str(root))
    assert code == 1
    assert "flows/teen.yaml: nodes.menu.buttons[0]: unknown target 'hlep'" in err


def test_simulate_answers_every_line_and_reports_bad_ones() -> None:
    lines = ['{"start": ""}', "not json", '{"press": "1:ja:x:start.menu:teen.menu"}', '{"command": "dance"}',
             '{"text": 5}', '{"start": "", "text": "hi"}', '[1, 2]', '{"media": "photo", "lang": "en"}']
    code, out, _ = run("simulate", "--root", str(FIXTURE_CONTENT), stdin="\n".join(lines) + "\n")
    assert code == 0
    answers = [json.loads(line) for line in out.splitlines()]
    assert len(answers) == len(lines)
    assert [("replies" in a) for a in answers] == [True, False, True, False, False, False, False, True]
    assert "unknown command;" in answers[3]["error"] and "dance" not in answers[3]["error"]


def test_chat_numbers_buttons_and_quits() -> None:
    code, out, _ = run("chat", "--root", str(FIXTURE_CONTENT), "--lang", "en", stdin="1\n/privacy\n/quit\n")
    assert code == 0
    assert "[1] 🧑 Teenager" in out
    assert "Teen menu" in out
    assert "About privacy" in out


def test_chat_answers_typed_text_in_the_language_chosen_from_the_language_menu() -> None:
    """After /language -> English, a typed message is answered in English (the terminal keeps the conversation's
    language; it was the machine's default, Japanese)."""
    from bot.engine import Engine, Event, load_content

    engine = Engine(load_content(FIXTURE_CONTENT))
    english = engine.handle(Event("text", "hello there", "en"))[0].text.strip().splitlines()[0]
    japanese = engine.handle(Event("text", "hello there", "ja"))[0].text.strip().splitlines()[0]
    assert english != japanese
    menu = engine.handle(Event("command", "language", None))[0]
    choice = [b.label for row in menu.buttons for b in row if b.url is None].index("English") + 1
    code, out, _ = run("chat", "--root", str(FIXTURE_CONTENT), stdin=f"/language\n{choice}\nhello there\n/quit\n")
    assert code == 0
    last = out.rsplit("> ", 2)[-2]
    assert english in last and japanese not in last


def test_simulate_goes_on_after_a_number_of_five_thousand_digits() -> None:
    """It stopped with a traceback, dropping the lines after it (int() refuses more than 4,300 digits)."""
    lines = ['{"start": "", "lang": ' + "1" * 5000 + "}", '{"text": "x", "n": -' + "9" * 30 + "}", '{"start": ""}']
    process = subprocess.run([sys.executable, "-m", "bot", "simulate", "--root", str(FIXTURE_CONTENT)], text=True,
                             input="\n".join(lines) + "\n", capture_output=True, timeout=60)
    assert process.returncode == 0 and "Traceback" not in process.stderr
    answers = [json.loads(line) for line in process.stdout.splitlines()]
    assert [sorted(a) for a in answers] == [["error"], ["error"], ["replies"]]
    assert "number" in answers[0]["error"] and "1111" not in answers[0]["error"]


def test_broken_content_refuses_to_start(tmp_path: Path) -> None:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "start.yaml").write_text("flow: [broken", encoding="utf-8")
    code, _, err = run("simulate", "--root", str(tmp_path), stdin="")
    assert code == 1
    assert "run `anshin check`" in err


def test_a_press_works_in_a_new_process(tmp_path: Path) -> None:
    """Nothing is remembered between runs: an id printed by one process is pressed in another."""
    env = {**os.environ, "ANSHIN_CONTENT": str(FIXTURE_CONTENT)}

    def simulate(line: str) -> dict[str, object]:
        done = subprocess.run([sys.executable, "-m", "bot", "simulate"], input=line + "\n", env=env,
                              capture_output=True, text=True, timeout=60, check=True)
        return json.loads(done.stdout)

    first = simulate('{"start": ""}')
    button_id = first["replies"][0]["buttons"][0][0]["id"]  # type: ignore[index]
    second = simulate(json.dumps({"press": button_id}))
    assert second["replies"][0]["text"] == "中高生メニュー"  # type: ignore[index]
    forged = simulate('{"press": "1:ja:x:start.menu:nowhere"}')
    assert forged["replies"][0]["referrals"]  # type: ignore[index]


def test_eval_prints_recall_per_category() -> None:
    code, out, _ = run("eval", "--split", "dev")
    assert code == 0
    assert "benign false emergency" in out
    assert "grooming" in out



def test_run_without_a_token_serves_the_web_chat() -> None:
    """README's run command: with no token, `anshin run` starts the web chat on 127.0.0.1."""
    import socket
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "ANSHIN_TELEGRAM_TOKEN"}
    env["ANSHIN_CONTENT"] = str(FIXTURE_CONTENT)
    server = subprocess.Popen([sys.executable, "-m", "bot", "run", "--port", str(port)], env=env,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    assert response.status == 200
                    assert "<html" in response.read().decode("utf-8").lower()
                    break
            except OSError:
                assert server.poll() is None, "anshin run exited"
                assert time.monotonic() < deadline, "the web chat did not start"
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_serve_publishes_the_counters_only_on_their_own_address() -> None:
    """The chat is safe to expose; /metrics (how many opened which screen) is not on its port, only on
    --metrics-port, on 127.0.0.1 unless told otherwise."""
    import time

    chat, counters = _free_port(), _free_port()
    env = {**os.environ, "ANSHIN_CONTENT": str(FIXTURE_CONTENT)}
    args = [sys.executable, "-m", "bot", "serve", "--port", str(chat), "--metrics-port", str(counters)]
    server = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status, _ = _get(f"http://127.0.0.1:{counters}/metrics")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "anshin serve did not start"
                time.sleep(0.2)
        status, text = _get(f"http://127.0.0.1:{counters}/metrics")
        assert status == 200 and "anshin_starts" in text and "_created" not in text
        assert _get(f"http://127.0.0.1:{chat}/")[0] == 200
        assert _get(f"http://127.0.0.1:{chat}/metrics")[0] == 404
    finally:
        server.terminate()
        _, err = server.communicate(timeout=10)
    assert f"http://127.0.0.1:{counters}/metrics" in err


def test_a_bad_log_level_is_one_line_naming_the_variable() -> None:
    result = CliRunner(env={"ANSHIN_LOG_LEVEL": "LOUD"}).invoke(main, ["check", "--root", str(FIXTURE_CONTENT)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: ANSHIN_LOG_LEVEL='LOUD' is not a log level; use DEBUG, INFO, WARNING or ERROR"]


def test_long_running_commands_run_on_uvloop_where_it_is_installed() -> None:
    import asyncio

    from bot.cli import run_async

    async def loop_module() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run_async(loop_module()).startswith("uvloop")


def test_no_log_level_shows_the_screens_a_conversation_enters() -> None:
    """At ANSHIN_LOG_LEVEL=DEBUG the conversation machine's library wrote every screen entered and left."""
    lines = ['{"start": ""}', '{"press": "1:ja:x:start.menu:teen.menu"}', '{"text": "死にたい"}']
    env = {**os.environ, "ANSHIN_LOG_LEVEL": "DEBUG"}
    process = subprocess.run([sys.executable, "-m", "bot", "simulate", "--root", str(FIXTURE_CONTENT)], text=True,
                             input="\n".join(lines) + "\n", capture_output=True, timeout=60, env=env)
    assert process.returncode == 0 and len(process.stdout.splitlines()) == 3
    assert "teen.menu" not in process.stderr and "start.menu" not in process.stderr, process.stderr[:500]


def test_serve_with_the_counters_port_held_is_one_line_naming_the_option() -> None:
    import socket

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        process = subprocess.run([sys.executable, "-m", "bot", "serve", "--port", "0", "--metrics-port", str(port)],
                                 capture_output=True, text=True, timeout=60,
                                 env={**os.environ, "ANSHIN_CONTENT": str(FIXTURE_CONTENT)})
    assert process.returncode == 2 and "Traceback" not in process.stderr
    last = process.stderr.strip().splitlines()[-1]
    assert last.startswith(f"Error: reach counters: cannot listen on 127.0.0.1:{port}")
    assert "--metrics-port" in process.stderr
