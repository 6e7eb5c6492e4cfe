"""What every ``anshin`` command shares: the command group, content and engine, settings read from the
environment, errors as one line with an exit code, and the event loop."""

from __future__ import annotations

import io
import logging
import os
import sys
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from bot.engine import ContentError, Engine, load_content
from bot.engine.season import SPRING_DEFAULT, Period, parse_periods

if TYPE_CHECKING:
    from bot.metrics import ReachMetrics

__all__ = [
    "EXIT_CONFIG", "EXIT_PROBLEMS", "ConfigError", "address_in_use", "content_root", "default_root", "engine_for",
    "listen_address", "locale_setting", "main", "reach_metrics", "root_option", "run_async", "setting", "settle_heap",
    "url_setting", "utf8_streams",
]

EXIT_PROBLEMS = 1
EXIT_CONFIG = 2
T = TypeVar("T")


def default_root() -> Path:
    """Where flows/ and locales/ live: ANSHIN_CONTENT, else the checkout, else the installed copy."""
    configured = os.environ.get("ANSHIN_CONTENT")
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parents[1]  # bot/
    for candidate in (package.parent, package / "content"):
        if (candidate / "flows").is_dir():
            return candidate
    return Path.cwd()


root_option = click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Content directory holding flows/ and locales/ (default: $ANSHIN_CONTENT or the project).",
)


def content_root(root: Path | None) -> Path:
    """The content directory to serve: ``--root``, else ANSHIN_CONTENT, else the project or installed copy. One
    that holds no flows/ is a configuration mistake, told in one line with its fix."""
    chosen = root or default_root()
    if not (chosen / "flows").is_dir():
        origin = "--root" if root else "ANSHIN_CONTENT" if os.environ.get("ANSHIN_CONTENT") else "the content folder"
        raise ConfigError(f"{origin} {str(chosen)!r} has no flows/ folder: pass --root DIR or set ANSHIN_CONTENT "
                          "to a folder holding flows/ and locales/")
    return chosen


def engine_for(root: Path | None, clock: datetime | None = None) -> Engine:
    chosen = content_root(root)
    try:
        return Engine(load_content(chosen), clock=(lambda: clock) if clock else None, spring=spring_periods())
    except ContentError as error:
        raise click.ClickException(str(error)) from None


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop where it is installed (Linux and macOS; aiogram's own "fast" choice): the
    event loop and its sockets in C, a tenth less CPU per webhook update. Imported here: the commands that run no
    event loop (simulate, chat, check) start faster without asyncio."""
    import asyncio

    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(main)


def settle_heap() -> None:
    """Before serving: move everything built at start-up (content, catalogues, rules, the machine, the
    libraries' modules) out of the garbage collector's sight. It lives as long as the process, and each
    full collection would otherwise walk all of it again while users wait."""
    import gc

    gc.collect()
    gc.freeze()
    gc.enable()  # off since the command began (main)


def spring_periods() -> tuple[Period, ...]:
    """ANSHIN_SPRING_PERIOD: Spring Safety Net periods in Japan, e.g. 02-01..05-31 (the default); off: none."""
    text = os.environ.get("ANSHIN_SPRING_PERIOD")
    if text is None:
        return SPRING_DEFAULT
    try:
        return parse_periods(text)
    except ValueError as error:
        raise click.UsageError(f"ANSHIN_SPRING_PERIOD: {error}") from None


def utf8_streams() -> tuple[TextIO, TextIO]:
    """stdin and stdout as UTF-8 whatever the machine's locale, since answers are Japanese."""
    for stream in (sys.stdin, sys.stdout):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="replace")
    return sys.stdin, sys.stdout


# Libraries whose log lines describe a conversation: transitions writes every screen entered and left (a timeline
# of the topics someone opened), aiogram every update handled. They log from WARNING whatever ANSHIN_LOG_LEVEL says.
CONVERSATION_LOGGERS = ("transitions", "aiogram.event")


def configure_logging() -> None:
    level = os.environ.get("ANSHIN_LOG_LEVEL", "WARNING").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"ANSHIN_LOG_LEVEL={level!r} is not a log level; use DEBUG, INFO, WARNING or ERROR")
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    for name in CONVERSATION_LOGGERS:  # (never below the level asked for: ERROR stays ERROR)
        logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLevelName(level)))


@click.group(help="Anshin (安心): chat guidance on online safety that always leads to a human helper.")
@click.version_option(package_name="anshin")
def main() -> None:
    import gc

    # Start-up builds long-lived objects by the thousand (content, rules, the libraries' classes): collecting
    # while they are being built only costs time. settle_heap() turns collection back on before serving, and
    # every command turns it back on when it ends.
    gc.disable()
    click.get_current_context().call_on_close(gc.enable)
    configure_logging()
    if os.environ.get("ANSHIN_SAFETY_RULES_ONLY", "").strip():  # the safety layer's exemplar model stays unloaded
        from bot.safety import rules_only

        rules_only("ANSHIN_SAFETY_RULES_ONLY is set")


class ConfigError(click.ClickException):
    """A wrong option or setting: one clear line, exit code 2 (like a usage error)."""

    exit_code = EXIT_CONFIG


def reach_metrics(engine: Engine) -> ReachMetrics:
    """Counters for /metrics; ANSHIN_CAMPAIGNS lists the campaign codes counted by name (others: other)."""
    from bot.metrics import ReachMetrics

    try:
        return ReachMetrics.for_engine(engine, os.environ.get("ANSHIN_CAMPAIGNS", "").split(","))
    except ValueError as error:
        raise ConfigError(f"ANSHIN_CAMPAIGNS: {error}") from None


def setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise ConfigError(f"{name} is not set; see env.example and `anshin --help`")
    return default


def locale_setting(engine: Engine) -> str | None:
    """ANSHIN_LOCALE: the language for users whose app sends none (and setup's default texts), if set."""
    value = os.environ.get("ANSHIN_LOCALE", "").strip()
    if value and value not in engine.locales:
        raise ConfigError(f"ANSHIN_LOCALE={value!r} is not a shipped language; use one of {', '.join(engine.locales)}")
    return value or None


def listen_address(host: str | None = None, port: int | None = None) -> tuple[str, int]:
    """Where a server listens: the options given, else ANSHIN_HOST / ANSHIN_PORT, else 127.0.0.1:8080."""
    chosen_host = host or setting("ANSHIN_HOST", "127.0.0.1")
    if port is not None:
        return chosen_host, port
    text = setting("ANSHIN_PORT", "8080")
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise ConfigError(f"ANSHIN_PORT={text!r} is not a port number (1-65535; 0 picks a free one)")
    return chosen_host, int(text)


def address_in_use(error: OSError, host: str, port: int, options: bool = True) -> ConfigError | None:
    """The one-line error for a port another program holds (or an address this machine cannot listen on), naming
    the options (``options``) and settings that choose another; None for any other failure."""
    import errno

    port_fix, address_fix = ("--port or ANSHIN_PORT", "--host/--port or ANSHIN_HOST/ANSHIN_PORT") if options else (
        "ANSHIN_PORT", "ANSHIN_HOST/ANSHIN_PORT")
    if error.errno == errno.EADDRINUSE:
        return ConfigError(f"{host}:{port} is in use by another program: choose another port with {port_fix}, "
                           "or stop the other program")
    if error.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
        return ConfigError(f"cannot listen on {host}:{port} ({error.strerror}): choose another with {address_fix}")
    return None


def url_setting(name: str, default: str | None = None) -> str:
    from urllib.parse import urlsplit

    value = setting(name, default)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL such as https://example.org/telegram")
    return value


