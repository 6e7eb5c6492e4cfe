"""Privacy proof: every channel runs as a real process, fed canaries everywhere, at DEBUG; nothing is kept.

Canary strings go into typed text, start payloads, button data, captions, first and last names,
usernames, group titles, languages, HTTP paths, queries and headers; distinctive user, chat, update and
callback ids go into every Telegram update. Each process runs with ``ANSHIN_LOG_LEVEL=DEBUG`` and its own
empty working directory, TMPDIR and HOME. Afterwards everything it wrote is searched: stdout, stderr,
every file under those three directories, and its /metrics page. Any canary or id fails the test.

The controls at the end plant a canary in each of those places (and in a real channel that logs what it
is told) and show that the search finds it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import PROJECT
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.updates import Updates

USER_ID = 730461958213
OTHER_USER_ID = 730461958277
GROUP_ID = -1004417293856
UPDATE_ID = 580137264
JAPANESE = "カナリア秘密"
LINE_USER = "U" + "5ca1ab1e" * 4
LINE_GROUP = "C" + "deadbeef" * 4
LINE_ROOM = "R" + "feedface" * 4
IDS = (str(USER_ID), str(OTHER_USER_ID), str(abs(GROUP_ID)), *(str(UPDATE_ID + n) for n in range(40)),
       LINE_USER, LINE_GROUP, LINE_ROOM)
# What the search looks for, case-insensitively: every ASCII canary contains "canary"; the Japanese one
# is also looked for as JSON escapes and percent-encoded; ids as digits.
NEEDLES = ("canary", JAPANESE, json.dumps(JAPANESE)[1:-1], urllib.parse.quote(JAPANESE), *IDS)
SECRET = "privacy-proof_secret-0123456789"
# `anshin telegram` per adapter: the options that select it. Every Telegram process below runs on each.
TELEGRAM_ADAPTERS: dict[str, list[str]] = {"aiogram": [], "ptb": ["--framework", "ptb"]}


def findings(outputs: dict[str, str]) -> list[str]:
    """``where: needle`` for every needle found in every output."""
    return [f"{where}: {needle}" for where, text in outputs.items() for needle in NEEDLES
            if needle.lower() in text.lower()]


@dataclass
class Sandbox:
    """An empty working directory, TMPDIR and HOME for one process, and what it wrote."""

    root: Path
    outputs: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("cwd", "tmp", "home"):
            (self.root / name).mkdir(parents=True)

    @property
    def cwd(self) -> Path:
        return self.root / "cwd"

    def env(self, **extra: str) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items()
                if not k.startswith(("ANSHIN_", "PYTHON")) and k not in ("TMPDIR", "TEMP", "TMP", "HOME")}
        tmp = str(self.root / "tmp")
        return {**keep, "TMPDIR": tmp, "TEMP": tmp, "TMP": tmp, "HOME": str(self.root / "home"),
                "PYTHONPATH": str(PROJECT), "PYTHONDONTWRITEBYTECODE": "1", "ANSHIN_LOG_LEVEL": "DEBUG", **extra}

    async def start(self, *args: str, stdin: bool = False, **env: str) -> asyncio.subprocess.Process:
        return await asyncio.create_subprocess_exec(
            sys.executable, *args, cwd=self.cwd, env=self.env(**env),
            stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

    async def finish(self, process: asyncio.subprocess.Process, stdin: bytes | None = None,
                     stop: signal.Signals | None = None, early_stderr: bytes = b"") -> int:
        """Stop the process (optionally with a signal), keep its stdout and stderr, and every file it left."""
        if stop is not None and process.returncode is None:
            process.send_signal(stop)
        out, err = await asyncio.wait_for(process.communicate(stdin), 30)
        self.outputs["stdout"] = out.decode("utf-8", "replace")
        self.outputs["stderr"] = (early_stderr + err).decode("utf-8", "replace")
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                self.outputs[f"file {path.relative_to(self.root)}"] = path.read_bytes().decode("utf-8", "replace")
        return process.returncode if process.returncode is not None else -1


@pytest.fixture
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Sandbox:
    return Sandbox(tmp_path_factory.mktemp("sandbox"))  # no test name in the path: it may say "canary"


def assert_nothing_kept(box: Sandbox, logs: bool = True) -> None:
    """``logs``: the channel writes log lines at DEBUG (the simulator and the terminal chat write none)."""
    assert not logs or "DEBUG" in box.outputs["stderr"], "the process logged at DEBUG"
    assert "Traceback" not in box.outputs["stderr"]
    assert findings(box.outputs) == []


# --- the JSON-lines simulator and the terminal chat ----------------------------------------------------------

SIMULATOR_LINES = [
    {"start": "t-ja-CanaryPayload"}, {"start": "p-en-CanaryCampaign"},
    {"text": f"I am CanaryText, {JAPANESE}, my id is {USER_ID}", "lang": "ja"},
    {"text": "助けて CanaryText 今 家の前にいる"}, {"press": "CanaryData:forged"},
    {"press": "1:ja:t:teen.menu:CanaryTrigger"}, {"command": "CanaryCommand"}, {"media": "CanaryMedia"},
    {"text": "hello", "lang": "CanaryLang"}, {"CanaryKey": 1}, {"text": USER_ID},
]


async def test_the_simulator_keeps_nothing(sandbox: Sandbox) -> None:
    lines = [json.dumps(e, ensure_ascii=False) for e in SIMULATOR_LINES] + ['{"CanaryBroken', "[CanaryList]"]
    process = await sandbox.start("-m", "bot", "simulate", stdin=True)
    assert await sandbox.finish(process, ("\n".join(lines) + "\n").encode()) == 0
    answers = [json.loads(line) for line in sandbox.outputs["stdout"].splitlines()]
    assert len(answers) == len(lines) and sum("replies" in a for a in answers) >= 6, "the simulator answered"
    assert_nothing_kept(sandbox, logs=False)


async def test_the_terminal_chat_keeps_nothing(sandbox: Sandbox) -> None:
    typed = [f"CanaryText {JAPANESE} {USER_ID}", "1", "/start CanaryPayload", "/CanaryCommand", "99999",
             "助けて CanaryText 今 家の前にいる", "/quit"]
    process = await sandbox.start("-m", "bot", "chat", "--lang", "ja", stdin=True)
    assert await sandbox.finish(process, ("\n".join(typed) + "\n").encode()) == 0
    assert sandbox.outputs["stdout"].count("> ") >= len(typed) - 1, "the chat answered every line"
    assert_nothing_kept(sandbox, logs=False)


# --- the web chat ----------------------------------------------------------------------------------------------


async def read_until(stream: asyncio.StreamReader | None, marker: bytes, timeout: float = 30) -> bytes:
    """Lines from ``stream`` up to and including the one holding ``marker``."""
    assert stream is not None
    seen = b""
    deadline = time.monotonic() + timeout
    while marker not in seen:
        line = await asyncio.wait_for(stream.readline(), max(0.1, deadline - time.monotonic()))
        assert line, f"the process ended before printing {marker!r}: {seen.decode(errors='replace')}"
        seen += line
    return seen


async def test_the_web_chat_keeps_nothing(sandbox: Sandbox) -> None:
    process = await sandbox.start("-m", "bot", "serve", "--port", "0", "--metrics-port", "0")
    early = await read_until(process.stderr, b"/metrics")
    port, counters = (int(part.split(b"/")[0]) for part in early.split(b"http://127.0.0.1:")[1:3])
    base = f"http://127.0.0.1:{port}"
    headers = {"User-Agent": "CanaryAgent/1.0", "Accept-Language": "CanaryLang", "Cookie": "id=CanaryCookie",
               "X-Forwarded-For": "CanaryForwarded", "Referer": "https://canary.example/CanaryReferer"}
    statuses: list[int] = []
    async with aiohttp.ClientSession(headers=headers) as client:
        for event in SIMULATOR_LINES:
            async with client.post(f"{base}/api/event", json=event) as response:
                statuses.append(response.status)
        for body in (b"CanaryText not json", b'{"text": "' + b"CanaryText" * 5000 + b'"}', b"\xff CanaryBytes"):
            async with client.post(f"{base}/api/event", data=body,
                                   headers={"Content-Type": "application/json"}) as response:
                statuses.append(response.status)
        for path in (f"/CanaryPath/{USER_ID}?q=CanaryQuery", f"/api/ui?lang=CanaryLang&u={USER_ID}", "/app.js"):
            async with client.get(base + path) as response:
                statuses.append(response.status)
        async with client.get(f"{base}/metrics") as response:
            assert response.status == 404, "the counters are not on the chat's address"
        async with client.get(f"http://127.0.0.1:{counters}/metrics") as response:
            assert response.status == 200
            sandbox.outputs["metrics"] = await response.text()
    assert await sandbox.finish(process, stop=signal.SIGINT, early_stderr=early) == 0
    assert statuses.count(200) >= 8 and 400 in statuses and 413 in statuses and 404 in statuses
    assert "anshin_starts_total" in sandbox.outputs["metrics"]
    assert_nothing_kept(sandbox)


# --- Telegram: polling and webhook, against the fake Bot API -------------------------------------------------


def with_last_names(update: dict[str, Any]) -> dict[str, Any]:
    """Give every user and private chat in the update a last name (the builders have none)."""

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("first_name") == "CanaryFirst":
                node["last_name"] = "CanaryLast"
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(update)
    return update


def telegram_script() -> list[dict[str, Any]]:
    user = Updates(user_id=USER_ID, first_name="CanaryFirst", username="canary_handle", lang="ja",
                   start_id=UPDATE_ID)
    other = Updates(user_id=OTHER_USER_ID, first_name="CanaryFirst", username="canary_other", lang="en",
                    start_id=UPDATE_ID + 30)
    updates = [
        user.text("/start t-ja-CanaryPayload"), user.text(f"I am CanaryText {JAPANESE} {USER_ID}"),
        user.text("助けて CanaryText 今 家の前にいる"), user.press("1:ja:x:start.menu:teen.menu"),
        user.press("CanaryData:forged"), user.media("photo", caption="CanaryCaption"), user.media("contact"),
        user.message(None), user.edited("CanaryText edited"), user.unknown("CanaryFuture"),
        user.message("/help@anshin_test_bot", chat={"id": GROUP_ID, "type": "supergroup", "title": "CanaryGroup"}),
        other.text("/start"), other.text("/CanaryCommand"), other.press("CanaryData" * 6),
    ]
    added = user.added_to_group("CanaryGroup")
    added["my_chat_member"]["chat"]["id"] = GROUP_ID
    for update in updates:
        query = update.get("callback_query")
        if query is not None:
            query["id"] = f"CanaryQuery{query['id']}"
            query["chat_instance"] = "CanaryInstance"
    return [with_last_names(u) for u in [*updates, added]]


async def settled(api: FakeBotAPI, timeout: float = 30) -> None:
    """Until the bot has made no Bot API call other than getUpdates for a second."""
    deadline = time.monotonic() + timeout
    count, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = len([r for r in api.requests if r.method != "getUpdates"])
        if now != count:
            count, since = now, time.monotonic()
        elif time.monotonic() - since > 1.0 and api.pending() == 0:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the bot kept calling the Bot API")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def telegram_env(api: FakeBotAPI, **extra: str) -> dict[str, str]:
    return {"ANSHIN_TELEGRAM_TOKEN": TOKEN, "ANSHIN_TELEGRAM_API": api.base, "ANSHIN_CAMPAIGNS": "spring2027",
            **extra}


def fail_some_calls(api: FakeBotAPI) -> None:
    """The error paths log too: a retried 5xx, a 429, a refused send and a refused callback answer."""
    api.fail("sendMessage", 500)
    api.fail("sendMessage", 429, retry_after=1)
    api.fail("sendMessage", 403)
    api.fail("answerCallbackQuery", 400)


@pytest.mark.parametrize("adapter", sorted(TELEGRAM_ADAPTERS))
async def test_telegram_polling_keeps_nothing(sandbox: Sandbox, adapter: str) -> None:
    api = FakeBotAPI()
    await api.start()
    try:
        process = await sandbox.start("-m", "bot", "telegram", *TELEGRAM_ADAPTERS[adapter], **telegram_env(api))
        await api.wait_for("getUpdates", 1, timeout=30)
        fail_some_calls(api)
        api.push(*telegram_script())
        await settled(api)
        code = await sandbox.finish(process, stop=signal.SIGTERM)
    finally:
        await api.stop()
    assert code == 0, sandbox.outputs.get("stderr")
    assert len(api.calls("sendMessage", "editMessageText")) >= 10, "the bot answered"
    assert api.problems() == []
    assert_nothing_kept(sandbox)


@pytest.mark.parametrize("adapter", sorted(TELEGRAM_ADAPTERS))
async def test_telegram_webhook_keeps_nothing(sandbox: Sandbox, adapter: str) -> None:
    api = FakeBotAPI()
    await api.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/telegram/hook"
    statuses: list[int] = []
    try:
        process = await sandbox.start("-m", "bot", "telegram", "--webhook", *TELEGRAM_ADAPTERS[adapter], **telegram_env(
            api, ANSHIN_WEBHOOK_URL=url, ANSHIN_WEBHOOK_SECRET=SECRET, ANSHIN_HOST="127.0.0.1",
            ANSHIN_PORT=str(port)))
        await api.wait_for("setWebhook", 1, timeout=30)
        fail_some_calls(api)
        good = {"X-Telegram-Bot-Api-Secret-Token": SECRET, "User-Agent": "CanaryAgent"}
        async with aiohttp.ClientSession() as client:
            for update in telegram_script():
                async with client.post(url, json=update, headers=good) as response:
                    statuses.append(response.status)
            forged = json.dumps(telegram_script()[0]).encode()
            bad: list[tuple[str, bytes, dict[str, str]]] = [
                ("POST", forged, {"X-Telegram-Bot-Api-Secret-Token": "CanarySecretGuess"}),
                ("POST", forged, {}),
                ("POST", b"CanaryText is not JSON", good),
                ("POST", json.dumps({"CanaryKey": USER_ID}).encode(), good),
                ("POST", json.dumps({"update_id": UPDATE_ID, "message": "CanaryText"}).encode(), good),
                ("POST", b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", good),
                ("POST", b'{"CanaryText": "' + b"x" * (1 << 20) + b'"}', good),
                ("GET", b"", good),
                ("PUT", forged, good),
            ]
            for method, body, headers in bad:
                async with client.request(method, url + "?CanaryQuery=1", data=body,
                                          headers={"Content-Type": "application/json", **headers}) as response:
                    statuses.append(response.status)
                    assert "Traceback" not in await response.text()
            async with client.get(f"http://127.0.0.1:{port}/CanaryPath/{USER_ID}") as response:
                statuses.append(response.status)
            async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
            async with client.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert response.status == 200
                sandbox.outputs["metrics"] = await response.text()
        code = await sandbox.finish(process, stop=signal.SIGTERM)
    finally:
        await api.stop()
    assert code == 0, sandbox.outputs.get("stderr")
    assert statuses[:len(telegram_script())] == [200] * len(telegram_script())
    assert sorted(statuses[len(telegram_script()):]) == [200, 400, 400, 400, 401, 401, 404, 405, 405, 413]
    assert len(api.calls("sendMessage", "editMessageText")) >= 10, "the bot answered"
    assert "anshin_starts_total" in sandbox.outputs["metrics"]
    assert api.problems() == []
    assert_nothing_kept(sandbox)


# --- LINE: the webhook worker, against the fake LINE API --------------------------------------------------------


def line_script() -> list[dict[str, Any]]:
    """Every kind of event, each carrying canaries: user, group and room ids, reply tokens, event ids, texts."""
    from tests.fakes.line_events import LineUser

    user = LineUser(user_id=LINE_USER)
    events = [
        user.follow(), user.text("/start t-ja-CanaryPayload"), user.text(f"I am CanaryText {JAPANESE} {USER_ID}"),
        user.text("助けて CanaryText 今 家の前にいる"), user.press("1:ja:x:start.menu:teen.menu"),
        user.press("CanaryData:forged"), user.media("image"), user.media("file"), user.media("location"),
        user.join("group", LINE_GROUP), user.join("room", LINE_ROOM), user.in_group("CanaryText in a group", "group",
                                                                                 LINE_GROUP),
        user.member_joined(LINE_GROUP), user.unfollow(), user.unsend(), user.unknown("CanaryFuture"),
    ]
    for n, event in enumerate(events):
        if "replyToken" in event:
            event["replyToken"] = f"CanaryReplyToken{n:04d}"
        event["webhookEventId"] = f"01CANARY{n:018d}"
    events[2]["message"]["quoteToken"] = "CanaryQuote"
    return events


async def test_line_keeps_nothing(sandbox: Sandbox) -> None:
    from tests.fakes.line_api import ACCESS_TOKEN, FakeLineAPI
    from tests.fakes.line_events import CHANNEL_SECRET, body, encode, sign

    api = FakeLineAPI()
    await api.start()
    port = free_port()
    url = f"http://127.0.0.1:{port}/callback"
    statuses: list[int] = []
    try:
        process = await sandbox.start("-m", "bot", "line", ANSHIN_LINE_CHANNEL_SECRET=CHANNEL_SECRET,
                                      ANSHIN_LINE_CHANNEL_ACCESS_TOKEN=ACCESS_TOKEN, ANSHIN_LINE_API=api.base,
                                      ANSHIN_HOST="127.0.0.1", ANSHIN_PORT=str(port), ANSHIN_CAMPAIGNS="spring2027",
                                      ANSHIN_LINE_BASIC_ID="@anshin")
        early = await read_until(process.stderr, b"webhook on")
        api.fail("replyMessage", 500)  # the error paths log too: a retried 5xx, a refused reply, a refused leave
        api.fail("replyMessage", 400, times=1)
        api.fail("leaveGroup", 403)
        async with aiohttp.ClientSession() as client:
            for _ in range(100):
                try:
                    async with client.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.1)
            for event in line_script():
                raw = encode(body(event))
                async with client.post(url, data=raw, headers={"X-Line-Signature": sign(raw),
                                                               "User-Agent": "CanaryAgent"}) as response:
                    statuses.append(response.status)
            forged = encode(body(*line_script()[:2]))
            bad: list[tuple[bytes, dict[str, str]]] = [
                (forged, {"X-Line-Signature": "CanarySignatureGuess"}), (forged, {}),
                (b"CanaryText is not JSON", {"X-Line-Signature": sign(b"CanaryText is not JSON")}),
                (b'{"CanaryKey": "' + LINE_USER.encode() + b'"}', {"X-Line-Signature": sign(
                    b'{"CanaryKey": "' + LINE_USER.encode() + b'"}')}),
                (b'{"events": "CanaryText"}', {"X-Line-Signature": sign(b'{"events": "CanaryText"}')}),
                (b'{"CanaryText": "' + b"x" * (1 << 20) + b'"}', {"X-Line-Signature": "CanaryBigBody"}),
            ]
            for raw, headers in bad:
                async with client.post(url + "?CanaryQuery=1", data=raw,
                                       headers={"Content-Type": "application/json", **headers}) as response:
                    statuses.append(response.status)
                    assert "Traceback" not in await response.text()
            async with client.get(f"http://127.0.0.1:{port}/CanaryPath/{LINE_USER}") as response:
                statuses.append(response.status)
            async with client.get(f"http://127.0.0.1:{port}/metrics") as response:
                sandbox.outputs["metrics"] = await response.text()
        code = await sandbox.finish(process, stop=signal.SIGTERM, early_stderr=early)
    finally:
        await api.stop()
    assert code == 0, sandbox.outputs.get("stderr")
    assert statuses[:len(line_script())] == [200] * len(line_script())
    assert sorted(statuses[len(line_script()):]) == [400, 400, 400, 401, 401, 404, 413]
    assert len(api.replies()) >= 8, "the bot answered"
    assert "anshin_starts_total" in sandbox.outputs["metrics"]
    assert api.problems() == []
    assert_nothing_kept(sandbox)


def test_the_line_canaries_are_looked_for() -> None:
    assert findings({"stderr": f"reply to {LINE_USER}"}) == [f"stderr: {LINE_USER}"]
    assert findings({"stderr": "token CanaryReplyToken0001"}) != []
    assert findings({"stderr": "event 01CANARY000000000000000001"}) != []


# --- controls: the search can fail ---------------------------------------------------------------------------

PLANTS = {
    "stdout": "print('CanaryText')",
    "stderr": f"import sys; print({USER_ID}, file=sys.stderr)",
    "cwd": f"open('notes.txt', 'w').write({JAPANESE!r})",
    "tmp": "import tempfile; tempfile.NamedTemporaryFile(delete=False).write(b'canary_handle')",
    "home": f"import os; os.makedirs(os.path.expanduser('~/.cache/x'), exist_ok=True); "
            f"open(os.path.expanduser('~/.cache/x/log'), 'w').write('chat {abs(GROUP_ID)}')",
}


@pytest.mark.parametrize("where", sorted(PLANTS))
async def test_the_search_finds_a_planted_canary_wherever_the_process_leaves_it(sandbox: Sandbox, where: str) -> None:
    process = await sandbox.start("-c", PLANTS[where])
    assert await sandbox.finish(process) == 0
    found = findings(sandbox.outputs)
    assert len(found) == 1, found
    expected = {"stdout": "stdout", "stderr": "stderr", "cwd": "file cwd/", "tmp": "file tmp/",
                "home": "file home/.cache/x/"}[where]
    assert found[0].startswith(expected), found


def test_the_search_finds_ids_and_escaped_canaries_in_a_metrics_page() -> None:
    assert findings({"metrics": f'anshin_starts_total{{campaign="{USER_ID}"}} 1.0'}) == [f"metrics: {USER_ID}"]
    assert findings({"metrics": json.dumps(f"x {JAPANESE}")}) != []
    assert findings({"metrics": 'anshin_starts_total{campaign="spring2027"} 1.0'}) == []


LEAKY_SIMULATOR = """
import logging, tempfile
from bot.engine import Engine
handle = Engine.handle
def leaky(self, event):
    logging.getLogger("bot.leak").debug("event %s", event)
    tempfile.NamedTemporaryFile("w", suffix=".log", delete=False).write(repr(event))
    return handle(self, event)
Engine.handle = leaky
from bot.cli import main
main(["simulate"])
"""


async def test_the_proof_fails_on_a_real_channel_that_logs_what_it_is_told(sandbox: Sandbox) -> None:
    process = await sandbox.start("-c", LEAKY_SIMULATOR, stdin=True)
    await sandbox.finish(process, (json.dumps({"text": f"CanaryText {USER_ID}"}) + "\n").encode())
    found = findings(sandbox.outputs)
    assert "stderr: canary" in found and f"stderr: {USER_ID}" in found
    assert any(f.startswith("file tmp/") and f.endswith("canary") for f in found), found
    assert "stdout: canary" not in found, "the simulator's answer itself echoes nothing"

