"""Find every known term in a normalised text in one pass per script.

Terms are literal. A term with any non-ASCII character ("死にたい", "jkびじねす")
matches anywhere in the text with spaces removed; an ASCII term ("kil myself")
matches whole words on the spaced text, or a word prefix if written with a
trailing "*" ("suicid*"). Terms are compiled into trie-shaped regular
expressions, one per first character: ASCII terms tried at every word start,
the others where their first character occurs (overlaps included). Each is
compiled the first time a text contains its first character.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["LATIN_WORD", "TermIndex", "trie_pattern"]

_END = ""  # trie key of "a term ends here"
# A word character of a Latin-script language: an ASCII term must not match inside "sâu" or "você" (the "u" of
# Vietnamese "sâu" is not the English "u" for "you"). Kana and CJK are not word characters here: "dmで" has "dm".
LATIN_WORD = "a-z0-9\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u0300-\u036f\u1e00-\u1eff"
_WORD_END = f"(?![{LATIN_WORD}])"
_WORD_START = re.compile(f"(?<![{LATIN_WORD}])[a-z0-9]")
_LATIN_CHAR = re.compile(f"[{LATIN_WORD}]")


def trie_pattern(terms: dict[str, str]) -> str:
    """A regex matching any of `terms` (text -> end assertion), longest first."""
    root: dict[str, object] = {}
    for text, end in terms.items():
        node = root
        for ch in text:
            node = node.setdefault(ch, {})  # type: ignore[assignment]
        node[_END] = end
    return _emit(root)


def _emit(node: dict[str, object]) -> str:
    alts = [
        re.escape(ch) + _emit(child)
        for ch, child in sorted(node.items())
        if ch != _END and isinstance(child, dict)
    ]
    if _END in node:
        alts.append(str(node[_END]))  # last: a longer term is preferred
    if len(alts) == 1:
        return alts[0]
    return "(?:" + "|".join(alts) + ")"


def _word_char(ch: str) -> bool:
    return _LATIN_CHAR.match(ch) is not None


@dataclass
class TermIndex:
    """Terms (already normalised) -> ids, compiled for matching."""

    ids: dict[str, int] = field(default_factory=dict)  # "text" or "text*" -> id
    # text without spaces -> ids: "110番" and "110 番" are two terms with one compact form
    _compact: dict[str, set[int]] = field(default_factory=dict)
    _words: dict[str, int] = field(default_factory=dict)  # whole-word terms
    _prefixes: dict[str, int] = field(default_factory=dict)  # "suicid*" terms
    # first character -> the trie of the rest of the terms that start with it, as a pattern string; compiled on
    # first use (most first characters never occur in a given deployment's traffic, and compiling all of them
    # was most of the import time)
    _compact_rest: dict[str, dict[str, str]] = field(default_factory=dict)
    _compiled_rest: dict[str, re.Pattern[str]] = field(default_factory=dict)
    # the same for whole-word and prefix terms, by their first letter (text -> its end assertion)
    _word_rest: dict[str, dict[str, str]] = field(default_factory=dict)
    _compiled_word_rest: dict[str, re.Pattern[str]] = field(default_factory=dict)
    _expand_compact: dict[str, frozenset[int]] = field(default_factory=dict)
    # text -> (ids if a word boundary follows, ids if not)
    _expand_word: dict[str, tuple[frozenset[int], frozenset[int]]] = field(default_factory=dict)

    def add(self, normalised: str) -> int:
        """Register a normalised term ("suicid*" for a prefix) and return its id."""
        if normalised in self.ids:
            return self.ids[normalised]
        prefix = normalised.endswith("*")
        text = normalised.rstrip("*").strip()
        if not text:
            raise ValueError("empty term")
        term_id = len(self.ids)
        self.ids[normalised] = term_id
        if not text.isascii():
            self._compact.setdefault(text.replace(" ", ""), set()).add(term_id)
        elif prefix:
            self._prefixes[text] = term_id
        else:
            self._words[text] = term_id
        return term_id

    def compile(self) -> None:
        """Prepare matching. The regular expressions and the implied-term tables are built lazily, on first use
        (importing the safety layer stays fast; a text only pays for the characters and terms it contains)."""
        # A single trie for all of them would try its hundreds of first characters one by one at every
        # position of the text: a dictionary picks the one that can match.
        by_first: dict[str, dict[str, str]] = {}
        for text in self._compact:
            by_first.setdefault(text[0], {})[text[1:]] = ""
        self._compact_rest = by_first
        self._compiled_rest = {}
        words: dict[str, dict[str, str]] = {}
        for text in self._words:
            words.setdefault(text[0], {})[text[1:]] = _WORD_END
        for text in self._prefixes:
            words.setdefault(text[0], {})[text[1:]] = ""
        self._word_rest = words
        self._compiled_word_rest = {}
        self._expand_compact = {}
        self._expand_word = {}

    def _word_rest_re(self, first: str) -> re.Pattern[str] | None:
        """The compiled trie of the whole-word and prefix terms starting with `first` (on first use)."""
        pattern = self._compiled_word_rest.get(first)
        if pattern is None:
            rest = self._word_rest.get(first)
            if rest is None:
                return None
            pattern = self._compiled_word_rest[first] = re.compile(trie_pattern(rest))
        return pattern

    def _implied_compact(self, text: str) -> frozenset[int]:
        """Only the longest term at a position is reported; add the shorter terms that necessarily match there
        too, by looking up the term's own prefixes (linear in its length)."""
        implied = self._expand_compact.get(text)
        if implied is None:
            ids: set[int] = set()
            for end in range(1, len(text) + 1):
                ids.update(self._compact.get(text[:end], ()))
            implied = self._expand_compact[text] = frozenset(ids)
        return implied

    def _implied_word(self, text: str) -> tuple[frozenset[int], frozenset[int]]:
        """(ids if a word boundary follows the match, ids if not) for a whole-word or prefix term."""
        pair = self._expand_word.get(text)
        if pair is None:
            inner: set[int] = set()
            for end in range(1, len(text) + 1):
                head = text[:end]
                if (prefix_id := self._prefixes.get(head)) is not None:
                    inner.add(prefix_id)
                if end < len(text) and not _word_char(text[end]) and (word_id := self._words.get(head)) is not None:
                    inner.add(word_id)
            own = self._words.get(text)
            at_end = inner | ({own} if own is not None else set())
            pair = self._expand_word[text] = (frozenset(at_end), frozenset(inner))
        return pair

    def _rest(self, first: str) -> re.Pattern[str] | None:
        """The compiled trie of the terms starting with `first` (compiled once, on first use)."""
        pattern = self._compiled_rest.get(first)
        if pattern is None:
            rest = self._compact_rest.get(first)
            if rest is None:
                return None
            pattern = self._compiled_rest[first] = re.compile(trie_pattern(rest))
        return pattern

    def find(self, spaced: str) -> set[int]:
        """Ids of every term present in the normalised text."""
        found: set[int] = set()
        if self._word_rest:
            n = len(spaced)
            for w in _WORD_START.finditer(spaced):
                pattern = self._word_rest_re(w.group())
                if pattern is None or (m := pattern.match(spaced, w.end())) is None:
                    continue
                end = m.end()
                at_end, inner = self._implied_word(spaced[w.start():end])  # the longest term starting here
                found |= at_end if end >= n or not _word_char(spaced[end]) else inner
        if self._compact_rest:
            compact = spaced.replace(" ", "")
            for start, first in enumerate(compact):
                pattern = self._rest(first)
                if pattern is not None and (m := pattern.match(compact, start + 1)) is not None:
                    found |= self._implied_compact(compact[start:m.end()])  # the longest term starting here
        return found
