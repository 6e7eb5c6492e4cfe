"""Dependencies point one way: cli -> channels -> engine -> i18n. Read the imports to prove it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"
TELEGRAM_AND_IO = ("aiogram", "telegram", "aiohttp", "requests", "httpx", "socket", "click")
FORBIDDEN = {
    "engine": ("bot.channels", "bot.cli", *TELEGRAM_AND_IO),
    "i18n": ("bot.engine", "bot.channels", "bot.cli", "bot.safety", *TELEGRAM_AND_IO),
    "safety": ("bot.engine", "bot.channels", "bot.cli", *TELEGRAM_AND_IO),
    "channels": ("bot.cli",),
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "bot.channels":  # `from bot.channels import web` imports a module
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package: str) -> None:
    files = sorted((BOT / package).rglob("*.py"))
    if package != "safety":
        assert files, f"bot/{package} has no modules"
    offending = [
        f"{path.relative_to(BOT.parent)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if any(name == banned or name.startswith(banned + ".") for banned in FORBIDDEN[package])
    ]
    assert offending == []


# A channel holds no flow logic (no state machine, no content loading) and no other channel: a medium's package
# imports only the engine's public API, the shared modules below, and its own modules.
CHANNEL_SHARED = ("bot.channels.server", "bot.channels.delivery", "bot.channels.protocol", "bot.channels.recent",
                  "bot.engine", "bot.metrics")
FLOW_LOGIC = ("transitions", "bot.engine.machine", "bot.engine.loader", "bot.engine.render", "bot.engine.check")


def channel_of(path: Path) -> str:
    """``bot/channels/telegram/common.py`` -> ``bot.channels.telegram``; ``bot/channels/console.py`` -> its module."""
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:3])


def test_channels_hold_no_flow_logic_and_no_other_channel() -> None:
    channels = sorted((BOT / "channels").rglob("*.py"))
    offending = []
    for path in channels:
        own = channel_of(path)
        for name in imported_modules(path):
            if any(name == banned or name.startswith(banned + ".") for banned in FLOW_LOGIC):
                offending.append(f"{path.relative_to(BOT.parent)} imports flow logic: {name}")
            elif name.startswith("bot.channels") and not (
                    name == own or name.startswith(own + ".") or name in CHANNEL_SHARED or name == "bot.channels"):
                offending.append(f"{path.relative_to(BOT.parent)} imports another channel: {name}")
    assert {channel_of(p) for p in channels} >= {"bot.channels.telegram", "bot.channels.web", "bot.channels.line"}
    assert offending == []


def test_the_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import aiogram\nfrom bot.channels import simulate\n")
    assert {"aiogram", "bot.channels", "bot.channels.simulate"} <= imported_modules(bad)
