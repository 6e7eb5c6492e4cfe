"""Romaji Japanese as hiragana, so that the Japanese rules can read "tasukete ima heya ni tojikomerareta".

Children type Japanese in the Latin alphabet when their phone has no Japanese keyboard or they are learning it.
Hepburn and Kunrei spellings, doubled consonants (っ) and a final n are read; a message is converted only when
nearly all its Latin words are romaji, so English and the other Latin-script languages are left alone (their
words rarely all split into Japanese syllables, and a false reading still has to pass a Japanese rule).
"""

from __future__ import annotations

import re

__all__ = ["to_hiragana"]

_VOWELS = dict(zip("aiueo", "あいうえお", strict=True))
_ROWS = {
    "k": "かきくけこ", "g": "がぎぐげご", "s": "さしすせそ", "z": "ざじずぜぞ", "t": "たちつてと", "d": "だぢづでど",
    "n": "なにぬねの", "h": "はひふへほ", "b": "ばびぶべぼ", "p": "ぱぴぷぺぽ", "m": "まみむめも", "r": "らりるれろ",
}
_SYLLABLES: dict[str, str] = dict(_VOWELS)
for _c, _kana in _ROWS.items():
    _SYLLABLES.update({_c + v: k for v, k in zip("aiueo", _kana, strict=True)})
_SYLLABLES.update({"ya": "や", "yu": "ゆ", "yo": "よ", "wa": "わ", "wo": "を", "nn": "ん", "shi": "し", "chi": "ち",
                   "tsu": "つ", "fu": "ふ", "ji": "じ", "fa": "ふぁ", "fi": "ふぃ", "fe": "ふぇ", "fo": "ふぉ"})
for _head, _i in (("k", "き"), ("g", "ぎ"), ("n", "に"), ("h", "ひ"), ("b", "び"), ("p", "ぴ"), ("m", "み"),
                  ("r", "り"), ("sh", "し"), ("ch", "ち"), ("j", "じ"), ("s", "し"), ("t", "ち")):
    _y = "" if _head in ("sh", "ch", "j") else "y"
    _SYLLABLES.update({f"{_head}{_y}{v}": _i + small for v, small in (("a", "ゃ"), ("u", "ゅ"), ("o", "ょ"))})
_SYLLABLES.update({"she": "しぇ", "che": "ちぇ", "je": "じぇ", "jya": "じゃ", "jyu": "じゅ", "jyo": "じょ"})
_LATIN = re.compile(r"[a-z-]+")
_MOSTLY = 0.8  # share of Latin words that must be romaji ("I want to die" is not: 3 of 4)


def _word(word: str) -> str | None:
    out: list[str] = []
    i = 0
    while i < len(word):
        ch = word[i]
        if i + 1 < len(word) and word[i + 1] == ch and ch not in "aeioun-":
            out.append("っ")
            i += 1
            continue
        for size in (3, 2, 1):  # the longest syllable first: "sha" before "sa"
            kana = _SYLLABLES.get(word[i:i + size])
            if kana is not None:
                out.append(kana)
                i += size
                break
        else:
            if ch == "n":
                out.append("ん")
            elif ch == "-":
                out.append("ー")
            else:
                return None
            i += 1
    return "".join(out)


def to_hiragana(text: str) -> str | None:
    """The message with its romaji words in hiragana, or None when it is not (nearly all) romaji."""
    lowered = text.lower()
    words = _LATIN.findall(lowered)
    if not words:
        return None
    kana = {w: _word(w) for w in set(words)}
    if sum(1 for w in words if kana[w] is not None) < _MOSTLY * len(words):
        return None
    return _LATIN.sub(lambda m: kana[m.group()] or m.group(), lowered)
