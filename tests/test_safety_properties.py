"""Property tests: any Unicode string gets an Assessment, never an exception."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.safety import Assessment, assess, normalise
from bot.safety.categories import ALL_TOPICS, CATEGORIES, EMERGENCY_CATEGORIES

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
    a = assess(f"{before}\n死にたい\n{after}")
    assert a.emergency
