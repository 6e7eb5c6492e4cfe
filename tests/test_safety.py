"""bot.safety: the API the engine calls, normalisation, near-misses, purity."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.safety import Assessment, assess, normalise
from bot.safety.categories import BENIGN_TOPICS, CATEGORIES, CATEGORY_TOPIC, EMERGENCY_CATEGORIES, SCREEN_CATEGORY
from bot.safety.lexicon import LEXICON
from bot.safety.rules import RULES, RuleSet

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


# Round 2 (#7): written after the rules were widened on the kinds of phrasing
# blind3 missed, and not in any evaluation file: euphemisms, kana-only spellings,
# third-person reports, English suicide and image phrasing.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        # danger now: still near, told to come along, car doors, violence going on
        ("うしろからずっと同じ人がついてくる、こわい", "emergency"),
        ("知らないおじさんに一緒に来いって腕ひっぱられてる", "emergency"),
        ("車から降ろしてくれない、どこ行くのか教えてくれない", "emergency"),
        ("彼氏に突き飛ばされて、まだ怒鳴ってる", "emergency"),
        ("元彼が家の前で待ってる、こわい", "emergency"),
        ("my bf pushed me and hes still screaming at me rn", "emergency"),
        ("hes trying to break down the door", "emergency"),
        ("theres a man outside my house in a car again, same one as yesterday", "emergency"),
        ("help help someones in the house", "emergency"),
        # suicide: plans, being gone, letters, farewells, pills; kana and third person
        ("ive decided how im going to do it", "suicide"),
        ("everyone would be happier if i just disappeared", "suicide"),
        ("whats the most painless way to go", "suicide"),
        ("writing a note so my mom knows it wasnt her fault", "suicide"),
        ("sorry for everything guys. goodbye", "suicide"),
        ("took like 30 of my sleeping pills", "suicide"),
        ("生きてるのつかれた", "suicide"),
        ("朝が来なきゃいいのに", "suicide"),
        ("橋の手すりのぼれるか見てきた", "suicide"),
        ("友達が明日飛び降りるって言ってる", "suicide"),
        ("みんな今までごめんね さよなら", "suicide"),
        ("もう全部おわりにしたい", "suicide"),
        # sexual images, said without saying what the picture was
        ("sent him something i shouldnt have and now he wont delete it", "sexual_images"),
        ("we did stuff on video chat and he recorded it", "sexual_images"),
        ("she sent me one and wants me to send one back", "sexual_images"),
        ("how do i remove a video i sent when i was 15", "sexual_images"),
        ("元カレが送った写真消してくれない", "sexual_images"),
        ("更衣室で撮られた写真がクラスで回されてる", "sexual_images"),
        ("彼にそっちも送ってって言われた", "sexual_images"),
        # abuse at home: hiding bruises, night visits, the past, comments and walking in
        ("あざ隠すためにファンデ塗ってる", "abuse_home"),
        ("お兄ちゃんが夜中にへやに入ってくるのが怖い", "abuse_home"),
        ("my mom's boyfriend keeps walking in when im changing", "abuse_home"),
        ("my cousin did stuff to me when i was younger and i cant forget it", "abuse_home"),
        ("my stepdad talks about my body and it's gross", "abuse_home"),
        # sexual assault: rubbing, waking up undressed, not stopping
        ("a man kept rubbing against me on the train", "sexual_assault"),
        ("woke up at his place with my clothes off", "sexual_assault"),
        ("i told him to stop and he just kept going", "sexual_assault"),
        ("泣いてるのにやめてくれなかった", "sexual_assault"),
        # paid dating: money (or 💰) for tea, karaoke, a day out
        ("カラオケ行くだけで5000円くれるって人がいる", "paid_dating"),
        ("お茶だけで2万って言われた", "paid_dating"),
        ("an old man offered me money to spend the day with him", "paid_dating"),
        # grooming: a place to stay, the lie for the parents, age, gifts, moving apps
        ("ネットの人にうち泊まりに来ていいよって言われた", "grooming"),
        ("he said just tell your parents youre at a friends house", "grooming"),
        ("歳の差なんて関係ないって言われた、相手は25", "grooming"),
        ("ギフト券もらったから会わないといけない気がする", "grooming"),
        ("we switched to kik because he said its more private", "grooming"),
    ],
)
def test_unseen_phrasings_round2(text: str, category: str) -> None:
    assert assess(text).category == category, assess(text).rule


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("what's a good screen time rule for a 10 year old", "parent.rules"),
        ("my son was groomed online and we only just found out", "parent.victim"),
        ("my daughter sent nudes to a man and now hes threatening her", "parent.victim"),
        ("a pupil told me a man she met online sent her messages, what should i do", "school.disclosure"),
        ("one of my students is being blackmailed with pictures", "school.disclosure"),
        ("my best friend is chatting with an older guy online and im worried about her", "teen.friend"),
        ("how do i support a friend who is being bullied online", "teen.friend"),
        ("i just want someone to listen", "help.talk"),
        ("法テラスってなに", "help.legal"),
        ("小5の娘にスマホははやい？", "parent.first_phone"),
        ("someone posted screenshots of our dms with my name", "teen.posted"),
    ],
)
def test_reporters_and_questions_go_to_their_topic(text: str, topic: str) -> None:
    a = assess(text)
    assert (a.category, a.topic) == (None, topic), a.rule


def test_guards_never_hide_danger_or_self_harm() -> None:
    assert assess("my daughter says she wants to die").category == "suicide"
    assert assess("one of my students says she wants to kill herself").category == "suicide"
    assert assess("my son is being followed home right now").category == "emergency"
    # The teenager's own situation is not a report about someone else.
    assert assess("my friend from discord wants to meet me and im worried").category == "grooming"
    assert assess("ゲームの友達が会おうって言ってきて心配").category == "grooming"
    assert assess("生徒会の先輩にむりやりキスされた").category == "sexual_assault"
    data = {"guards": [{"id": "g", "skip": ["suicide"], "any": ["x"]}]}
    with pytest.raises(ValueError):
        RuleSet(data, LEXICON)


@pytest.mark.parametrize(
    "text",
    [
        "my mom is waiting outside for me",
        "まだ外にいる、友達待ってる",
        "家の前に宅配の車とまってる",
        "the car doors are locked and i left my keys inside lol",
        "he pushed me in the pool lol",
        "my sister is coming up the stairs to wake me",
        "figured out how to do the math problem",
        "nobody would notice if i skipped class",
        "when im gone on vacation nobody waters my plants",
        "least painful way to remove a splinter",
        "sorry for everything yesterday, see you tomorrow",
        "生きるのって楽しい",
        "屋上のフェンス新しくなってた",
        "プールに飛び込むの怖い",
        "i regret sending that text",
        "we did stuff on facetime for our class project",
        "元カレが2ショ消してくれない",
        "あざできた、部活で転んだ",
        "母が夜部屋に来ておやすみって言う",
        "my cat keeps rubbing against me",
        "he wouldnt stop texting me even when i said no",
        "my dad paid for karaoke with him and my sister",
        "友達が泊めてくれるって",
        "age is just a number, my grandma runs marathons",
        "we moved to discord for our club",
        "教えちゃった笑",
        "え、ちょっと待って",
        "my mom will kill me if im late again",
        "小さいころ兄によく遊んでもらった",
        "家の前で友達が待ってる",
        "sorry for everything i said, bye for now",
        "my dad hit me with the worst joke",
    ],
)
def test_round2_near_misses_stay_calm(text: str) -> None:
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
        else:  # its category's screen, or a sharper one of the same category (issue 18: help.hurt puts 119 first)
            assert rule.category in CATEGORIES, rule.id
            assert rule.topic in (CATEGORY_TOPIC[rule.category], *(
                screen for screen, category in SCREEN_CATEGORY.items() if category == rule.category)), rule.id


def test_every_category_has_rules() -> None:
    assert {r.category for r in RULES.rules if r.category} == set(CATEGORIES)


def test_odd_input_does_not_raise() -> None:
    for text in ["", " ", "\x00\x01", "\u202e\u200f", "👨‍👩‍👧‍👦" * 50, "あ" * 20_000, "\ud800"]:
        assert isinstance(assess(text), Assessment)
    assert assess(None) == Assessment(None, None, False, "")  # type: ignore[arg-type]


def test_package_is_pure() -> None:
    # logging is allowed since issue 18: one warning, without text, when the exemplar layer cannot run here.
    code = (
        "import sys, bot.safety as s; s.assess('x'); "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "{'aiogram', 'telegram', 'aiohttp', 'socket', 'http', 'ssl'} "
        "or m.startswith('bot.channels') or m == 'bot.cli']; print(bad)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


# Round 3 (#7): written after the rules were widened on the kinds of phrasing
# blind4 missed, and not in any evaluation file: danger now said indirectly,
# notes "just in case", pay-or-we-post, neglect and an unsafe home, adults with
# power over the teenager, money for next to nothing, apps nobody else sees.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        # danger now: the same person still there, dragged, a feared person here, a car, the wrong way
        ("かえしてもらえない、しらないひとの車のなか", "emergency"),
        ("同じおじさんがさっきから2駅ずっと同じ車両にいる", "emergency"),
        ("知らない男に腕ひっぱられてる 車の方", "emergency"),
        ("元彼が今バイト先の出口で待ってる、こわい", "emergency"),
        ("あいつが玄関の前でナイフもってる", "emergency"),
        ("same guy got off at my stop and hes still behind me", "emergency"),
        ("a van keeps circling the block and slowed down next to me", "emergency"),
        ("the driver isnt taking me home, we passed my stop like 10 min ago", "emergency"),
        ("my ex showed up outside my work and says hes not leaving, im scared", "emergency"),
        ("hes dragging me to his car", "emergency"),
        # suicide: notes and giving things away "just in case"; 消えたい without both a laugh and a trivial cause
        ("wrote letters to my mom and my brother just in case", "suicide"),
        ("gave away my stuff to my friends, just in case", "suicide"),
        ("消えちゃいたい笑", "suicide"),
        ("部活つらすぎて消えたい", "suicide"),
        # sexual images: euphemisms, pay or it gets sent
        ("he screenshotted my snap and it wasnt a normal one", "sexual_images"),
        ("pay 300 in gift cards or your pics go to your followers", "sexual_images"),
        ("お金払わないと写真フォロワーにばらまくって", "sexual_images"),
        ("someone said send $100 or ill send your video to everyone you know", "sexual_images"),
        # abuse at home: left alone for days, no doctor, "a game", unsafe, shut out
        ("ママが1週間帰ってこない、ご飯もない", "abuse_home"),
        ("my mom hasnt been home in 4 days and theres no food", "abuse_home"),
        ("熱あっても病院に行かせてもらえない", "abuse_home"),
        ("my parents wont take me to the doctor even when im really sick", "abuse_home"),
        ("my cousin makes me do things and says its our secret game", "abuse_home"),
        ("i dont feel safe at my dads anymore", "abuse_home"),
        ("家にいると怖い", "abuse_home"),
        ("dad locked me out again for the night, im on the porch", "abuse_home"),
        # sexual assault: adults with power, "did something", is it assault
        ("my coach keeps touching my thigh when we are alone", "sexual_assault"),
        ("the piano teacher tries to kiss me after lessons", "sexual_assault"),
        ("塾の先生が二人きりになるとキスしてくる", "sexual_assault"),
        ("バイト先の店長に触られる", "sexual_assault"),
        ("is it rape if i didnt fight back", "sexual_assault"),
        ("抵抗できなかったけど性暴力になるの？", "sexual_assault"),
        ("my friends dad did something to me when i slept over", "sexual_assault"),
        ("my friends older brother touched me while i was asleep", "sexual_assault"),
        # paid dating: money for next to nothing, worn clothes, photo jobs, met for money
        ("a man offered 300 just to have lunch with him", "paid_dating"),
        ("ご飯食べるだけで3万くれるって言われた", "paid_dating"),
        ("someone wants to pay for my worn socks", "paid_dating"),
        ("体操服売ってくれたら1万って言われた", "paid_dating"),
        ("制服で写真撮らせてくれたら2万あげるって", "paid_dating"),
        ("cafe job where you talk with older men in uniform", "paid_dating"),
        ("お金もらえるって言われて会っちゃった", "paid_dating"),
        ("おじさんとお話するだけのバイト誘われた", "paid_dating"),
        # grooming: an app nobody else sees
        ("親に見られないアプリで話そうって言われた", "grooming"),
        ("he wants to talk on an app with disappearing messages", "grooming"),
        ("履歴が残らないアプリに移ろうって", "grooming"),
    ],
)
def test_unseen_phrasings_round3(text: str, category: str) -> None:
    assert assess(text).category == category, assess(text).rule


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("my daughter told me her uncle touched her, who do we call", "parent.victim"),
        ("娘が知らない人から荷物を受け取ってて、誰からか言わない", "parent.signs"),
        ("one of my year 8s disclosed that her dad hits her, what should i do", "school.disclosure"),
        ("my friend told me her dad hits her, what should i do", "teen.friend"),
        ("友達が援交してるっぽい、どうすればやめさせられる", "teen.friend"),
        ("how do i put snapchat on ghost mode", "teen.privacy"),
        ("my real name and address are on a forum", "teen.posted"),
        ("im lonely, is there someone i can talk to", "help.talk"),
    ],
)
def test_round3_reporters_and_questions_go_to_their_topic(text: str, topic: str) -> None:
    a = assess(text)
    assert (a.category, a.topic) == (None, topic), a.rule


@pytest.mark.parametrize(
    "text",
    [
        "my mom is gonna kill me i forgot to do the dishes",
        "my dad is going to kill me i crashed his car",
        "テスト終わった消えたいw",
        "月曜だるい消えたい笑",
        "同じ人がずっと一位でつまらん",
        "同じ人と何回も話した",
        "the bus driver passed my stop so i walked",
        "my dog is dragging me on our walk lol",
        "包丁の持ち方教えて",
        "my ex is at the party rn lol",
        "wrote notes just in case the test covers chapter 5",
        "pay $10 a month or your account goes to free tier",
        "親が出張で3日帰ってこない、自由！",
        "my sister makes me do her chores and says its a game",
        "got kicked out of class again lol",
        "my teacher hugged me at graduation",
        "my coach touched my shoulder to fix my form",
        "a guy did something to my bike",
        "mom paid $200 for my school uniform",
        "selling my old uniform to a younger student",
        "my mom pays me 500 just to walk the dog",
        "卒アルの制服写真撮影いつ？",
        "お金ないから友達と会えない",
        "car keeps circling looking for parking",
        "ママが今玄関の前にいる",
        "can a lawyer help me get my ex to stop texting",
    ],
)
def test_round3_near_misses_stay_calm(text: str) -> None:
    a = assess(text)
    assert (a.category, a.emergency) == (None, False), a.rule


def test_calm_needs_every_group() -> None:
    data = {
        "crisis": [
            {"id": "s", "category": "suicide", "any": ["消えたい"], "calm": [["笑"], ["部活"]]},
        ]
    }
    rules = RuleSet(data, LEXICON)
    assert rules.first(normalise("部活だるすぎて消えたい笑")) is None
    assert rules.first(normalise("消えたい笑")) is not None
    assert rules.first(normalise("部活だるすぎて消えたい")) is not None


# Round 4 (#7): written after the rules were widened on the kinds of phrasing
# blind5 missed, and not in any evaluation file: "now" in kana and typing in
# secret, a threat to break the door, an address found out, a plan told, the
# picture that was sent (in any tense), something a relative does that cannot
# be told, meals and power cut off, "did all sorts", walks and "papa" hunting,
# a lie about age, a paid ticket to come and meet.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("いま殴られてる、声出せない", "emergency"),
        ("今蹴られてる 隠れて打ってる", "emergency"),
        ("ネットで会った人の車、どこ走ってるのかわからない", "emergency"),
        ("hes trying to break the door down", "emergency"),
        ("the guy from insta knows where i live and says hes coming tonight", "emergency"),
        ("i have a plan and ive been thinking about it a lot, please dont try to stop me", "suicide"),
        ("計画立てた。もう止めないで", "suicide"),
        ("i want to disappear, nobody would notice", "suicide"),
        ("lol i want to disappear", "suicide"),  # a laugh without a trivial cause still answers
        ("送っちゃった写真、消してって言っても消してくれない", "sexual_images"),
        ("送ったやつネットにのせるって脅された", "sexual_images"),
        ("he wants a shirtless pic and says hell send one first", "sexual_images"),
        ("is it illegal that he kept my pics im only 14", "sexual_images"),
        ("i sent something to a guy and he screenshotted it", "sexual_images"),
        ("義父にされたこと、誰にも話せない", "abuse_home"),
        ("ご飯もらえてない、親帰ってこない", "abuse_home"),
        ("母が帰ってこなくてガスも止まってる", "abuse_home"),
        ("公園で知らないおっさんに色々された", "sexual_assault"),
        ("お散歩するだけで1万もらえるバイト", "paid_dating"),
        ("太パパ募集してる子いる？", "paid_dating"),
        ("a guy asked how much for my socks after gym", "paid_dating"),
        ("he said he was 16 but turns out hes way older", "grooming"),
        ("he said he was 16 but hes actually 30", "grooming"),
        ("he wants to pay for my train ticket so i can visit him", "grooming"),
        ("a guy from tiktok found out where i live", "grooming"),
    ],
)
def test_unseen_phrasings_round4(text: str, category: str) -> None:
    assert assess(text).category == category, assess(text).rule


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("my son plays roblox, should i check his phone?", "parent.rules"),
        ("キッズケータイって必要？", "parent.first_phone"),
        ("what are the signs my kid is being groomed", "parent.signs"),
        ("my daughter came home with a new phone she wont explain", "parent.signs"),
        ("someone was grooming my daughter on instagram", "parent.victim"),
        ("my friend is talking to an older guy and i have a bad feeling", "teen.friend"),
        ("友達が援交してるって、先生に言うべき？", "teen.friend"),
        ("can i go to the police without my parents knowing", "help.legal"),
        ("my address got leaked in a group chat", "teen.posted"),
        ("i just need to rant", "help.talk"),
    ],
)
def test_round4_reporters_and_questions_go_to_their_topic(text: str, topic: str) -> None:
    a = assess(text)
    assert (a.category, a.topic) == (None, topic), a.rule


@pytest.mark.parametrize(
    "text",
    [
        "ネットで叩かれてる、今炎上中",
        "いま叩かれてる芸能人って誰",
        "lmao i want to vanish after my math test",
        "lol i want to disappear after my crush saw me trip",
        "消えたいw 英語の小テスト",
        "i have a plan for my science project, been thinking about it for weeks",
        "i have a plan to get my ex back, been thinking about it",
        "彼氏とドライブ、どこ走ってるかわかんないけど楽しい",
        "my friend found my address and is coming over tonight to surprise me",
        "i locked myself out and dad had to break the door",
        "my grandma offered to buy me a train ticket to come see her",
        "交通費出すから遊びに来てって先輩が",
        "he says hes 16 but hes actually 15",
        "someone at school knows where i live",
        "姉に告白されたこと誰にも言えない",
        "今日はママがご飯作ってくれない",
        "犬の散歩するだけのバイトで1000円",
        "パパ探してるけど迷子になった",
        "how much for your shoes, my mom wants to buy the same ones",
        "i sent a meme and they screenshotted it lol",
        "he posted a shirtless pic at the beach",
    ],
)
def test_round4_near_misses_stay_calm(text: str) -> None:
    a = assess(text)
    assert (a.category, a.emergency) == (None, False), a.rule


# Round 5 (#7): indirect phrasings of the kinds blind6 missed, not in any
# evaluation file: fled to another room while being hit, a stranger at the door
# or trying the handle when home alone, brought somewhere and wanting out, walking
# behind turn after turn, a car crawling alongside; wishing the morning would not
# come, dwelling on a roof or bridge, "nobody would notice" in kana, "what's the
# point of existing"; afraid to be at home, things thrown, food withheld for weeks
# or as a punishment, "is it normal for parents to", long sleeves to hide it;
# "へんなこと" from a coach, cornered and grabbed, pulled somewhere (told as past);
# money demanded after a picture, a picture "without the shirt", "if you loved me";
# things bought to get a meeting; when the parents come home, whether they check
# the phone, a school guessed.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("いまお父さん暴れてて叩かれた 部屋に逃げてる", "emergency"),
        ("玄関の外で知らない男がずっと名前呼んでる", "emergency"),
        ("知らない人の家に連れてこられた 帰りたい こわい", "emergency"),
        ("some guy has been behind me since the station and stops when i stop", "emergency"),
        ("someone is rattling the door handle and im home alone", "emergency"),
        ("a van is driving slowly next to me and i dont know the guy", "emergency"),
        ("明日がこなければいいのにってずっと思ってる", "suicide"),
        ("線路の近く通るたびにそればっか考えてしまう", "suicide"),
        ("i keep standing on the bridge thinking about it", "suicide"),
        ("ぼくがいなくなってもだれもきづかないと思う", "suicide"),
        ("honestly what is the point of being alive", "suicide"),
        ("家にいるのが怖くて眠れない 父が酔うと暴れる", "abuse_home"),
        ("my dad locks the fridge so i cant eat when im bad", "abuse_home"),
        ("is it normal for your dad to hit you with a belt", "abuse_home"),
        ("i wear long sleeves so no one sees the bruises my dad leaves", "abuse_home"),
        ("dad hasnt bought food for weeks", "abuse_home"),
        ("塾の先生が二人きりのときにへんなことしてくる", "sexual_assault"),
        ("my manager corners me in the back and grabs me", "sexual_assault"),
        ("some guys dragged me behind the station last week", "sexual_assault"),
        ("自撮り送ったら金払えって脅されてる", "sexual_images"),
        ("he wants a pic without my top", "sexual_images"),
        ("she said if i really loved her id send a pic", "sexual_images"),
        ("おじさんになんでも買ってあげるから会おうって言われた", "paid_dating"),
        ("a guy keeps buying me stuff from my wishlist and asked to meet up", "paid_dating"),
        ("ネットの人に親が何時に帰るかしつこく聞かれる", "grooming"),
        ("a guy online asked if my parents read my messages", "grooming"),
        ("通話相手に学校当てられた", "grooming"),
    ],
)
def test_unseen_phrasings_round5(text: str, category: str) -> None:
    assert assess(text).category == category, assess(text).rule


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("My 12yo says a man online is blackmailing her with a photo", "parent.victim"),
        ("娘がネットで知り合った人と会っちゃったみたい", "parent.victim"),
        ("is there a helpline for teens where i can report something", "help.talk"),
        ("what time should my 15 year old's phone curfew be", "parent.rules"),
        ("any lesson plans on online safety for my class?", "school.share"),
        ("someone reposted my pics and is pretending to be me", "teen.posted"),
    ],
)
def test_round5_reporters_and_questions_go_to_their_topic(text: str, topic: str) -> None:
    a = assess(text)
    assert (a.category, a.topic) == (None, topic), a.rule


@pytest.mark.parametrize(
    "text",
    [
        "my mom will kill me lol",
        "屋上でお弁当食べながらずっと考えてた 進路のこと",
        "stood on the bridge to take photos of the sunset",
        "someone keeps knocking, its just the pizza guy, im home alone",
        "my little brother keeps knocking, im home alone with him",
        "the guy behind me in line for like 20 minutes was so loud",
        "the car behind me for blocks was my dad picking me up",
        "家にいるのが暇すぎる",
        "i wear long sleeves so nobody sees my tattoo lol",
        "is it normal for parents to check your phone",
        "is it normal for parents to ground you for a week",
        "my friends pulled me into the pool yesterday lol",
        "昨日友達にプールに引きずり込まれた笑",
        "if you loved me youd send me a birthday card lol",
        "彼氏がバッグ買ってくれるから会う",
        "my grandma buys me stuff from my wishlist when we meet",
        "boss level: hit him and hide in the closet",
        "マイクラで敵に殴られて部屋に逃げてる",
        "下の写真を見てください",
        "sent the pic of the ticket, now she wants money for it",
        "we dont get dinner if we come home after curfew lol",
        "bf says if i loved him id come to his game",
    ],
)
def test_round5_near_misses_stay_calm(text: str) -> None:
    a = assess(text)
    assert (a.category, a.emergency) == (None, False), a.rule


# Round 6 (#7): indirect phrasings of the kinds blind7 missed, not in any
# evaluation file: being hit in kana while hiding, an ex or someone met online
# coming or at the door now, surrounded and money demanded, driven somewhere
# unknown; pills kept ready, "ending it" as an intention; an adult at home who
# makes the teenager keep secrets, a lock taken away to watch; a part of the body
# touched (kana), someone getting into the futon, "it happened" and how it still
# weighs; "send or we break up", pictures to be posted after a breakup, asked for
# pictures and pressed, paid once and more demanded; "大人" in a profile;
# asked to turn off location sharing.
@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("いま兄がなぐってくる 部屋にかくれてる", "emergency"),
        ("元彼がこれから家に来るって 一人だしこわい", "emergency"),
        ("ネットの人がいま家の前にいるっぽい どうしよ", "emergency"),
        ("駅で知らないやつらに囲まれてる、財布出せって", "emergency"),
        ("they drove me somewhere and i dont know where i am, i want to go home", "emergency"),
        ("睡眠薬ずっと集めておいた", "suicide"),
        ("been thinking about ending it, maybe tonight", "suicide"),
        ("友達がリスカしてるっぽい、私もやめられない", "suicide"),  # the teenager's own: always answered
        ("my friend is cutting herself and its bleeding a lot, what do i do", "suicide"),  # urgent
        ("義父に、されてることは誰にも言うなって言われてる", "abuse_home"),
        ("my stepmom made me promise not to tell anyone what happens at home", "abuse_home"),
        ("my stepdad removed the lock on my door and keeps walking in, its creepy", "abuse_home"),
        ("塾の先生が太もも触ってくる", "sexual_assault"),
        ("合宿で先輩が布団に入ってきた", "sexual_assault"),
        ("what he did at the party last night, nobody would believe me", "sexual_assault"),
        ("写真送ってくれなきゃ他の子にするって", "sexual_images"),
        ("he says send a pic or were breaking up", "sexual_images"),
        ("前に送った写真、別れたらストーリーに載せるって言われた", "sexual_images"),
        ("she keeps begging for pics and ignores me until i send one", "sexual_images"),
        ("i paid him once already and now he wants more money or hell send it to my school", "sexual_images"),
        ("プロフに大人って書いてある人に会おうって誘われた", "paid_dating"),
        ("an older guy from insta told me to turn off find my before we meet", "grooming"),
    ],
)
def test_unseen_phrasings_round6(text: str, category: str) -> None:
    assert assess(text).category == category, assess(text).rule


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        # A friend's self-harm seen from outside, asking what to do: the friend screen.
        ("友達が自傷してるみたい、どうすればいい？", "teen.friend"),
        ("my best friend is hurting herself, what should i do", "teen.friend"),
        ("my friend is getting gifts from older men and its not okay", "teen.friend"),
        ("息子のインスタのDMを見るべきか悩んでいます", "parent.rules"),
        ("娘が最近部屋に閉じこもって返事もしない", "parent.signs"),
        ("my son told me a stranger made him send pictures", "parent.victim"),
        ("who should i talk to if i cant tell my parents", "help.talk"),
        ("is it legally ok to work at 15", "help.legal"),
        ("can i recommend this bot to other parents at pta", "school.share"),
    ],
)
def test_round6_reporters_and_questions_go_to_their_topic(text: str, topic: str) -> None:
    a = assess(text)
    assert (a.category, a.topic) == (None, topic), a.rule


def test_a_friends_talk_of_dying_still_answers() -> None:
    # Calming a friend's self-harm never reaches a friend's talk of wanting to die.
    assert assess("my friend says she wants to die, what should i do").category == "suicide"
    assert assess("友達が死にたいって言ってる、どうしたらいい").category == "suicide"


@pytest.mark.parametrize(
    "text",
    [
        "スマホの画面割ったらパパに殺される",
        "財布落としたらママに殺されるわ",
        "弟とかくれんぼしてトイレにかくれてる笑",
        "ネットの友達が今下にいる！会えた嬉しい",
        "公園で猫に囲まれてる笑",
        "友達に囲まれて誕生日祝ってもらった",
        "mom took me to a new mall, idk where we are",
        "ビタミンの薬ためてある",
        "thinking about ending it with my boyfriend",
        "thinking about ending my streak lol",
        "dad makes me keep secrets about the surprise party for mom",
        "my dad took the lock off the bathroom door to fix it",
        "修学旅行で友達が布団に入ってきて朝までしゃべった笑",
        "猫が布団に入ってきた",
        "after what he did at prom i cant even look at him, he cheated on me",
        "なんか胸さわぎがする",
        "自分の胸さわってしこりあった",
        "彼氏と撮った写真、別れたらインスタにあげようかな",
        "ノート送ってくれなきゃ嫌いになるって笑",
        "send me the homework or were done lol",
        "my grandma keeps asking for pics of the baby and gets mad",
        "i already paid for the tickets and now they want more",
        "大人になったら連絡するね",
        "my mom asked me to turn off location sharing to save battery",
    ],
)
def test_round6_near_misses_stay_calm(text: str) -> None:
    a = assess(text)
    assert (a.category, a.emergency) == (None, False), a.rule
