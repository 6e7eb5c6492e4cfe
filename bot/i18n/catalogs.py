"""Load every ``locales/<lang>/LC_MESSAGES/*.po`` once and answer lookups from memory.

Catalogues are read with Babel at start-up instead of compiled ``.mo`` files, so a content
editor's change to a ``.po`` file is live after a restart with no build step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

__all__ = ["CatalogIssue", "Catalogs", "PluralForms", "placeholders"]

_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
MAX_PREFERENCES = 8  # language ranges read from one Accept-Language header
NEGOTIATED_CACHE_SIZE = 512
_RANGE = re.compile(r"^[A-Za-z]{1,8}([-_][A-Za-z0-9]{1,8})*$")


def placeholders(text: str) -> frozenset[str]:
    """The ``{name}`` placeholders a message uses; they must match across locales."""
    return frozenset(_PLACEHOLDER.findall(text))


@dataclass(frozen=True)
class PluralForms:
    """A catalogue file's plural forms as Babel read them: from its ``Plural-Forms`` header, else derived
    from its ``Language`` header; ``count`` is None when the file declares neither."""

    file: str
    locale: str  # the directory's locale code, which the catalogue serves
    count: int | None
    expression: str | None


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
        self.plural_forms: list[PluralForms] = []
        self.origins: dict[str, dict[str, str]] = {}  # locale -> msgid -> the file that defines it
        self._by_folded = {code.casefold(): code for code in messages}
        self._negotiated: dict[str, str] = {}  # client code or Accept-Language header -> locale

    @classmethod
    def load(cls, root: Path, default: str = "ja") -> Catalogs:
        messages: dict[str, dict[str, str]] = {}
        issues: list[CatalogIssue] = []
        files: dict[str, list[str]] = {}
        plural_forms: list[PluralForms] = []
        origins: dict[str, dict[str, str]] = {}
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
                plural_forms.append(_plural_forms(catalog, shown, code))
                for entry in catalog:
                    if not entry.id or not isinstance(entry.id, str):
                        continue  # the header, or a plural entry (not used by flows yet)
                    text = entry.string if isinstance(entry.string, str) else ""
                    if entry.fuzzy or not text:
                        continue  # untranslated: counted as missing by the check
                    if entry.id in table:
                        issues.append(CatalogIssue(shown, entry.id, "message id defined twice"))
                    table[entry.id] = text
                    origins.setdefault(code, {})[entry.id] = shown
            messages[code] = table
        if default not in messages:
            messages[default] = {}
            issues.append(CatalogIssue(_shown(root, root.parent), default, "default locale has no catalogue"))
        catalogs = cls(messages, default)
        catalogs.issues = issues
        catalogs.files = files
        catalogs.plural_forms = plural_forms
        catalogs.origins = origins
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
        """Map what a client says it reads to a shipped locale, else the default.

        ``client`` is one language code (Telegram's ``language_code``: ``en``, ``pt-br``, ``zh-hans``) or an
        ``Accept-Language`` header (``vi-VN,vi;q=0.9,en;q=0.5``): the preferences are tried in order of
        quality. Babel resolves aliases and likely scripts (``zh-CN`` -> zh_Hans, ``tl`` -> fil) and a
        language falls back to another variety of itself (``pt`` -> pt_BR, ``zh-TW`` -> zh_Hans). A locale
        Babel does not know as such, like ja_Easy (Easy Japanese), is never guessed from a client code such
        as ``ja-JP``: it is chosen only by name, from the language menu or a ``/start`` payload.
        """
        if not client or len(client) > 256:
            return self.default
        known = self._negotiated.get(client)
        if known is not None:
            return known
        locale = next((m for p in _preferences(client) if (m := self._match(p)) is not None), self.default)
        # Clients send few distinct codes (Telegram: one per app language), so a small table answers
        # nearly every event; cleared when full rather than growing with odd input.
        if len(self._negotiated) >= NEGOTIATED_CACHE_SIZE:
            self._negotiated.clear()
        self._negotiated[client] = locale
        return locale

    def _match(self, client: str) -> str | None:
        code = client.strip().replace("-", "_")
        exact = self._by_folded.get(code.casefold())
        if exact is not None:
            return exact
        try:
            parsed = Locale.parse(code)
        except (ValueError, TypeError, UnknownLocaleError):
            return None
        language, script, territory = parsed.language, parsed.script, parsed.territory
        candidates = [str(parsed), f"{language}_{script}" if script else "",
                      f"{language}_{territory}" if territory else "", language]
        for candidate in candidates:
            if candidate and candidate in self._messages:
                return candidate
        # Another variety of the same language, the default first: better than a language not read at all.
        for shipped in self.locales:
            if _language_of(shipped) == language:
                return shipped
        return None

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


def _preferences(header: str) -> list[str]:
    """The language ranges of an Accept-Language header (or one code), best first; ``*`` and q=0 dropped."""
    weighted: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")[:MAX_PREFERENCES]):
        code, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        code = code.strip()
        if quality > 0 and _RANGE.match(code):
            weighted.append((-quality, position, code))
    return [code for _, _, code in sorted(weighted)]


def _language_of(code: str) -> str | None:
    """The language of a shipped locale when Babel knows the locale exactly as named (pt_BR, zh_Hans), else
    None: ja_Easy parses as plain ja, so it is never a fallback for Japanese."""
    try:
        parsed = Locale.parse(code)
    except (ValueError, TypeError, UnknownLocaleError):
        return None
    return parsed.language if str(parsed) == code else None


def _plural_forms(catalog: Catalog, shown: str, code: str) -> PluralForms:
    declared = any(name.lower() == "plural-forms" for name, _ in catalog.mime_headers)
    if catalog.locale is None and not declared:
        return PluralForms(shown, code, None, None)  # nothing to derive them from without guessing
    return PluralForms(shown, code, catalog.num_plurals, catalog.plural_expr)


def _shown(path: Path, root: Path) -> str:
    """A path as the editor sees it: relative to the content root when possible."""
    try:
        return str(path.relative_to(root.parent))
    except ValueError:
        return str(path)
