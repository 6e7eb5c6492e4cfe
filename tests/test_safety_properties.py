"""Property tests: any Unicode string gets an Assessment, never an exception."""

from __future__ import annotations

import re

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bot.safety import Assessment, assess, normalise
from bot.safety.categories import ALL_TOPICS, CATEGORIES, EMERGENCY_CATEGORIES
from bot.safety.rules import RULES

NASTY = st.sampled_from(
    [
        "\u200b", "\u200d", "\u202e", "\u200f", "\ufeff", "\x00", "\x1b", "\r\n", "\u2028",
        "👨‍👩‍👧‍👦", "🏳️‍🌈", "👍🏽", "🔪", "💀", "ｰ", "ﾟ", "ﾞ", "〜", "*", "@", "\\",
        "死にたい", "たすけて", "help", "kms", "ぱぱかつ", "ヌード", "\U000e0041", "\ufe0f",
    ]
)
TEXTS = st.one_of(
    st.text(),
    st.text(max_size=10_000),
    st.lists(st.one_of(NASTY, st.text(max_size=3)), max_size=200).map("".join),
    st.just(""),
    st.just("あ" * 10_000),
)


def _valid(a: Assessment) -> None:
    assert isinstance(a, Assessment)
    assert a.category is None or a.category in CATEGORIES
    assert a.topic is None or a.topic in ALL_TOPICS
    assert a.emergency == (a.category in EMERGENCY_CATEGORIES)
    assert isinstance(a.rule, str)
    assert a.rule != "safety.failsafe"  # the classifier itself did not fail


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_assess_never_raises(text: str) -> None:
    _valid(assess(text))


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_normalise_never_raises_and_is_stable(text: str) -> None:
    once = normalise(text)
    assert isinstance(once, str)
    assert assess(text) == assess(text)  # deterministic


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=200), st.text(max_size=200))
def test_a_crisis_is_not_hidden_by_surrounding_text(before: str, after: str) -> None:
    # The one designed exception: surrounding text that is itself a frame (a story, homework, the news), which
    # keeps "the character wants to die" calm (tests/test_safety.py checks those frames one by one).
    assume(RULES.match(normalise(f"{before}\n{after}"))[1] is None)
    a = assess(f"{before}\n死にたい\n{after}")
    assert a.emergency


def test_a_latin_letter_with_an_accent_is_part_of_its_word() -> None:
    # Vietnamese "sâu" (deep) and "máu" (blood) end in "u", which is not the English text-speak "u" (you).
    assert normalise("cắt sâu quá máu chảy") == "cắt sâu quá máu chảy"
    assert normalise("u r") == "you are"


def _every_term_present(spaced: str) -> set[int]:
    """The matcher's contract, by brute force: a non-ASCII term anywhere in the text without spaces, an
    ASCII term as a whole word ("term*": a word prefix) of the spaced text, where a word is Latin letters with or
    without accents ("him" is not a word of "himđi")."""
    from bot.safety.matcher import LATIN_WORD
    from bot.safety.rules import RULES

    compact, found = spaced.replace(" ", ""), set()
    for term, term_id in RULES.terms.ids.items():
        text = term.rstrip("*")
        if not text.isascii():
            if text.replace(" ", "") in compact:
                found.add(term_id)
            continue
        end = "" if term.endswith("*") else f"(?![{LATIN_WORD}])"
        if re.search(f"(?<![{LATIN_WORD}]){re.escape(text)}{end}", spaced):
            found.add(term_id)
    return found


_TERMS = sorted(t.rstrip("*") for t in __import__("bot.safety.rules", fromlist=["RULES"]).RULES.terms.ids)
TERM_SOUP = st.lists(st.one_of(st.sampled_from(_TERMS), st.sampled_from(["", " ", "x", "あ", "1"]),
                               st.text(alphabet="abcdefghijklmnopqrstuvwxyz しにたいおくてかねâđçã", max_size=4)),
                     max_size=12).map("".join)


@settings(max_examples=300, deadline=None)
@given(TERM_SOUP)
def test_the_term_index_finds_exactly_the_terms_present(text: str) -> None:
    from bot.safety.rules import RULES

    spaced = normalise(text)
    assert RULES.terms.find(spaced) == _every_term_present(spaced)
