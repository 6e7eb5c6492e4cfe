"""Romaji Japanese is read by the Japanese rules through its hiragana (bot/safety/romaji.py)."""

from __future__ import annotations

import pytest

from bot.safety import assess
from bot.safety.romaji import to_hiragana


@pytest.mark.parametrize(("romaji", "kana"), [
    ("tasukete", "たすけて"),
    ("shitagi no shashin okutte", "したぎ の しゃしん おくって"),
    ("kyou gakkou", "きょう がっこう"),
    ("konbini", "こんびに"),
    ("jisatsu shitai", "じさつ したい"),
    ("tsurai", "つらい"),
    ("jyuku sha", "じゅく しゃ"),
])
def test_romaji_is_read_as_hiragana(romaji: str, kana: str) -> None:
    assert to_hiragana(romaji) == kana


@pytest.mark.parametrize("text", ["I want to die", "em muon chet", "quero morrer", "gusto ko nang mamatay",
                                  "help me please", "", "死にたい", "123"])
def test_other_languages_are_left_alone(text: str) -> None:
    assert to_hiragana(text) is None


def test_a_romaji_crisis_names_the_japanese_rule_it_fired() -> None:
    found = assess("doko ka no heya ni tojikomerareta.. sumaho no denchi mou nai")
    assert (found.category, found.emergency) == ("emergency", True)
    assert found.rule.endswith("@romaji")


def test_romaji_hyperbole_stays_calm() -> None:
    assert assess("kinou no tesuto shinda www").category is None
