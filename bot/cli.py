"""``anshin ...`` commands: the only place that reads configuration (environment, options)."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import sys
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from bot.engine import ContentError, Engine, check_content, load_content
from bot.engine.season import SPRING_DEFAULT, Period, parse_periods

if TYPE_CHECKING:
    from bot.metrics import ReachMetrics

__all__ = ["main"]

EXIT_PROBLEMS = 1
EXIT_CONFIG = 2
T = TypeVar("T")


def default_root() -> Path:
    """Where flows/ and locales/ live: ANSHIN_CONTENT, else the checkout, else the installed copy."""
    configured = os.environ.get("ANSHIN_CONTENT")
    if configured:
        return Path(configured)
    package = Path(__file__).resolve().parent
    for candidate in (package.parent, package / "content"):
        if (candidate / "flows").is_dir():
            return candidate
    return Path.cwd()


root_option = click.option(
    "--root", type=click.Path(file_okay=False, path_type=Path), default=None,
    help="Content directory holding flows/ and locales/ (default: $ANSHIN_CONTENT or the project).",
)


def _engine(root: Path | None, clock: datetime | None = None) -> Engine:
    try:
        return Engine(load_content(root or default_root()), clock=(lambda: clock) if clock else None,
                      spring=_spring_periods())
    except ContentError as error:
        raise click.ClickException(str(error)) from None


def run_async(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` on uvloop where it is installed (Linux and macOS; aiogram's own "fast" choice): the
    event loop and its sockets in C, a tenth less CPU per webhook update."""
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


def _spring_periods() -> tuple[Period, ...]:
    """ANSHIN_SPRING_PERIOD: Spring Safety Net periods in Japan, e.g. 02-01..05-31 (the default); off: none."""
    text = os.environ.get("ANSHIN_SPRING_PERIOD")
    if text is None:
        return SPRING_DEFAULT
    try:
        return parse_periods(text)
    except ValueError as error:
        raise click.UsageError(f"ANSHIN_SPRING_PERIOD: {error}") from None


def _utf8_streams() -> tuple[TextIO, TextIO]:
    """stdin and stdout as UTF-8 whatever the machine's locale, since answers are Japanese."""
    for stream in (sys.stdin, sys.stdout):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(encoding="utf-8", errors="replace")
    return sys.stdin, sys.stdout


def _configure_logging() -> None:
    level = os.environ.get("ANSHIN_LOG_LEVEL", "WARNING").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"ANSHIN_LOG_LEVEL={level!r} is not a log level; use DEBUG, INFO, WARNING or ERROR")
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


@click.group(help="Anshin (安心): chat guidance on online safety that always leads to a human helper.")
@click.version_option(package_name="anshin")
def main() -> None:
    _configure_logging()


@main.command(help="Validate flows, services and catalogues; list every problem as file: path: problem.")
@root_option
def check(root: Path | None) -> None:
    content = load_content(root or default_root())
    problems = check_content(content)
    errors = [p for p in problems if p.severity == "error"]
    for problem in problems:
        click.echo(str(problem), err=problem.severity == "error")
    from bot.engine.check import completeness

    # Floored, so a locale one message short never shows 100%.
    counts = ", ".join(f"{code} {have * 100 // need if need else 100}% ({have}/{need})"
                       for code, (have, need) in completeness(content).items())
    click.echo(f"{len(content.nodes)} screens, {len(content.services)} services, messages per locale: {counts}")
    if errors:
        click.echo(f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"ok: no errors, {len(problems)} warning(s)")


@main.command(help="Run the bot as a JSON-lines filter: one event per stdin line, one answer per stdout line.")
@root_option
@click.option("--clock", type=click.DateTime(["%Y-%m-%dT%H:%M"]), default=None,
              help="Fixed Japan time for 'open now' (golden transcripts), e.g. 2027-04-01T10:00.")
def simulate(root: Path | None, clock: datetime | None) -> None:
    from bot.channels.simulate import run_simulator
    from bot.engine.render import JAPAN

    engine = _engine(root, clock.replace(tzinfo=JAPAN) if clock else None)
    sys.exit(run_simulator(engine, *_utf8_streams()))


@main.command(help="Chat with the bot in this terminal (no Telegram token needed).")
@root_option
@click.option("--lang", default=None, help="Language code such as ja or en (default: $ANSHIN_LOCALE or ja).")
def chat(root: Path | None, lang: str | None) -> None:
    from bot.channels.console import run_console

    engine = _engine(root)
    language = lang or os.environ.get("ANSHIN_LOCALE")
    sys.exit(run_console(engine, *_utf8_streams(), language))


