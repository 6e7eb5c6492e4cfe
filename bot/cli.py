"""``anshin ...`` commands: the only place that reads configuration (environment, options)."""

from __future__ import annotations

import io
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

import click

from bot.engine import ContentError, Engine, check_content, load_content
from bot.engine.season import SPRING_DEFAULT, Period, parse_periods

__all__ = ["main"]

EXIT_PROBLEMS = 1
EXIT_CONFIG = 2


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
        raise click.UsageError(f"ANSHIN_LOG_LEVEL={level!r} is not a log level; use DEBUG, INFO, WARNING or ERROR")
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
    catalogs = content.catalogs
    counts = ", ".join(f"{code} {len(catalogs.message_ids(code))}" for code in catalogs.locales)
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


@main.command(help="Run the bot: on Telegram when ANSHIN_TELEGRAM_TOKEN is set, otherwise the local chat.")
@root_option
@click.option("--lang", default=None, help="Language code for the local chat.")
@click.pass_context
def run(ctx: click.Context, root: Path | None, lang: str | None) -> None:
    if os.environ.get("ANSHIN_TELEGRAM_TOKEN"):
        telegram = main.get_command(ctx, "telegram")
        if telegram is None:
            raise click.ClickException("ANSHIN_TELEGRAM_TOKEN is set but this build has no Telegram channel")
        ctx.invoke(telegram)
        return
    ctx.invoke(chat, root=root, lang=lang)


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


@main.command(help="Serve the web chat (one page and a JSON endpoint) on this machine.")
@root_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free).")
@click.option("--exit-url", default=None,
              help="Where the quick-exit button goes (default: $ANSHIN_EXIT_URL or https://www.yahoo.co.jp/).")
def serve(root: Path | None, host: str, port: int, exit_url: str | None) -> None:
    from bot.channels.web import DEFAULT_EXIT_URL, run_web

    target = exit_url or os.environ.get("ANSHIN_EXIT_URL") or DEFAULT_EXIT_URL
    if not target.startswith(("https://", "http://")):
        raise click.UsageError(f"--exit-url {target!r} must start with https://")
    shown = f"[{host}]" if ":" in host else host

    def ready(bound: int) -> None:
        click.echo(f"Anshin web chat: http://{shown}:{bound}/  (Ctrl-C to stop)", err=True)

    sys.exit(run_web(_engine(root), host, port, exit_url=target, ready=ready))
