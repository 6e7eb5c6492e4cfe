"""bot.safety: the API the engine calls, normalisation, near-misses, purity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.safety import Assessment, assess, normalise
from bot.safety.categories import BENIGN_TOPICS, CATEGORIES, CATEGORY_TOPIC, EMERGENCY_CATEGORIES
from bot.safety.rules import RULES

PROJECT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＨＥＬＰ　ＭＥ", "help me"),  # full-width ASCII and space
        ("ﾀｽｹﾃ", "助けて"),  # half-width katakana, then slang
        ("たすけてええええ", "助けて"),  # repeated vowels
        ("しにたーーい", "死にたい"),  # long vowel marks
        ("しにたぁぁい", "死にたい"),  # small vowels
        ("氏にたい", "死にたい"),
        ("4にたい", "死にたい"),
        ("helpppp", "help"),
        ("kms", "kil myself"),
        ("p活", "papakatsu"),
        ("ぱぱかつ", "papakatsu"),
        ("パパ活", "papakatsu"),
        ("ママ活", "mamakatsu"),
        ("JKビジネス", "jk busines"),  # English doubles fold too
        ("えんこう", "援交"),
        ("noods", "nudes"),
        ("ヌード", "裸"),
        ("he has a knife🔪", "he has a knife knife"),
        ("a\u200bb\u202ec", "abc"),  # zero-width and bidi controls
        ("  lots   of\tspace\n", "lots of space"),
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


@pytest.mark.parametrize("text", ["しにたーーい", "HELP ME", "ﾊﾟﾊﾟ活", "i'm dead 💀", "フィルタリング"])
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once


@pytest.mark.parametrize(
    ("text", "category", "rule"),
    [
        ("たすけて", "emergency", "emergency.help_cry"),
        ("しにたーーい", "suicide", "suicide.want_to_die"),
        ("裸の写真送っちゃった", "sexual_images", "images.nudes"),
        ("i sent nudes and now he says he'll post them", "sexual_images", "images.nudes"),
        ("親に殴られる", "abuse_home", "home.violence"),
        ("レイプされた", "sexual_assault", "assault.words"),
        ("p活してる", "paid_dating", "paid.words"),
        ("ネットで知り合った人に会おうって言われた", "grooming", "meet.online_meet"),
    ],
)
def test_crisis(text: str, category: str, rule: str) -> None:
    a = assess(text)
    assert a == Assessment(category, CATEGORY_TOPIC[category], category in EMERGENCY_CATEGORIES, rule)


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("フィルタリングの設定方法", "parent.filtering"),
        ("hello", None),
        ("ありがとう", None),
        ("死ぬほど眠い", None),
        ("写真の加工アプリ", None),
        ("殺すぞｗｗ（ゲームで）", None),
        ("i'm dead 💀", None),
        ("help me with homework", None),
        ("help", "help.talk"),
        ("相談したい", "help.talk"),
    ],
)
def test_benign(text: str, topic: str | None) -> None:
    a = assess(text)
    assert (a.category, a.topic, a.emergency) == (None, topic, False)


# Written after the rules were broadened (not in any evaluation split): other
# phrasings of the same concepts, and near-misses that must stay calm.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("今お父さんがお母さん殴ってる", "emergency"),
        ("theres a man banging on our front door and yelling", "emergency"),
        ("someone grabbed me and pulled me into a car", "emergency"),
        ("しにたいしにたい", "suicide"),
        ("いなくなっても誰も気づかないよね", "suicide"),
        ("生きるのつかれた", "suicide"),
        ("everything would be easier if i wasnt alive", "suicide"),
        ("i have the pills ready", "suicide"),
        ("裸の動画ばらまくって言われた", "sexual_images"),
        ("i sent a video of me naked and now hes threatening me", "sexual_images"),
        ("my step brother comes into my bed at night", "abuse_home"),
        ("my parents dont feed me", "abuse_home"),
        ("彼氏に嫌って言ったのにされた", "sexual_assault"),
        ("someone wants to pay me for pictures of my feet", "paid_dating"),
        ("裏垢で支援募集してる子いる", "paid_dating"),
        ("he told me to keep our chats a secret", "grooming"),
        ("a 30 year old keeps messaging me on insta", "grooming"),
    ],
)
def test_unseen_phrasings(text: str, category: str) -> None:
    assert assess(text).category == category


@pytest.mark.parametrize(
    "text",
    [
        "髪また切っちゃった",
        "料理中に指切った",
        "ゲームで殺されまくった",
        "屋上でお昼食べてる今",
        "消えたいくらい恥ずかしいw",
        "ギフトカードの使い方",
        "宿題送っちゃった",
        "i cut my hair again lol",
        "cut class again today lol",
        "my mom is going to kill me lol",
        "my brother keeps knocking on my door to annoy me",
        "the pizza guy is outside my door right now",
        "i want to disappear into my bed all weekend",
        "i want to sleep forever this weekend lol",
        "bought a rope for climbing class",
        "my sister took my phone lol",
        "ugh my brother hit me with a pillow lol",
        "the bridge near my house is so pretty at night",
    ],
)
def test_near_misses_stay_calm(text: str) -> None:
    a = assess(text)
    assert (a.category, a.emergency) == (None, False), a.rule


def test_templates_expand_concepts() -> None:
    ids = {r.id for r in RULES.rules}
    assert "suicide.want_to_die_forms" in ids
    for text in ["きえちゃいたい", "死のうかな", "消えてなくなりたい", "飛び降りようと思う"]:
        assert assess(text).category == "suicide", text


def test_crisis_beats_benign_and_emergency_beats_crisis() -> None:
    assert assess("フィルタリングのこと聞きたいけど、もう死にたい").category == "suicide"
    assert assess("my dad hits me and i want to die").category == "suicide"
    assert assess("死ぬほどつらい、死にたい").category == "suicide"  # idiom masked, crisis kept


def test_every_rule_targets_a_known_screen() -> None:
    for rule in RULES.rules:
        if rule.category is None:
            assert rule.topic in BENIGN_TOPICS, rule.id
        else:
            assert rule.category in CATEGORIES and rule.topic == CATEGORY_TOPIC[rule.category], rule.id


def test_every_category_has_rules() -> None:
    assert {r.category for r in RULES.rules if r.category} == set(CATEGORIES)


def test_odd_input_does_not_raise() -> None:
    for text in ["", " ", "\x00\x01", "\u202e\u200f", "👨‍👩‍👧‍👦" * 50, "あ" * 20_000, "\ud800"]:
        assert isinstance(assess(text), Assessment)
    assert assess(None) == Assessment(None, None, False, "")  # type: ignore[arg-type]


def test_package_is_pure() -> None:
    code = (
        "import sys, bot.safety as s; s.assess('x'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'aiogram', 'telegram', 'aiohttp', 'socket', 'logging', 'http', 'ssl'} "
        "or m.startswith('bot.channels') or m == 'bot.cli']; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
