"""Nothing from an update (text, names, usernames, ids), nor the bot token, reaches a log line, stdout or
stderr, at DEBUG, on either adapter (aiogram, python-telegram-bot) in either mode."""

from __future__ import annotations

import gc
import json
import logging
import sys
from collections.abc import Iterator

import pytest

from bot.channels.server import WithholdDetails
from bot.channels.telegram import aiogram_bot as telegram_aiogram
from bot.channels.telegram import ptb_bot as telegram_ptb
from bot.engine import Engine
from tests.fakes.bot_api import TOKEN, FakeBotAPI
from tests.fakes.harness import HARNESSES, SECRET
from tests.fakes.updates import Updates

USER_ID = 918273645501
UPDATE_ID = 713370041
CANARIES = ("CanaryText4471", "Canaryfirst", "canary_handle", str(USER_ID), str(UPDATE_ID), "CanaryPayload",
            "CanaryCaption", "CanaryGroup", "CanaryFuture", "CanaryData", TOKEN.split(":")[1])
ADAPTERS = {"aiogram": telegram_aiogram, "ptb": telegram_ptb}


def script(user: Updates) -> list[dict[str, object]]:
    return [
        user.text("/start t-ja-CanaryPayload"), user.text("I am CanaryText4471, help"),
        user.text("/start"), user.press("1:ja:x:start.menu:teen.menu"), user.press("CanaryData:forged"),
        user.media("photo", caption="CanaryCaption"), user.media("contact"),
        user.group_message("/help@anshin_test_bot", title="CanaryGroup"), user.added_to_group("CanaryGroup"),
        user.edited("CanaryText4471 edited"), user.unknown("CanaryFuture"), user.message(None),
    ]


