"""Commands that need no messenger: check, simulate, chat, serve (the web chat), run, graph, eval."""

from __future__ import annotations

import gc
import os
import sys
from datetime import datetime
from pathlib import Path

import click

from bot.cli.base import (
    EXIT_PROBLEMS,
    ConfigError,
    address_in_use,
    default_root,
    engine_for,
    listen_address,
    main,
    reach_metrics,
    root_option,
    settle_heap,
    utf8_streams,
)
from bot.engine import check_content, load_content
from bot.engine.stamp import STAMP_FILE, write_stamp

__all__ = ["chat", "check", "evaluate", "graph", "run", "serve", "simulate"]


@main.command(help="Validate flows, services and catalogues; list every problem as file: path: problem.")
@root_option
@click.option("--stamp", is_flag=True, help=f"When there are no errors, write {STAMP_FILE}: start-up then skips the "
              "checks that render every screen, as long as the content and the engine are unchanged.")
def check(root: Path | None, stamp: bool) -> None:
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
    if stamp:
        try:
            write_stamp(content.root)
            click.echo(f"stamp: {STAMP_FILE} written")
        except OSError as error:
            raise ConfigError(f"cannot write {STAMP_FILE}: {error.strerror}") from None
    elif not content.stamped:
        click.echo(f"note: {STAMP_FILE} is not current; `anshin check --stamp` lets start-up skip rendering "
                   "every screen")
    click.echo(f"ok: no errors, {len(problems)} warning(s)")


@main.command(help="Run the bot as a JSON-lines filter: one event per stdin line, one answer per stdout line.")
@root_option
@click.option("--clock", type=click.DateTime(["%Y-%m-%dT%H:%M"]), default=None,
              help="Fixed Japan time for 'open now' (golden transcripts), e.g. 2027-04-01T10:00.")
def simulate(root: Path | None, clock: datetime | None) -> None:
    from bot.channels.simulate import run_simulator
    from bot.engine.render import JAPAN

    engine = engine_for(root, clock.replace(tzinfo=JAPAN) if clock else None)
    gc.enable()  # off while starting (main); a long run of lines needs it
    sys.exit(run_simulator(engine, *utf8_streams()))


@main.command(help="Chat with the bot in this terminal (no Telegram token needed).")
@root_option
@click.option("--lang", default=None, help="Language code such as ja or en (default: $ANSHIN_LOCALE or ja).")
def chat(root: Path | None, lang: str | None) -> None:
    from bot.channels.console import run_console

    engine = engine_for(root)
    gc.enable()  # off while starting (main)
    language = lang or os.environ.get("ANSHIN_LOCALE")
    sys.exit(run_console(engine, *utf8_streams(), language))


@main.command(help="Run the bot: on Telegram when ANSHIN_TELEGRAM_TOKEN is set, on LINE when "
              "ANSHIN_LINE_CHANNEL_SECRET and ANSHIN_LINE_CHANNEL_ACCESS_TOKEN are, otherwise the web chat on "
              "http://127.0.0.1:8080/ (or the terminal chat with --terminal).")
@root_option
@click.option("--lang", default=None, help="Language code for the terminal chat.")
@click.option("--terminal", is_flag=True, help="Without a token, chat in this terminal instead of the web chat.")
@click.option("--port", default=None, type=click.IntRange(0, 65535),
              help="Web chat port (default: $ANSHIN_PORT or 8080).")
@click.pass_context
def run(ctx: click.Context, root: Path | None, lang: str | None, terminal: bool, port: int | None) -> None:
    from bot.cli.line import line_configured

    if line_configured():
        if os.environ.get("ANSHIN_TELEGRAM_TOKEN"):
            raise ConfigError("both ANSHIN_TELEGRAM_TOKEN and the LINE settings are set: run `anshin telegram` or "
                              "`anshin line`, one medium per process")
        line = main.get_command(ctx, "line")
        if line is None:
            raise click.ClickException("the LINE settings are set but this build has no LINE channel")
        ctx.invoke(line, root=root)
        return
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


@main.command(help="Serve the web chat (one page and a JSON endpoint) on this machine.")
@root_option
@click.option("--host", default=None, help="Address to listen on (default: $ANSHIN_HOST or 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(0, 65535),
              help="Port (default: $ANSHIN_PORT or 8080; 0: any free).")
@click.option("--exit-url", default=None,
              help="Where the quick-exit button goes (default: $ANSHIN_EXIT_URL or https://www.yahoo.co.jp/).")
@click.option("--metrics-port", default=None, type=click.IntRange(0, 65535),
              help="Serve the reach counters (GET /metrics, for Prometheus) on this port; never on the chat's own. "
              "Default: not served.")
@click.option("--metrics-host", default="127.0.0.1", show_default=True,
              help="Address for --metrics-port: keep it internal.")
def serve(root: Path | None, host: str | None, port: int | None, exit_url: str | None,
          metrics_port: int | None = None, metrics_host: str = "127.0.0.1") -> None:
    from bot.channels.web.app import DEFAULT_EXIT_URL, CountersAddressError, run_web

    host, port = listen_address(host, port)
    target = exit_url or os.environ.get("ANSHIN_EXIT_URL") or DEFAULT_EXIT_URL
    if not target.startswith(("https://", "http://")):
        raise click.UsageError(f"--exit-url {target!r} must start with https://")
    shown = f"[{host}]" if ":" in host else host

    def ready(bound: int) -> None:
        click.echo(f"Anshin web chat: http://{shown}:{bound}/  (Ctrl-C to stop)", err=True)

    def metrics_ready(bound: int) -> None:
        counters = f"[{metrics_host}]" if ":" in metrics_host else metrics_host
        click.echo(f"reach counters: http://{counters}:{bound}/metrics", err=True)

    engine = engine_for(root)
    address = (metrics_host, metrics_port) if metrics_port is not None else None
    settle_heap()
    try:
        code = run_web(engine, host, port, exit_url=target, ready=ready, metrics=reach_metrics(engine),
                       metrics_address=address, metrics_ready=metrics_ready)
    except CountersAddressError as error:
        raise ConfigError(f"reach counters: cannot listen on {metrics_host}:{metrics_port} ({error.strerror}): "
                          "choose another with --metrics-host/--metrics-port") from None
    except OSError as error:
        raise address_in_use(error, host, port) or error from None
    sys.exit(code)


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

    engine = engine_for(root)
    if lang not in engine.locales:
        raise ConfigError(f"unknown language {lang!r}; shipped: {', '.join(engine.locales)}")
    try:
        sources = screens_for(engine, flow, top)
        text = to_mermaid(engine, sources, lang) if fmt == "mermaid" else to_svg(engine, sources, lang)
    except GraphError as error:
        raise ConfigError(str(error)) from None
    if output is None:
        utf8_streams()
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@main.command(name="eval", help="Evaluate the free-text safety classifier on a labelled set: recall per crisis "
              "category, benign false alarms, topic accuracy, the confusion table.")
@click.argument("path", required=False, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--split", default="all", help="Which part of the set (dev, heldout, blind, fresh, all).")
@click.option("--failures", is_flag=True, help="List the misclassified phrases too.")
def evaluate(path: Path | None, split: str, failures: bool) -> None:
    from bot.safety import evaluate as safety_eval

    args = [str(path)] if path else []
    sys.exit(safety_eval.main([*args, "--split", split, *(["--failures"] if failures else [])]))
