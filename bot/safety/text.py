"""Script-level folding of free text: no vocabulary, only characters.

`fold` is the first half of `bot.safety.normalise`: NFKC (half-width katakana,
full-width ASCII), lower case, katakana -> hiragana, long vowel marks, small kana,
repeated characters, invisible characters, punctuation and spacing.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["LIMIT", "fold"]

# Longest text looked at; Telegram messages are at most 4096 characters.
LIMIT = 8192


def _table() -> dict[int, int | str | None]:
    table: dict[int, int | str | None] = {}
    for cp in range(0x30A1, 0x30F7):  # katakana ァ..ヶ -> hiragana ぁ..ゖ
        table[cp] = cp - 0x60
    table[0x30FD] = 0x309D  # ヽ -> ゝ
    table[0x30FE] = 0x309E  # ヾ -> ゞ
    # Dropped: long vowel marks, wave dashes, middle dots, apostrophes, small
    # vowels and the small tsu (しにたーい, しにたぁい, しにたいっ -> しにたい).
    for ch in "ー〜~・'’‘`´ぁぃぅぇぉっァィゥェォッ":
        table[ord(ch)] = None
    # Invisible: zero-width, bidi controls, word joiners, BOM, variation
    # selectors, skin tones, tag characters.
    invisible = [*range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2070)]
    invisible += [0xFEFF, *range(0xFE00, 0xFE10), *range(0x1F3FB, 0x1F400)]
    invisible += [*range(0xE0000, 0xE0080), 0x00AD]
    for cp in invisible:
        table[cp] = None
    # Control characters and punctuation become spaces.
    for cp in [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]:
        table[cp] = " "
    for ch in '!"#$%&()*+,-./:;<=>?@[\\]^_{|}、。「」『』【】〈〉《》〔〕…‥♪☆★♡♥※→←↑↓':
        table[ord(ch)] = " "
    return table


_TABLE = _table()
_RUN = re.compile(r"(\D)\1{2,}")  # 3+ identical characters -> 1 (ええええ, pppp)
_ASCII_DOUBLE = re.compile(r"([a-z])\1")  # English doubles -> 1 (kill -> kil)
_SPACE = re.compile(r"\s+")

# A kana followed by two or more vowels of its own row is an elongation
# (しにたああい -> しにたい); one vowel is left alone (おかあさん).
_ROWS = {
    "あ": "あかさたなはまやらわがざだばぱ",
    "い": "いきしちにひみりぎじぢびぴ",
    "う": "うくすつぬふむゆるぐずづぶぷ",
    "え": "えけせてねへめれげぜでべぺ",
    "お": "おこそとのほもよろをごぞどぼぽ",
}
_ELONGATION = re.compile(
    "|".join(f"(?<=[{row}]){vowel}{{2,}}" for vowel, row in _ROWS.items())
)


def fold(text: str) -> str:
    """Fold scripts, width, case, marks and repeats; collapse spacing."""
    s = unicodedata.normalize("NFKC", text[:LIMIT]).lower().translate(_TABLE)
    s = _ELONGATION.sub("", s)
    s = _RUN.sub(r"\1", s)
    s = _ASCII_DOUBLE.sub(r"\1", s)
    return _SPACE.sub(" ", s).strip()
