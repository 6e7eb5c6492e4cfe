"""``anshin chat``: the same conversation in a terminal, buttons chosen by number."""

from __future__ import annotations

import textwrap
from typing import IO

from bot.engine import COMMANDS, Engine, Event, Reply

__all__ = ["run_console"]

QUIT = ("/quit", "/exit", "/q")


def _show(reply: Reply, out: IO[str]) -> list[str]:
    """Print a reply; returns the button ids in the order they were numbered."""
    out.write("\n" + ("🚨 " if reply.emergency else "") + reply.text.strip() + "\n\n")
    ids: list[str] = []
    for row in reply.buttons:
        for button in row:
            if button.url is not None:
                out.write(f"   🔗 {button.label}: {button.url}\n")
            else:
                ids.append(button.id or "")
                out.write(f"  [{len(ids)}] {button.label}\n")
    return ids


def _event(line: str, ids: list[str], lang: str | None) -> Event:
    if line.isdigit() and 1 <= int(line) <= len(ids):
        return Event("press", ids[int(line) - 1], lang)
    if line.startswith("/"):
        name = line[1:].split()[0].lower() if line[1:].strip() else ""
        if name == "start":
            return Event("start", line[len("/start"):].strip(), lang)
        return Event("command", name if name in COMMANDS else "help", lang)
    return Event("text", line, lang)


def run_console(engine: Engine, stdin: IO[str], stdout: IO[str], lang: str | None = None) -> int:
    """A terminal conversation. It holds one person's session in this process, so it keeps the conversation's
    language: the language of the last screen shown (one chosen from /language included) is the language typed
    text and commands are answered in, as a messenger's app language would be."""
    hint = engine.content.catalogs.gettext(engine.content.catalogs.negotiate(lang), "sys.console.hint")
    stdout.write(textwrap.fill(hint, width=72) + "\n")
    ids: list[str] = []
    for reply in engine.handle(Event("start", "", lang)):
        ids = _show(reply, stdout)
        lang = reply.locale
    while True:
        stdout.write("\n> ")
        stdout.flush()
        line = stdin.readline()
        if not line or line.strip() in QUIT:
            stdout.write("\n")
            return 0
        if not line.strip():
            continue
        for reply in engine.handle(_event(line.strip(), ids, lang)):
            ids = _show(reply, stdout)
            lang = reply.locale
