"""Is a message in Japanese or English, the languages the rules were written and tuned on?

In those two the rules decide crises (their near-misses are tested one by one); the exemplar layer may add a
crisis there only for a near paraphrase of an exemplar. In every other language (and romaji) the exemplar
read-out decides too. Script first (kana means Japanese, Hangul Korean), then a few function words tell
English from Portuguese, Tagalog, Vietnamese typed without accents, and romaji.
"""

from __future__ import annotations

import re

__all__ = ["rules_language"]

_KANA = re.compile(r"[\u3040-\u30ff\uff66-\uff9f]")
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
_WORD = re.compile(r"[a-zA-Z\u00c0-\u024f\u1e00-\u1eff']+")
_ENGLISH = frozenset({
    'an', 'and', 'are', 'at', 'be', 'been', 'but', "can't", 'cant', 'did', 'does', "don't", 'dont', 'for', 'get',
    'got', 'guy', 'has', 'have', 'he', 'help', 'her', 'hes', 'him', 'his', 'i', "i'm", 'idk', 'im', 'in', 'is',
    'it', 'its', 'just', 'keeps', 'like', 'lol', 'man', 'me', 'mine', 'my', 'not', 'of', 'on', 'our', 'please',
    'pls', 'plz', 'rn', 'she', 'shes', 'so', 'somebody', 'someone', 'that', 'the', 'their', 'them', 'they', 'this',
    'to', 'us', 'want', 'was', 'we', 'were', 'what', 'with', "won't", 'wont', 'you', 'your', 'youre',
})
# Portuguese, Tagalog, Vietnamese typed without accents, and romaji.
_OTHER = frozenset({
    'ajuda', 'ako', 'alguem', 'alguém', 'ang', 'ayaw', 'ba', 'boku', 'cara', 'com', 'cua', 'cuu',
    'dareka', 'daw', 'dela', 'dele', 'desu', 'ela', 'ele', 'essa', 'esse', 'estou', 'eu', 'ga', 'giup', 'gusto',
    'hindi', 'hito', 'homem', 'ima', 'iru', 'isso', 'kami', 'kara', 'kasi', 'kay', 'khong', 'ko', 'kowai',
    'kudasai', 'lang', 'mae', 'masu', 'meu', 'mga', 'minh', 'minha', 'mo', 'muito', 'muon', 'mãe', 'nai',
    'naman', 'namin', 'nani', 'nao', 'ng', 'nga', 'nguoi', 'ni', 'nila', 'niya', 'não', 'ore', 'pai', 'pela',
    'pelo', 'po', 'pra', 'pro', 'que', 'quero', 'raw', 'roi', 'sa', 'shinitai', 'shite', 'si', 'sina', 'socorro',
    'tasukete', 'tayo', 'tenho', 'teru', 'toi', 'tulong', 'tulungan', 'tá', 'tô', 'uma', 'voce', 'você', 'voi',
    'wala', 'watashi', 'wo', 'yabai', 'yung',
})


def _easy_japanese(text: str) -> bool:
    """やさしい日本語 as the ja_Easy menu writes it: words spaced apart, nearly all kana (the rules read it
    poorly, so the read-out decides there too)."""
    letters = [ch for ch in text if ch.isalpha()]
    kana = sum(1 for ch in letters if _KANA.match(ch))
    return len(text.split()) >= 3 and kana >= 0.8 * max(1, len(letters))


def rules_language(text: str) -> bool:
    """True for Japanese (any kana, no Hangul, not spaced easy Japanese) and for English (Latin words, English
    function words, no others)."""
    if _HANGUL.search(text):
        return False
    if _KANA.search(text):
        return not _easy_japanese(text)
    words = [w.lower() for w in _WORD.findall(text)]
    if not words or any(not w.isascii() for w in words):
        return False
    return any(w in _ENGLISH for w in words) and not any(w in _OTHER for w in words)