@main.command(help="Run the bot: on Telegram when ANSHIN_TELEGRAM_TOKEN is set, otherwise the web chat on "
              "http://127.0.0.1:8080/ (or the terminal chat with --terminal).")
@root_option
@click.option("--lang", default=None, help="Language code for the terminal chat.")
@click.option("--terminal", is_flag=True, help="Without a token, chat in this terminal instead of the web chat.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Web chat port.")
@click.pass_context
def run(ctx: click.Context, root: Path | None, lang: str | None, terminal: bool, port: int) -> None:
    if os.environ.get("ANSHIN_TELEGRAM_TOKEN"):
        telegram = main.get_command(ctx, "telegram")
        if telegram is None:
            raise click.ClickException("ANSHIN_TELEGRAM_TOKEN is set but this build has no Telegram channel")
        ctx.invoke(telegram)
        return
    if terminal:
        ctx.invoke(chat, root=root, lang=lang)
        return
    serve_command = main.get_command(ctx, "serve")
    if serve_command is None:
        raise click.ClickException("this build has no web chat; use `anshin run --terminal`")
    ctx.invoke(serve_command, root=root, port=port)


# --- Campaigns and operations (issue 9): links and posters, diagrams, reach reports -----------------------


class ConfigError(click.ClickException):
    """A wrong option or setting: one clear line, exit code 2 (like a usage error)."""

    exit_code = EXIT_CONFIG


@main.command(help="Print a campaign's Telegram deep link and web chat link; --qr writes an A4 poster (.png/.svg).")
@root_option
@click.option("--campaign", required=True, help="Campaign code, letters, digits and _ (e.g. spring2027).")
@click.option("--audience", required=True, type=click.Choice(["parent", "teen", "school"]),
              help="Who the poster is for: the link opens that audience's menu.")
@click.option("--lang", default="ja", show_default=True, help="Language of the bot and the poster (ja or en).")
@click.option("--qr", "poster", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a printable A4 poster with the QR code: poster.png or poster.svg.")
@click.option("--bot-username", default=None, help="The bot's Telegram username (default: $ANSHIN_BOT_USERNAME).")
@click.option("--web-url", default=None, help="Base URL of the web chat (default: $ANSHIN_WEB_URL).")
def link(root: Path | None, campaign: str, audience: str, lang: str, poster: Path | None,
         bot_username: str | None, web_url: str | None) -> None:
    from bot.i18n import Catalogs
    from bot.ops.links import LinkError, build_links
    from bot.ops.poster import PosterError, poster_text, write_poster

    username = bot_username or os.environ.get("ANSHIN_BOT_USERNAME")
    if not username:
        raise ConfigError("no bot username: pass --bot-username NAME or set ANSHIN_BOT_USERNAME")
    catalogs = Catalogs.load((root or default_root()) / "locales")
    try:
        links = build_links(campaign, audience, lang, username, web_url or os.environ.get("ANSHIN_WEB_URL"),
                            catalogs.locales)
    except LinkError as error:
        raise ConfigError(str(error)) from None
    click.echo(f"payload:  {links.payload}")
    click.echo(f"telegram: {links.telegram}")
    click.echo(f"web:      {links.web or '(no web chat URL: pass --web-url or set ANSHIN_WEB_URL)'}")
    if poster is not None:
        try:
            write_poster(poster, links.telegram, poster_text(catalogs, lang, audience, links.telegram))
        except PosterError as error:
            raise ConfigError(str(error)) from None
        click.echo(f"poster:   {poster}")


@main.command(help="Serve the web chat (one page and a JSON endpoint) on this machine.")
@root_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free).")
@click.option("--exit-url", default=None,
              help="Where the quick-exit button goes (default: $ANSHIN_EXIT_URL or https://www.yahoo.co.jp/).")
def serve(root: Path | None, host: str, port: int, exit_url: str | None) -> None:
    from bot.channels.web.app import DEFAULT_EXIT_URL, run_web

    target = exit_url or os.environ.get("ANSHIN_EXIT_URL") or DEFAULT_EXIT_URL
    if not target.startswith(("https://", "http://")):
        raise click.UsageError(f"--exit-url {target!r} must start with https://")
    shown = f"[{host}]" if ":" in host else host

    def ready(bound: int) -> None:
        click.echo(f"Anshin web chat: http://{shown}:{bound}/  (Ctrl-C to stop)", err=True)

    engine = _engine(root)
    sys.exit(run_web(engine, host, port, exit_url=target, ready=ready, metrics=_reach_metrics(engine)))


