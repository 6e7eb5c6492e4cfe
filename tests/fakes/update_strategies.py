"""Hypothesis strategies for Telegram Update JSON, generated from the Bot API spec (api.json).

``updates()`` draws an Update of any type the spec's ``Update`` lists (``update_types()``), its objects
built from the spec's fields: every required field and a random few optional ones, nested a few levels
deep. Fields the bot reads are biased towards values it acts on (private chats, commands, button ids,
language codes); ``broken`` mutations then drop required fields, add unknown ones, swap a value's type
or blow a string up to hundreds of kilobytes. ``callback_data()`` draws button data: real-looking ids,
mutated ids and noise.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import strategies as st

from tests.fakes.bot_api_spec import load_spec

__all__ = ["callback_data", "json_values", "update_types", "updates"]

MAX_DEPTH = 3  # objects below this depth get their required fields only
MAX_OPTIONAL = 4  # optional fields drawn per object

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)

_SCREENS = ("start.menu", "teen.menu", "parent.menu", "school.menu", "start.outdated", "teen.meet", "x", "")
_LANGS = ("ja", "en", "en-US", "pt-br", "zh-hans", "ko", "fil", "xx", "", "ja_Easy", "a" * 40)
_AUDIENCES = ("t", "p", "s", "x", "T", "P", "q", "")

real_ids = st.builds(
    lambda v, lang, aud, screen, trigger: f"{v}:{lang}:{aud}:{screen}:{trigger}",
    st.sampled_from(("1", "0", "2", "01", "")), st.sampled_from(_LANGS), st.sampled_from(_AUDIENCES),
    st.sampled_from(_SCREENS), st.sampled_from((*_SCREENS, "@home", "@back", "meet", "")) | st.text(max_size=8),
)


def _mutate(text: str, position: int, insert: str) -> str:
    cut = position % (len(text) + 1)
    return text[:cut] + insert + text[cut + 1:]


def callback_data() -> st.SearchStrategy[str]:
    """Button data as a client could send it: real-looking ids, ids with a character changed, noise."""
    mutated = st.builds(_mutate, real_ids, st.integers(0, 80), st.text(max_size=2))
    noise = st.text(max_size=80) | st.text(alphabet=":0123456789abcdefjat.@_-", max_size=70)
    huge = st.builds(lambda c, n: c * n, st.sampled_from(("x", "あ", ":", "\x00", "🙂")), st.integers(60, 5000))
    return st.one_of(real_ids, mutated, noise, huge)


_COMMANDS = ("/start", "/help", "/language", "/privacy", "/cancel", "/dance", "/", "/start@anshin_test_bot",
             "/help@other_bot", "/START")


def _text() -> st.SearchStrategy[str]:
    command = st.builds(lambda c, arg: f"{c} {arg}".strip(), st.sampled_from(_COMMANDS),
                        st.sampled_from(("", "t", "p-en-spring2027", "t-ja-x", "s-zz", "%%", "a" * 70)) | st.text(
                            max_size=30))
    phrases = st.sampled_from(("助けて 今 家の前にいる", "知らない人に会おうって言われた", "写真を送れって", "hello",
                               "@anshin_test_bot help", "", " ", "\n", "死にたい"))
    return st.one_of(command, phrases, st.text(max_size=200), _huge())


def _huge() -> st.SearchStrategy[str]:
    return st.builds(lambda c, n: c * n, st.sampled_from(("a", "あ", "🙂", "/", "\u200b", "%s")),
                     st.sampled_from((4097, 20_000, 200_000)))


# Field names the bot reads, drawn from values that make it act (else mostly silence).
_HINTS: dict[str, st.SearchStrategy[Any]] = {
    "type": st.sampled_from(("private", "group", "supergroup", "channel", "sender", "regular", "mention")),
    "status": st.sampled_from(("member", "administrator", "left", "kicked", "creator", "restricted")),
    "language_code": st.sampled_from(_LANGS),
    "text": _text(),
    "caption": _text(),
    "data": callback_data(),
    "username": st.sampled_from(("anshin_test_bot", "hana_t", "")) | st.text(max_size=32),
    "is_bot": st.booleans(),
}


def _scalar(type_name: str) -> st.SearchStrategy[Any]:
    if type_name == "Integer":
        # dates out of range, too, and numbers longer than any of Telegram's (a webhook refuses them with 400)
        extremes = st.sampled_from((0, -1, 2**31, 2**53 + 1, 2**62, -(2**62), 2**64, 10**20, -(10**30), 10**400))
        return st.integers(-(2**63), 2**63) | st.integers(-5, 10**13) | extremes
    if type_name == "Float":
        return st.floats(allow_nan=False, allow_infinity=False)
    if type_name == "Boolean":
        return st.booleans()
    if type_name in ("String", "InputFile"):
        return st.text(max_size=40)
    raise KeyError(type_name)


@cache
def _value(type_name: str, depth: int, field: str = "") -> st.SearchStrategy[Any]:
    if field in _HINTS and type_name in ("String", "Boolean"):
        return _HINTS[field]
    if type_name == "String" and (field == "id" or field.endswith("_id")):
        return st.text(min_size=1, max_size=40)  # Telegram's identifiers are never empty
    if depth > MAX_DEPTH + 2:  # deep enough (some types nest through arrays of their own subtypes)
        return st.just([] if type_name.startswith("Array of ") else {})
    if type_name.startswith("Array of "):
        return st.lists(_value(type_name[len("Array of "):], depth + 1, field), max_size=2 if depth < MAX_DEPTH else 1)
    if type_name in ("Integer", "Float", "Boolean", "String", "InputFile"):
        return _scalar(type_name)
    spec_type = load_spec()["types"].get(type_name)
    if spec_type is None:
        return json_values
    if spec_type.get("subtypes"):
        return st.one_of([_value(sub, depth + 1, field) for sub in spec_type["subtypes"]])
    return _object(type_name, depth)


@cache
def _object(type_name: str, depth: int) -> st.SearchStrategy[dict[str, Any]]:
    fields = load_spec()["types"][type_name].get("fields", [])
    if depth > MAX_DEPTH + 2:  # deep enough: an empty object (missing fields are a case too)
        return st.just({})

    def one(field: dict[str, Any]) -> st.SearchStrategy[Any]:
        return st.one_of([_value(t, depth + 1, field["name"]) for t in field["types"]])

    required = {f["name"]: one(f) for f in fields if f["required"]}
    optional = [f for f in fields if not f["required"]]
    if depth >= MAX_DEPTH or not optional:
        return st.fixed_dictionaries(required)
    extras = st.lists(st.sampled_from(optional), max_size=MAX_OPTIONAL, unique_by=lambda f: f["name"]).flatmap(
        lambda chosen: st.fixed_dictionaries({f["name"]: one(f) for f in chosen}))
    return st.builds(lambda a, b: {**a, **b}, st.fixed_dictionaries(required), extras)


def update_types() -> list[tuple[str, str]]:
    """(field, type) for every kind of update in the spec's Update object."""
    return [(f["name"], f["types"][0]) for f in load_spec()["types"]["Update"]["fields"] if f["name"] != "update_id"]


