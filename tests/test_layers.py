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


def test_the_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import aiogram\nfrom bot.channels import simulate\n")
    assert {"aiogram", "bot.channels"} <= imported_modules(bad)
