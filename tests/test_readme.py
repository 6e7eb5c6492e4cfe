"""README.md's two commands stay true: CI runs the same install and test commands."""

from __future__ import annotations

import re

from tests.conftest import PROJECT

README = (PROJECT / "README.md").read_text(encoding="utf-8")
CI = (PROJECT / ".ci" / "run").read_text(encoding="utf-8")


def commands() -> list[str]:
    return re.findall(r"```sh\n(python3 -m venv .*)\n```", README)


def test_readme_has_the_two_commands() -> None:
    run, test = commands()
    assert run.endswith("anshin run")
    assert test.endswith("pytest")


def test_ci_runs_the_readme_test_command() -> None:
    _, test = commands()
    steps = [step.strip() for step in test.split("&&")]
    ci_lines = [line.strip() for line in CI.splitlines()]
    for step in steps:
        if step.startswith(". .venv") or step.startswith("python3 -m venv"):
            continue  # CI makes its own fresh venv the same way
        assert step in ci_lines, f"README step {step!r} is not run by .ci/run"
