"""``anshin telegram``: the bot on Telegram (aiogram or python-telegram-bot), by polling or webhook, and setup."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

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
    url_setting,
)

__all__ = ["telegram", "telegram_setup"]

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


def _telegram_token() -> str:
    import re

    token = setting("ANSHIN_TELEGRAM_TOKEN")
    if not re.fullmatch(r"\d{1,20}:[A-Za-z0-9_-]{20,100}", token):
        raise ConfigError("ANSHIN_TELEGRAM_TOKEN does not look like a bot token (digits:letters from @BotFather)")
    return token


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
    import asyncio
    import re
    from urllib.parse import urlsplit

    if ctx.invoked_subcommand is not None:
        return
    token, api = _telegram_token(), url_setting("ANSHIN_TELEGRAM_API", "https://api.telegram.org")
    if webhook:
        url = url_setting("ANSHIN_WEBHOOK_URL")
        secret = setting("ANSHIN_WEBHOOK_SECRET")
        if not re.fullmatch(r"[A-Za-z0-9_-]{16,256}", secret):
            raise ConfigError("ANSHIN_WEBHOOK_SECRET must be 16-256 characters of A-Z, a-z, 0-9, _ and -")
        host, port = listen_address()
    engine = engine_for(root)
    lang = locale_setting(engine)
    from bot.channels.telegram.common import WebhookSettings

    channel = _telegram_channel(framework)
    metrics = reach_metrics(engine)
    settle_heap()
    try:
        if webhook:
            path = urlsplit(url).path or "/"
            click.echo(f"anshin telegram: webhook on {host}:{port}{path} ({framework}; SIGTERM or Ctrl-C stops)",
                       err=True)
            hook = WebhookSettings(url, secret, host, port, path)
            run_async(channel.run(engine, token, api, lang, metrics, hook))
        else:
            click.echo(f"anshin telegram: polling ({framework}; SIGTERM or Ctrl-C stops)", err=True)
            run_async(channel.run(engine, token, api, lang, metrics))
    except (KeyboardInterrupt, asyncio.CancelledError):
        pass
    except OSError as error:
        if webhook and (in_use := address_in_use(error, host, port, options=False)) is not None:
            raise in_use from None
        raise click.ClickException(f"telegram stopped: {type(error).__name__}") from None
    except Exception as error:  # one line, no traceback, nothing from an update
        raise click.ClickException(f"telegram stopped: {type(error).__name__}") from None
    click.echo("anshin telegram: stopped", err=True)


@telegram.command(name="setup", epilog=TELEGRAM_ENV_HELP,
                  help="Set the command menu and the bot descriptions in every shipped language and a default.")
@root_option
@click.pass_context
def telegram_setup(ctx: click.Context, root: Path | None) -> None:

    token, api = _telegram_token(), url_setting("ANSHIN_TELEGRAM_API", "https://api.telegram.org")
    engine = engine_for(root)
    lang = locale_setting(engine)
    framework = ctx.parent.params.get("framework", "aiogram") if ctx.parent else "aiogram"
    channel = _telegram_channel(framework)

    try:
        done = run_async(channel.setup(engine, channel.create_bot(token, api), lang))
    except Exception as error:
        raise click.ClickException(f"telegram setup failed: {type(error).__name__}") from None
    for line in done:
        click.echo(line)