@main.command(help="Draw the flows from the compiled machine: mermaid text or SVG (needs graphviz's dot).")
@root_option
@click.option("--flow", default=None, help="Only this flow's screens (e.g. teen); default: every flow.")
@click.option("--top", is_flag=True, help="Only the start screen and the audience menus (the README diagram).")
@click.option("--format", "fmt", type=click.Choice(["mermaid", "svg"]), default="mermaid", show_default=True)
@click.option("--lang", default="ja", show_default=True, help="Language of the button labels on the edges.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
def graph(root: Path | None, flow: str | None, top: bool, fmt: str, lang: str, output: Path | None) -> None:
    from bot.ops.graph import GraphError, screens_for, to_mermaid, to_svg

    engine = _engine(root)
    if lang not in engine.locales:
        raise ConfigError(f"unknown language {lang!r}; shipped: {', '.join(engine.locales)}")
    try:
        sources = screens_for(engine, flow, top)
        text = to_mermaid(engine, sources, lang) if fmt == "mermaid" else to_svg(engine, sources, lang)
    except GraphError as error:
        raise ConfigError(str(error)) from None
    if output is None:
        _utf8_streams()
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@main.command(help="Print a campaign table (starts by audience and language) from a /metrics URL or a saved file.")
@click.option("--from", "source", required=True, help="http(s)://host/metrics or a file holding its text.")
def report(source: str) -> None:
    import urllib.error
    import urllib.request

    from bot.ops.report import ReportError, campaign_rows, format_table

    try:
        if source.startswith(("http://", "https://")):
            with urllib.request.urlopen(source, timeout=10) as response:
                text = response.read().decode("utf-8")
        else:
            text = Path(source).read_text(encoding="utf-8")
        rows = campaign_rows(text)
    except (OSError, urllib.error.URLError, UnicodeDecodeError) as error:
        raise ConfigError(f"cannot read {source}: {error}") from None
    except ReportError as error:
        raise ConfigError(f"{source}: {error}") from None
    _utf8_streams()
    click.echo(format_table(rows), nl=False)


def _reach_metrics(engine: Engine) -> ReachMetrics:
    """Counters for /metrics; ANSHIN_CAMPAIGNS lists the campaign codes counted by name (others: other)."""
    from bot.metrics import ReachMetrics

    try:
        return ReachMetrics.for_engine(engine, os.environ.get("ANSHIN_CAMPAIGNS", "").split(","))
    except ValueError as error:
        raise ConfigError(f"ANSHIN_CAMPAIGNS: {error}") from None


# --- Telegram (issue 4): polling, webhook, setup ---------------------------------------------------------

TELEGRAM_ENV_HELP = """
\b
Environment (see env.example):
  ANSHIN_TELEGRAM_TOKEN  bot token from @BotFather (required)
  ANSHIN_TELEGRAM_API    Bot API base URL (default https://api.telegram.org); the bot
                         calls <base>/bot<token>/<method>, so a self-hosted server works
  ANSHIN_WEBHOOK_URL     --webhook: public https URL Telegram posts to; its path is served
  ANSHIN_WEBHOOK_SECRET  --webhook: 16-256 characters A-Z a-z 0-9 _ -, checked on every POST
  ANSHIN_HOST            --webhook: address to listen on (default 127.0.0.1)
  ANSHIN_PORT            --webhook: port to listen on (default 8080)
  ANSHIN_LOCALE          language for users whose app sends none, and for the default
                         descriptions of `setup` (default ja)
  ANSHIN_LOG_LEVEL       DEBUG, INFO, WARNING (default) or ERROR; no update content is logged
"""


def _setting(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise ConfigError(f"{name} is not set; see `anshin telegram --help` and env.example")
    return default


def _url_setting(name: str, default: str | None = None) -> str:
    from urllib.parse import urlsplit

    value = _setting(name, default)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL such as https://example.org/telegram")
    return value


def _telegram_token() -> str:
    import re

    token = _setting("ANSHIN_TELEGRAM_TOKEN")
    if not re.fullmatch(r"\d{1,20}:[A-Za-z0-9_-]{20,100}", token):
        raise ConfigError("ANSHIN_TELEGRAM_TOKEN does not look like a bot token (digits:letters from @BotFather)")
    return token


def _telegram_locale(engine: Engine) -> str | None:
    value = os.environ.get("ANSHIN_LOCALE", "").strip()
    if value and value not in engine.locales:
        raise ConfigError(f"ANSHIN_LOCALE={value!r} is not a shipped language; use one of {', '.join(engine.locales)}")
    return value or None


def _telegram_channel(framework: str) -> ModuleType:
    """bot.channels.telegram.aiogram_bot or ptb_bot: the same functions (run, create_bot, setup), the same bot."""
    from importlib import import_module

    return import_module(f"bot.channels.telegram.{framework}_bot")


TELEGRAM_FRAMEWORKS = ("aiogram", "ptb")
framework_option = click.option(
    "--framework", type=click.Choice(TELEGRAM_FRAMEWORKS), default="aiogram", show_default=True,
    help="Telegram library: aiogram, or ptb (python-telegram-bot 22). Both behave the same; pick the one you run.")


@main.group(invoke_without_command=True, epilog=TELEGRAM_ENV_HELP,
            help="Run the bot on Telegram (aiogram, or python-telegram-bot with --framework ptb): long polling, "
            "or --webhook behind an https proxy. `anshin telegram --framework ptb setup` sets up with PTB.")
@root_option
@click.option("--webhook", is_flag=True, help="Serve a webhook (ANSHIN_WEBHOOK_URL/_SECRET, ANSHIN_HOST/_PORT).")
@framework_option
@click.pass_context
def telegram(ctx: click.Context, root: Path | None, webhook: bool, framework: str = "aiogram") -> None:
    import re
    from urllib.parse import urlsplit

    if ctx.invoked_subcommand is not None:
        return
    token, api = _telegram_token(), _url_setting("ANSHIN_TELEGRAM_API", "https://api.telegram.org")
    if webhook:
        url = _url_setting("ANSHIN_WEBHOOK_URL")
        secret = _setting("ANSHIN_WEBHOOK_SECRET")
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ConfigError("ANSHIN_WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        host, port_text = _setting("ANSHIN_HOST", "127.0.0.1"), _setting("ANSHIN_PORT", "8080")
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            raise ConfigError(f"ANSHIN_PORT={port_text!r} is not a port number (1-65535)")
    engine = _engine(root)
    lang = _telegram_locale(engine)
    from bot.channels.telegram.common import WebhookSettings

    channel = _telegram_channel(framework)
    metrics = _reach_metrics(engine)
    settle_heap()
    try:
        if webhook:
            path = urlsplit(url).path or "/"
            click.echo(f"anshin telegram: webhook on {host}:{port_text}{path} ({framework}; SIGTERM or Ctrl-C stops)",
                       err=True)
            hook = WebhookSettings(url, secret, host, int(port_text), path)
            run_async(channel.run(engine, token, api, lang, metrics, hook))
        else:
            click.echo(f"anshin telegram: polling ({framework}; SIGTERM or Ctrl-C stops)", err=True)
            run_async(channel.run(engine, token, api, lang, metrics))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    except Exception as error:  # one line, no traceback, nothing from an update
        raise click.ClickException(f"telegram stopped: {type(error).__name__}") from None
    click.echo("anshin telegram: stopped", err=True)


@telegram.command(name="setup", epilog=TELEGRAM_ENV_HELP,
                  help="Set the command menu and the bot descriptions in every shipped language and a default.")
@root_option
@click.pass_context
def telegram_setup(ctx: click.Context, root: Path | None) -> None:

    token, api = _telegram_token(), _url_setting("ANSHIN_TELEGRAM_API", "https://api.telegram.org")
    engine = _engine(root)
    lang = _telegram_locale(engine)
    framework = ctx.parent.params.get("framework", "aiogram") if ctx.parent else "aiogram"
    channel = _telegram_channel(framework)

    try:
        done = run_async(channel.setup(engine, channel.create_bot(token, api), lang))
    except Exception as error:
        raise click.ClickException(f"telegram setup failed: {type(error).__name__}") from None
    for line in done:
        click.echo(line)


@main.command(name="eval", help="Evaluate the free-text safety classifier on a labelled set: recall per crisis "
              "category, benign false alarms, topic accuracy, the confusion table.")
@click.argument("path", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--split", default="all", help="Which part of the set (dev, heldout, blind, fresh, all).")
@click.option("--failures", is_flag=True, help="List the misclassified phrases too.")
def evaluate(path: Path | None, split: str, failures: bool) -> None:
    from bot.safety import evaluate as safety_eval

    args = [str(path)] if path else []
    sys.exit(safety_eval.main([*args, "--split", split, *(["--failures"] if failures else [])]))
