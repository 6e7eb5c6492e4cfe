"""``anshin ...`` commands: the only place that reads configuration (environment, options).

``base`` holds what every command shares; each other module registers one group of commands on ``main``.
"""

from bot.cli import campaigns, line, local, telegram  # noqa: F401  (registers their commands on main)
from bot.cli.base import main, run_async

__all__ = ["main", "run_async"]
