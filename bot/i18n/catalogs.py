"""Load every ``locales/<lang>/LC_MESSAGES/*.po`` once and answer lookups from memory.

Catalogues are read with Babel at start-up instead of compiled ``.mo`` files, so a content
editor's change to a ``.po`` file is live after a restart with no build step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.pofile import read_po

__all__ = ["CatalogIssue", "Catalogs", "placeholders"]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` placeholders a message uses; they must match across locales."""
    return frozenset(_PLACEHOLDER.findall(text))


@dataclass(frozen=True)
class CatalogIssue:
    """A problem found while loading catalogues, located like every ``anshin check`` problem."""

    file: str
    path: str
    message: str


class Catalogs:
    """Translated messages by locale; the first locale given is the fallback."""

    def __init__(self, messages: dict[str, dict[str, str]], default: str) -> None:
        if default not in messages:
            raise ValueError(f"default locale {default!r} has no catalogue; have {sorted(messages)}")
        self._messages = messages
        self.default = default
        # The default first, then the rest in a stable order: this is the language menu's order.
        self.locales: tuple[str, ...] = (default, *sorted(code for code in messages if code != default))
        self.issues: list[CatalogIssue] = []
        self.files: dict[str, list[str]] = {}

    @classmethod
    def load(cls, root: Path, default: str = "ja") -> Catalogs:
        messages: dict[str, dict[str, str]] = {}
        issues: list[CatalogIssue] = []
        files: dict[str, list[str]] = {}
        for lang_dir in sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []:
            code = lang_dir.name
            table: dict[str, str] = {}
            po_paths = sorted((lang_dir / "LC_MESSAGES").glob("*.po"))
            if not po_paths:
                continue  # a directory without catalogues is not a shipped locale
            for po_path in po_paths:
                shown = _shown(po_path, root)
                files.setdefault(code, []).append(shown)
                try:
                    with po_path.open("rb") as handle:
                        catalog = read_po(handle, locale=None, abort_invalid=True)
                except Exception as error:  # Babel raises several types for a broken file
                    issues.append(CatalogIssue(shown, "", f"cannot read catalogue: {error}"))
                    continue
                for entry in catalog:
                    if not entry.id or not isinstance(entry.id, str):
                        continue  # the header, or a plural entry (not used by flows yet)
                    text = entry.string if isinstance(entry.string, str) else ""
                    if entry.fuzzy or not text:
                        continue  # untranslated: counted as missing by the check
                    if entry.id in table:
                        issues.append(CatalogIssue(shown, entry.id, "message id defined twice"))
                    table[entry.id] = text
            messages[code] = table
        if default not in messages:
            messages[default] = {}
            issues.append(CatalogIssue(_shown(root, root.parent), default, "default locale has no catalogue"))
        catalogs = cls(messages, default)
        catalogs.issues = issues
        catalogs.files = files
        return catalogs

    def has(self, locale: str, msgid: str) -> bool:
        return msgid in self._messages.get(locale, {})

    def message_ids(self, locale: str) -> frozenset[str]:
        return frozenset(self._messages.get(locale, {}))

    def gettext(self, locale: str, msgid: str) -> str:
        """The text in ``locale``, else in the default locale, else the id itself (never raises)."""
        table = self._messages.get(locale)
        if table is not None and msgid in table:
            return table[msgid]
        return self._messages[self.default].get(msgid, msgid)

    def negotiate(self, client: str | None) -> str:
        """Map a client language code (``en-US``, ``ja``, ``pt-br``) to a shipped locale."""
        if not client or len(client) > 35:
            return self.default
        code = client.strip().replace("-", "_")
        if code in self._messages:
            return code
        try:
            parsed = Locale.parse(code)
        except (ValueError, TypeError, UnknownLocaleError):
            return self.default
        candidates = [str(parsed), f"{parsed.language}_{parsed.script}" if parsed.script else "", parsed.language]
        for candidate in candidates:
            if candidate and candidate in self._messages:
                return candidate
        return self.default

    def display_name(self, locale: str) -> str:
        """A locale's name in its own script (日本語, English), for the language menu.

        A catalogue may name itself with ``sys.language_name`` (needed where Babel has no name, such as
        やさしい日本語); otherwise Babel's name of the locale in that locale is used."""
        own = self._messages.get(locale, {}).get("sys.language_name")
        if own:
            return own
        try:
            name = Locale.parse(locale).get_display_name(locale)
        except (ValueError, TypeError, UnknownLocaleError):
            return locale
        return name[:1].upper() + name[1:] if name else locale


def _shown(path: Path, root: Path) -> str:
    """A path as the editor sees it: relative to the content root when possible."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)
