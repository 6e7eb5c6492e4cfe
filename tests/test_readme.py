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


def test_the_languages_table_gives_the_real_message_counts() -> None:
    """README's Languages section says how many texts each locale holds; `anshin check` counts them."""
    from bot.engine import load_content
    from bot.engine.check import completeness

    content = load_content(PROJECT)
    table = dict(re.findall(r"^\| `(\w+)` \| [^|]+ \| (\d+) \|", README, flags=re.MULTILINE))
    assert {locale: int(n) for locale, n in table.items()} == {
        locale: required for locale, (_, required) in completeness(content).items()}
    services = len(content.services)
    assert f"translate the {services} services' names" in README
    assert f"`services.po`, {3 * services} texts" in README


def test_the_delivery_contract_gives_the_codes_figures() -> None:
    """README's delivery contract (Telegram) names the budget, deadline, window and grace the code uses."""
    from bot.channels.delivery import OVERRUN, RECENT_EVENTS, SHUTDOWN_GRACE, WEBHOOK_DEADLINE, RetryPolicy

    found = re.search(r"^### Delivery: no reply lost, none doubled\n(.*?)(?=^##)", README, re.S | re.M)
    assert found, "README has no delivery contract"
    section, policy = " ".join(found.group(1).split()), RetryPolicy()
    for figure in (f"**{policy.budget / 60:g} minutes**", f"**{WEBHOOK_DEADLINE:g} s**", f"{RECENT_EVENTS:,} updates",
                   f"{policy.backoff:g} s doubling to {policy.max_delay:g} s", f"hand {SHUTDOWN_GRACE:g} s",
                   f"cancelled {OVERRUN:g} s later"):
        assert figure in section, figure