def _broken(update: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    """Drop a field, add one, swap a value's type, or inflate a string, somewhere in the update."""
    node: Any = update
    for _ in range(draw(st.integers(0, 3))):
        children = [v for v in node.values() if isinstance(v, dict)] if isinstance(node, dict) else []
        if not children:
            break
        node = draw(st.sampled_from(children))
    if not isinstance(node, dict):
        return update
    action = draw(st.sampled_from(("drop", "add", "swap", "inflate")))
    keys = sorted(node)
    if action == "drop" and keys:
        node.pop(draw(st.sampled_from(keys)))
    elif action == "add":
        node[draw(st.text(max_size=12))] = draw(json_values)
    elif action == "swap" and keys:
        node[draw(st.sampled_from(keys))] = draw(json_values)
    elif action == "inflate" and keys:
        node[draw(st.sampled_from(keys))] = draw(_huge())
    return update


@st.composite
def updates(draw: st.DrawFn, kinds: tuple[str, ...] | None = None) -> dict[str, Any]:
    """One Update of a kind from the spec (``kinds`` limits them), sometimes broken."""
    available = [(n, t) for n, t in update_types() if kinds is None or n in kinds]
    name, type_name = draw(st.sampled_from(available))
    update: dict[str, Any] = {"update_id": draw(st.integers(0, 2**31)), name: draw(_object(type_name, 1))}
    if draw(st.integers(0, 3)) == 0:
        update = _broken(update, draw)
    return update
