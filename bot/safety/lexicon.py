"""Slang, misspellings and emoji folded to one spelling; idioms that only look alarming.

The data lives in `lexicon.yaml` beside this module and is read once at import.
`normalise(text)` = `fold(text)` followed by the canonical spellings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.safety.matcher import LATIN_WORD, trie_pattern
from bot.safety.text import fold
from bot.yamlfile import safe_load

__all__ = ["LEXICON", "Lexicon", "is_ascii_term", "load_yaml", "normalise"]

def load_yaml(name: str) -> Any:
    """Read a YAML data file that ships inside this package."""
    return safe_load((Path(__file__).parent / name).read_text(encoding="utf-8"))


def is_ascii_term(term: str) -> bool:
    """ASCII terms match whole words on the spaced text; others match anywhere."""
    return term.isascii()


def _trie_re(phrases: list[str]) -> re.Pattern[str] | None:
    """One regex for all phrases, longest first; ASCII phrases only as whole words."""
    ascii_ = {p: f"(?![{LATIN_WORD}])" for p in phrases if is_ascii_term(p)}
    other = {p: "" for p in phrases if not is_ascii_term(p)}
    alts = []
    if other:
        alts.append(trie_pattern(other))
    if ascii_:
        alts.append(f"(?<![{LATIN_WORD}])" + trie_pattern(ascii_))
    return re.compile("|".join(alts)) if alts else None


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Compiled canonical spellings and masking idioms."""

    canon: dict[str, str]  # folded variant -> folded canonical spelling (padded if ASCII)
    canon_re: re.Pattern[str] | None
    idioms_re: re.Pattern[str] | None

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Lexicon:
        canon: dict[str, str] = {}
        for target, variants in (data.get("canon") or {}).items():
            folded_target = fold(str(target))
            out = f" {folded_target} " if is_ascii_term(folded_target) else folded_target
            for variant in [target, *variants]:
                key = fold(str(variant))
                if key and key != folded_target:
                    if canon.get(key, out) != out:
                        raise ValueError(f"lexicon: {variant!r} has two canonical spellings")
                    canon[key] = out
        canon_re = _trie_re(list(canon))
        lex = cls(canon=canon, canon_re=canon_re, idioms_re=None)
        idioms = [lex.normalise(str(i)) for i in data.get("idioms") or []]
        idioms_re = _trie_re([i for i in idioms if i])
        return cls(canon=canon, canon_re=canon_re, idioms_re=idioms_re)

    def normalise(self, text: str) -> str:
        s = fold(text)
        if self.canon_re is not None and s:
            s, n = self.canon_re.subn(lambda m: self.canon[m.group(0)], s)
            if n:
                s = " ".join(s.split())
        return s

    def mask_idioms(self, normalised: str) -> str:
        """Blank out idioms such as 死ぬほど or "i'm dead 💀" before crisis matching."""
        if self.idioms_re is None:
            return normalised
        return self.idioms_re.sub(" ", normalised)


LEXICON: Lexicon = Lexicon.from_data(load_yaml("lexicon.yaml"))


def normalise(text: str) -> str:
    """Fold scripts, width, case, repeats and spacing, then slang to one spelling."""
    if not isinstance(text, str):
        return ""
    return LEXICON.normalise(text)
