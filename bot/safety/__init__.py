"""Safety layer: normalise free text, spot a crisis, route to a content topic, in all nine shipped languages.

Deterministic, no network, no logging of the text. Rules and vocabulary are data (`rules.yaml`,
`rules_world.yaml`, `lexicon.yaml`); when no rule fires, a pinned multilingual sentence model reads the message
against exemplars (`exemplars.yaml`, exemplars.py), loaded on the first message; where it cannot run, the rules
answer alone. `import bot.safety` loads no model.

    from bot.safety import assess
    a = assess("しにたーーい")
    a.category, a.topic, a.emergency, a.rule
    # ('suicide', 'help.suicide', True, 'suicide.want_to_die')
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.safety.classify import Assessment, assess
    from bot.safety.embedder import rules_only
    from bot.safety.lexicon import normalise

__all__ = ["Assessment", "assess", "normalise", "rules_only", "warm_up"]


def warm_up() -> bool:
    """Build the rules and load the exemplar layer now, rather than at the first message (a server calls this in
    a background thread once it listens). True when the exemplar layer is on."""
    from bot.safety import classify  # noqa: F401  (builds the rule set)
    from bot.safety.exemplars import EXEMPLARS

    return EXEMPLARS.ready()


def __getattr__(name: str) -> Any:
    """Build the rules only when they are first used: ``bot.safety.categories`` (read by the metrics) must not
    pay for compiling thousands of terms in a process that never reads text."""
    if name in ("Assessment", "assess"):
        from bot.safety import classify

        return getattr(classify, name)
    if name == "normalise":
        from bot.safety.lexicon import normalise

        return normalise
    if name == "rules_only":
        from bot.safety.embedder import rules_only

        return rules_only
    raise AttributeError(f"module 'bot.safety' has no attribute {name!r}")
