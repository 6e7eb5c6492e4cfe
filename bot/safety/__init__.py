"""Safety layer: normalise free text, spot a crisis, route to a content topic.

Pure and deterministic: stdlib + PyYAML, no network, no models, no logging of
the text. Rules and vocabulary are data (`rules.yaml`, `lexicon.yaml`).

    from bot.safety import assess
    a = assess("しにたーーい")
    a.category, a.topic, a.emergency, a.rule
    # ('suicide', 'help.suicide', True, 'suicide.want_to_die')
"""

from __future__ import annotations

from bot.safety.classify import Assessment, assess
from bot.safety.lexicon import normalise

__all__ = ["Assessment", "assess", "normalise"]
