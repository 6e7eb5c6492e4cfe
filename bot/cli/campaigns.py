"""Campaign commands: links and QR posters (``link``), reach tables from /metrics (``report``)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from bot.cli.base import ConfigError, default_root, main, root_option, utf8_streams

__all__ = ["link", "report"]


@main.command(help="Print a campaign's Telegram deep link (or, with --channel line, its LINE links) and web chat link; "
              "--qr writes an A4 poster (.png/.svg).")
@root_option
@click.option("--channel", type=click.Choice(["telegram", "line"]), default="telegram", show_default=True,
              help="The messenger the poster's QR code opens.")
@click.option("--line-id", default=None, help="The LINE official account's id, e.g. @anshin "
              "(default: $ANSHIN_LINE_BASIC_ID).")
@click.option("--campaign", required=True, help="Campaign code, letters, digits and _ (e.g. spring2027).")
@click.option("--audience", required=True, type=click.Choice(["parent", "teen", "school"]),
              help="Who the poster is for: the link opens that audience's menu.")
@click.option("--lang", default="ja", show_default=True, help="Language of the bot and the poster (ja or en).")
@click.option("--qr", "poster", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write a printable A4 poster with the QR code: poster.png or poster.svg.")
@click.option("--bot-username", default=None, help="The bot's Telegram username (default: $ANSHIN_BOT_USERNAME).")
@click.option("--web-url", default=None, help="Base URL of the web chat (default: $ANSHIN_WEB_URL).")
def link(root: Path | None, channel: str, line_id: str | None, campaign: str, audience: str, lang: str,
         poster: Path | None, bot_username: str | None, web_url: str | None) -> None:
    from bot.i18n import Catalogs
    from bot.ops.links import LinkError, build_links
    from bot.ops.poster import PosterError, poster_text, write_poster

    if channel == "line":
        _line_links(root, line_id, campaign, audience, lang, poster, web_url)
        return
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


def _line_links(root: Path | None, line_id: str | None, campaign: str, audience: str, lang: str,
                poster: Path | None, web_url: str | None) -> None:
    """``--channel line``: the add-friend link, the chat link with the campaign's text, and a poster of the latter."""
    from bot.i18n import Catalogs
    from bot.ops.links import LinkError, build_line_links, web_link
    from bot.ops.poster import PosterError, poster_text, write_poster

    account = line_id or os.environ.get("ANSHIN_LINE_BASIC_ID")
    if not account:
        raise ConfigError("no LINE account id: pass --line-id @ID or set ANSHIN_LINE_BASIC_ID")
    catalogs = Catalogs.load((root or default_root()) / "locales")
    web = web_url or os.environ.get("ANSHIN_WEB_URL")
    try:
        links = build_line_links(campaign, audience, lang, account, catalogs.locales)
        web_chat = web_link(web, links.payload) if web else None
    except LinkError as error:
        raise ConfigError(str(error)) from None
    click.echo(f"payload:  {links.payload}")
    click.echo(f"line:     {links.chat}")
    click.echo(f"friend:   {links.friend}")
    click.echo(f"web:      {web_chat or '(no web chat URL: pass --web-url or set ANSHIN_WEB_URL)'}")
    if poster is not None:
        try:
            write_poster(poster, links.chat, poster_text(catalogs, lang, audience, links.chat))
        except PosterError as error:
            raise ConfigError(str(error)) from None
        click.echo(f"poster:   {poster}")


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
    utf8_streams()
    click.echo(format_table(rows), nl=False)
