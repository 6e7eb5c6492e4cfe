"""The system packages (Debian/Ubuntu) some tests use, and what happens without them.

A newcomer installs them with one line (README.md, "Run the tests"):

    sudo apt-get install -y fonts-noto-cjk graphviz chromium nginx openssl

Without one, the tests that need it skip, naming the package to install (``pytest -rs`` lists them; the suite's
options include it). In CI (``CI`` set) a missing package fails those tests instead: `.ci/run` installs them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

__all__ = ["APT_PACKAGES", "in_ci", "require", "require_tool"]

APT_PACKAGES = ("fonts-noto-cjk", "graphviz", "chromium", "nginx", "openssl")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(present: bool, package: str, what: str) -> None:
    """Skip (or, in CI, fail) the calling test when ``package`` is not installed."""
    if present:
        return
    message = f"{what} needs Debian's {package}: sudo apt-get install -y {package}"
    if in_ci():
        pytest.fail(f"{message} (.ci/run installs it)", pytrace=False)
    pytest.skip(message)


def require_tool(tool: str, package: str | None = None) -> str:
    """The path of a command (also looked for in /usr/sbin, where nginx lives), or skip/fail naming its package."""
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if Path(f"/usr/sbin/{tool}").exists() else None)
    require(path is not None, package or tool, f"`{tool}`")
    assert path is not None
    return path
