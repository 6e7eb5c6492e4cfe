"""Read YAML data files with libyaml's parser where PyYAML was built with it (5-10x faster than the
pure-Python one), else the pure-Python one; both are PyYAML's safe loaders and give the same values."""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["YAMLError", "safe_load"]

_FAST: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
YAMLError = yaml.YAMLError


def safe_load(text: str | bytes) -> Any:
    """``yaml.safe_load`` on the fastest safe loader this PyYAML has. A document that does not parse is read
    again by the pure-Python parser, whose message says what it found ("expected ',' or ']', but got ':'")."""
    try:
        return yaml.load(text, Loader=_FAST)
    except yaml.YAMLError:
        if _FAST is yaml.SafeLoader:
            raise
        return yaml.safe_load(text)  # raises the same error, told better