@pytest.fixture
def debug_everywhere(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    root = logging.getLogger()
    stream = logging.StreamHandler(sys.stderr)  # as `anshin telegram` logs, with ANSHIN_LOG_LEVEL=DEBUG
    stream.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root.addHandler(stream)
    caplog.set_level(logging.DEBUG)
    yield caplog
    root.removeHandler(stream)


def leaked(text: str) -> list[str]:
    return [canary for canary in CANARIES if canary.lower() in text.lower()]


@pytest.mark.parametrize("mode", sorted(HARNESSES))
async def test_no_update_content_reaches_logs_or_output_at_debug(
        mode: str, fixture_engine: Engine, debug_everywhere: pytest.LogCaptureFixture,
        capfd: pytest.CaptureFixture[str]) -> None:
    api = FakeBotAPI()
    await api.start()
    api.fail("sendMessage", 500)  # the error paths log too
    api.fail("answerCallbackQuery", 429, retry_after=0)
    harness = HARNESSES[mode](api, fixture_engine, None)
    await harness.start()
    user = Updates(user_id=USER_ID, first_name="Canaryfirst", username="canary_handle", start_id=UPDATE_ID)
    for update in script(user):
        await harness.send(update)
    if harness.webhook:
        await harness.post(json.dumps({"update_id": UPDATE_ID, "message": "CanaryText4471"}).encode(), "x" * 20)
        await harness.post(b'{"CanaryText4471": [', SECRET)
    await harness.stop()
    await api.stop()
    out, err = capfd.readouterr()
    records = "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in debug_everywhere.records)
    assert len(api.calls("sendMessage")) >= 6, "the scenario ran"
    assert debug_everywhere.records, "logging was on"
    assert leaked(records) == []
    assert leaked(out + err) == []


@pytest.mark.parametrize("framework", sorted(ADAPTERS))
async def test_the_check_can_fail_without_the_logger_configuration(
        framework: str, fixture_engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """Undo the configuration: aiogram then logs the update id at INFO; PTB logs every Bot API call's
    parameters (the chat id) at DEBUG and httpx the URL with the token at INFO: the check above would see it."""
    api = FakeBotAPI()
    await api.start()
    caplog.set_level(logging.DEBUG)
    harness = HARNESSES[f"{framework}-webhook"](api, fixture_engine, None)
    await harness.start()
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if isinstance(logger, logging.Logger):
            for found in [f for f in logger.filters if isinstance(f, WithholdDetails)]:
                logger.removeFilter(found)
    logging.getLogger("aiogram.event").setLevel(logging.NOTSET)
    logging.getLogger("httpx").setLevel(logging.NOTSET)
    try:
        await harness.send(Updates(user_id=USER_ID, start_id=UPDATE_ID).text("/start"))
        expected = {"aiogram": [str(UPDATE_ID)], "ptb": [str(USER_ID), TOKEN.split(":")[1]]}[framework]
        assert [canary for canary in expected if canary in caplog.text] == expected
    finally:
        for channel in ADAPTERS.values():
            channel.quiet_framework_loggers()
        await harness.stop()
        await api.stop()


def test_framework_records_keep_their_wording_and_lose_every_value() -> None:
    try:
        raise ValueError("CanaryText4471 inside an exception")
    except ValueError:
        exc_info = sys.exc_info()
    record = logging.LogRecord("aiogram.event", logging.ERROR, __file__, 1,
                               "Cause exception while process update id=%d by bot id=%d\n%s: %s",
                               (UPDATE_ID, 42, "ValueError", exc_info[1]), exc_info)
    assert WithholdDetails().filter(record)
    assert record.getMessage() == "Cause exception while process update id=… by bot id=… (ValueError)"
    assert record.exc_info is None and leaked(logging.Formatter().format(record)) == []
    plain = logging.LogRecord("aiogram.dispatcher", logging.INFO, __file__, 1, "Start polling", (), None)
    assert WithholdDetails().filter(plain) and plain.getMessage() == "Start polling"


def test_every_python_telegram_bot_and_httpx_logger_is_filtered() -> None:
    """A logger's filter sees only its own records: each of PTB's, httpx's and httpcore's loggers needs one."""
    telegram_ptb.quiet_framework_loggers()
    loggers = [(name, logger) for name, logger in logging.Logger.manager.loggerDict.items()
               if isinstance(logger, logging.Logger) and name.split(".")[0] in ("telegram", "httpx", "httpcore")]
    assert {"telegram.Bot", "telegram.ext.Application", "telegram.ext.Updater", "httpx"} <= {n for n, _ in loggers}
    assert [n for n, logger in loggers if not any(isinstance(f, WithholdDetails) for f in logger.filters)] == []
    assert logging.getLogger("httpx").level == logging.WARNING  # its INFO line holds the URL, token included


def updates_in_memory() -> list[object]:
    from aiogram.types import Update as AiogramUpdate
    from telegram import Update as PtbUpdate

    gc.collect()
    return [o for o in gc.get_objects() if isinstance(o, AiogramUpdate | PtbUpdate)]


@pytest.mark.parametrize("mode", sorted(HARNESSES))
async def test_no_update_is_kept_in_memory_once_handled(mode: str, fixture_engine: Engine) -> None:
    """Nothing is kept in memory either: once the bot has answered, no Update object of either library is
    left while it serves on (aiogram's ``Update.event_type`` is an lru_cache, which held the last 128). A
    polling loop, aiogram's and PTB's alike, holds the update it last received until the next one comes."""
    api = FakeBotAPI()
    await api.start()
    harness = HARNESSES[mode](api, fixture_engine, None)
    await harness.start()
    try:
        user = Updates(user_id=USER_ID, first_name="Canaryfirst", username="canary_handle", start_id=UPDATE_ID)
        for update in script(user):
            await harness.send(update)
        assert len(api.calls("sendMessage")) >= 6, "the scenario ran"
        assert len(updates_in_memory()) <= (0 if harness.webhook else 1)
    finally:
        await harness.stop()
        await api.stop()


@pytest.mark.parametrize("mode", sorted(HARNESSES))
async def test_no_library_logs_the_screens_a_conversation_enters(
        mode: str, fixture_engine: Engine, debug_everywhere: pytest.LogCaptureFixture,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """transitions logs every state it enters and leaves at INFO and DEBUG ("Finished processing state
    teen.menu enter callbacks"): a timeline of the topics someone opened. Kept at WARNING whatever the level:
    logging set up as `anshin telegram` sets it up, with ANSHIN_LOG_LEVEL=DEBUG."""
    from bot.cli.base import configure_logging

    monkeypatch.setenv("ANSHIN_LOG_LEVEL", "DEBUG")
    configure_logging()
    api = FakeBotAPI()
    await api.start()
    harness = HARNESSES[mode](api, fixture_engine, None)
    await harness.start()
    try:
        for update in script(Updates(user_id=USER_ID)):
            await harness.send(update)
    finally:
        await harness.stop()
        await api.stop()
    logged = "\n".join(f"{r.name} {r.getMessage()}" for r in debug_everywhere.records)
    assert logging.getLogger("transitions").getEffectiveLevel() >= logging.WARNING
    screens = [key for key in fixture_engine.content.nodes if key in logged]
    assert screens == [] and "processing state" not in logged, screens
