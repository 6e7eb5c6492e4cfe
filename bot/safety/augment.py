"""Spelling variants of a training phrase, as children also type it: for the read-out's training only.

A child types Vietnamese or Portuguese without accents, Japanese in hiragana where the phrase had katakana,
easy Japanese without the spaces, everything in lower case. The read-out (probe.py) learns from each tuned phrase
and exemplar and from these variants of it, so that a phrase written the other way is read the same. Nothing here
runs on a user's message; no vocabulary, only characters (deterministic).
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["variants"]

_KATAKANA = {cp: cp - 0x60 for cp in range(0x30A1, 0x30F7)}  # ァ..ヶ -> ぁ..ゖ
_KANA = re.compile(r"[\u3040-\u30ff]")
_KANA_SPACE = re.compile(r"(?<=[\u3040-\u30ff\u4e00-\u9fff])\s+(?=[\u3040-\u30ff\u4e00-\u9fff])")
_UNMARKED = str.maketrans({"đ": "d", "Đ": "D"})


def _without_marks(text: str) -> str:
    """Latin letters without accents and tones (Vietnamese, Portuguese); other scripts unchanged."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text.translate(_UNMARKED)):
        if unicodedata.combining(ch) and out and out[-1].isascii():
            continue
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


def variants(text: str) -> list[str]:
    """The other spellings of ``text`` worth learning from (none of them ``text`` itself; no repeats)."""
    found: list[str] = []
    for variant in (
        text.lower(),
        _without_marks(text).lower(),
        unicodedata.normalize("NFKC", text).translate(_KATAKANA),
        _KANA_SPACE.sub("", text) if _KANA.search(text) else text,
    ):
        if variant != text and variant not in found:
            found.append(variant)
    return found
