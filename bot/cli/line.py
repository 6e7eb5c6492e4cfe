"""``anshin line``: the bot on LINE (a webhook server; LINE has no polling), and ``anshin line setup``."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.cli.base import (
    ConfigError,
    address_in_use,
    engine_for,
    listen_address,
    locale_setting,
    main,
    reach_metrics,
    root_option,
    run_async,
    setting,
    settle_heap,
)

if TYPE_CHECKING:
    from bot.channels.line.webhook import LineSettings

__all__ = ["line", "line_configured", "line_setup"]

LINE_ENV_HELP = """
\b
Environment (see env.example):
  ANSHIN_LINE_CHANNEL_SECRET        channel secret (LINE Developers console, "Basic
                                    settings"); verifies X-Line-Signature (required)
  ANSHIN_LINE_CHANNEL_ACCESS_TOKEN  long-lived channel access token ("Messaging API"
                                    tab) (required)
  ANSHIN_LINE_API                   one base URL instead of https://api.line.me and
                                    https://api-data.line.me (default: LINE's own)
  ANSHIN_LINE_WEBHOOK_PATH          the path LINE posts to (default /callback)
  ANSHIN_LINE_BASIC_ID              the account's @id: the add-friend button in the
                                    message a group gets, and `anshin link --channel line`
  ANSHIN_HOST                       address to listen on (default 127.0.0.1)
  ANSHIN_PORT                       port to listen on (default 8080)
  ANSHIN_LOCALE                     language of every event (LINE sends none; default ja)
  ANSHIN_LOG_LEVEL                  DEBUG, INFO, WARNING (default) or ERROR; no event content is logged
"""
SECRET = re.compile(r"[A-Za-z0-9]{16,128}")
ACCESS_TOKEN = re.compile(r"[A-Za-z0-9+/=._-]{20,2048}")
BASIC_ID = re.compile(r"@[A-Za-z0-9._-]{1,40}")
WEBHOOK_PATH = re.compile(r"/[A-Za-z0-9._~/-]{0,200}")


def line_configured() -> bool:
    """Both required LINE settings are present: what `anshin run` looks for."""
    return all(os.environ.get(name, "").strip() for name in ("ANSHIN_LINE_CHANNEL_SECRET",
                                                             "ANSHIN_LINE_CHANNEL_ACCESS_TOKEN"))


def _secret() -> str:
    secret = setting("ANSHIN_LINE_CHANNEL_SECRET")
    if not SECRET.fullmatch(secret):
        raise ConfigError("ANSHIN_LINE_CHANNEL_SECRET does not look like a channel secret (letters and digits from "
                          "the LINE Developers console, \"Basic settings\")")
    return secret


def _access_token() -> str:
    token = setting("ANSHIN_LINE_CHANNEL_ACCESS_TOKEN")
    if not ACCESS_TOKEN.fullmatch(token):
        raise ConfigError("ANSHIN_LINE_CHANNEL_ACCESS_TOKEN does not look like a channel access token (the long-lived "
                          "token from the LINE Developers console, \"Messaging API\" tab)")
    return token


def _api() -> str | None:
    from urllib.parse import urlsplit

    value = os.environ.get("ANSHIN_LINE_API", "").strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError("ANSHIN_LINE_API must be an http(s) base URL such as https://api.line.me")
    return value


def basic_id_setting() -> str | None:
    value = os.environ.get("ANSHIN_LINE_BASIC_ID", "").strip()
    if value and not BASIC_ID.fullmatch(value):
        raise ConfigError(f"ANSHIN_LINE_BASIC_ID={value!r} is not a LINE account id such as @anshin")
    return value or None


def _settings() -> LineSettings:
    from bot.channels.line.webhook import LineSettings

    secret, token, api = _secret(), _access_token(), _api()
    host, port = listen_address()
    path = setting("ANSHIN_LINE_WEBHOOK_PATH", "/callback")
    if not WEBHOOK_PATH.fullmatch(path) or path in ("/healthz", "/metrics"):
        raise ConfigError(f"ANSHIN_LINE_WEBHOOK_PATH={path!r} must be a path such as /callback "
                          "(not /healthz or /metrics)")
    return LineSettings(secret, token, api, host, port, path, basic_id_setting())


@main.group(invoke_without_command=True, epilog=LINE_ENV_HELP,
            help="Run the bot on LINE: a webhook server behind an https reverse proxy, answering with the reply API "
            "only. `anshin line setup` creates the rich menus.")
@root_option
@click.pass_context
def line(ctx: click.Context, root: Path | None) -> None:
    import asyncio

    if ctx.invoked_subcommand is not None:
        return
    settings = _settings()
    engine = engine_for(root)
    lang = locale_setting(engine)
    metrics = reach_metrics(engine)
    from bot.channels.line.webhook import run

    settle_heap()
    click.echo(f"anshin line: webhook on {settings.host}:{settings.port}{settings.path} (SIGTERM or Ctrl-C stops)",
               err=True)
    try:
        run_async(run(engine, settings, lang, metrics))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    except OSError as error:
        if (in_use := address_in_use(error, settings.host, settings.port, options=False)) is not None:
            raise in_use from None
        raise click.ClickException(f"line stopped: {type(error).__name__}") from None
    except Exception as error:  # one line, no traceback, nothing from an event
        raise click.ClickException(f"line stopped: {type(error).__name__}") from None
    click.echo("anshin line: stopped", err=True)


@line.command(name="setup", epilog=LINE_ENV_HELP,
              help="Create the rich menus (the four doors, one menu per language the fonts can draw, and a language "
              "menu), make the Japanese one the default, and delete Anshin's older ones. Safe to run again.")
@root_option
def line_setup(root: Path | None) -> None:
    from bot.channels.line.richmenu import apply_plans
    from bot.ops.richmenu import RichMenuError, plan_menus

    token, api = _access_token(), _api()
    engine = engine_for(root)
    lang = locale_setting(engine)
    try:
        plans = plan_menus(engine, lang)
    except RichMenuError as error:
        raise ConfigError(str(error)) from None
    drawn = [plan.locale for plan in plans if plan.locale]
    left_out = [code for code in engine.locales if code not in drawn]
    if left_out:
        click.echo(f"no rich menu for {', '.join(left_out)}: the font draws none of its labels "
                   "(they still choose their language in the chat)", err=True)
    try:
        done = run_async(apply_plans(list(plans), token, api))
    except Exception as error:
        status = getattr(error, "status", None)
        raise click.ClickException(f"line setup failed: {type(error).__name__}"
                                   + (f" (HTTP {status})" if status else "")) from None
    for step in done:
        click.echo(step)
