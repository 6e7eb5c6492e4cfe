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

from bot.safety.classify import Assessment, assess
from bot.safety.embedder import rules_only
from bot.safety.lexicon import normalise

__all__ = ["Assessment", "assess", "normalise", "rules_only"]
