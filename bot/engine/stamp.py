"""A stamp of content that ``anshin check`` found sound, so that start-up need not prove it again.

Rendering every screen in every language, audience and time (the costliest check, a fifth of a second) proves
the same thing at every start while the content is unchanged. ``anshin check --stamp`` writes the digest of what
it checked to ``flows/checked.sha256``; at start-up, the same digest means the rendered checks can be skipped.
The digest covers every content file and the source of the code that checks and renders it, so a changed text,
screen, service or check rule makes the engine run the full check again: content ``anshin check`` rejects is
never served.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

__all__ = ["STAMP_FILE", "content_digest", "is_stamped", "write_stamp"]

STAMP_FILE = "flows/checked.sha256"
_CODE = Path(__file__).resolve().parent.parent  # bot/: the engine and the catalogues' code are part of the proof
_CODE_PARTS = ("engine", "i18n")


def _files(root: Path) -> list[tuple[str, Path]]:
    content = [*(root / "flows").glob("*.yaml"), *(root / "locales").glob("*/LC_MESSAGES/*.po")]
    code = [p for part in _CODE_PARTS for p in (_CODE / part).glob("*.py")]
    return sorted([(f"content/{p.relative_to(root).as_posix()}", p) for p in content]
                  + [(f"code/{p.relative_to(_CODE).as_posix()}", p) for p in code])


def content_digest(root: Path) -> str:
    """sha256 over every content file and the checking code, each with its name."""
    digest = hashlib.sha256()
    for name, path in _files(root):
        data = path.read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def is_stamped(root: Path) -> bool:
    """True when ``flows/checked.sha256`` holds the digest of the content and code as they are now."""
    try:
        stamp = (root / STAMP_FILE).read_text(encoding="ascii").split()
    except (OSError, UnicodeDecodeError):
        return False
    try:
        return bool(stamp) and stamp[0] == content_digest(root)
    except OSError:
        return False


def write_stamp(root: Path) -> Path:
    path = root / STAMP_FILE
    path.write_text(f"{content_digest(root)}  written by `anshin check --stamp`; see bot/engine/stamp.py\n",
                    encoding="ascii")
    return path
