"""Hypothesis strategies for LINE webhook events, generated from webhook.yml.

``events()`` draws an event of any type ``Event``'s discriminator maps (``event_types()``), each object built
from its schema: ``$ref``, ``allOf`` and the discriminator's subtype (a message event gets a text, image, sticker...
message), every required field and a few optional ones, enums from the file. Fields the bot reads are biased
towards values it acts on (a user source, commands and phrases, button ids); ``broken`` mutations then drop
required fields, add unknown ones, swap a value's type or blow a string up to hundreds of kilobytes.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from hypothesis import strategies as st

from tests.fakes.line_spec import WEBHOOK, load
from tests.fakes.update_strategies import callback_data, json_values

__all__ = ["event_types", "events"]

MAX_DEPTH = 4
MAX_OPTIONAL = 3

_TEXTS = st.one_of(
    st.sampled_from(("/start", "/start t", "/start p-en-spring2027", "/start s-zz", "/help", "/language", "/privacy",
                     "/cancel", "/dance", "助けて 今 家の前にいる", "知らない人に会おうって言われた", "死にたい",
                     "hello", "", " ", "\n")),
    st.text(max_size=200),
    st.builds(lambda c, n: c * n, st.sampled_from(("a", "あ", "🙂", "/", "%s")), st.sampled_from((5001, 50_000))),
)
_HINTS: dict[str, st.SearchStrategy[Any]] = {
    "text": _TEXTS,
    "data": callback_data(),
    "mode": st.sampled_from(("active", "active", "active", "standby", "")),
    "userId": st.sampled_from(("U" + "1" * 32, "U" + "2" * 32)) | st.text(max_size=40),
    "replyToken": st.uuids().map(lambda u: u.hex),
}


def _schemas() -> dict[str, Any]:
    schemas: dict[str, Any] = load(WEBHOOK)["components"]["schemas"]
    return schemas


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return _schemas()[ref.rsplit("/", 1)[1]] if isinstance(ref, str) else schema


def _merged(schema: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Properties and required names of a schema with its allOf parts (without their discriminators)."""
    schema = _resolve(schema)
    properties = dict(schema.get("properties") or {})
    required = list(schema.get("required") or [])
    for part in schema.get("allOf") or ():
        more, needed = _merged(part)
        properties.update(more)
        required += needed
    return properties, required


def _scalar(schema: dict[str, Any], name: str) -> st.SearchStrategy[Any]:
    if name in _HINTS:
        return _HINTS[name]
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        return st.integers(-(2**63), 2**63) | st.integers(0, 10**13)
    if kind == "number":
        return st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    return st.text(min_size=1, max_size=40)


@cache
def _object(ref: str, depth: int, tag: str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    schema = _schemas()[ref]
    discriminator = schema.get("discriminator")
    if isinstance(discriminator, dict) and tag is None:
        mapping = discriminator["mapping"]
        return st.one_of([_object(target.rsplit("/", 1)[1], depth, value).map(
            lambda o, value=value, name=discriminator["propertyName"]: {**o, name: value})
            for value, target in sorted(mapping.items())])
    properties, required = _merged({"$ref": f"#/components/schemas/{ref}"})
    if depth > MAX_DEPTH:
        return st.just({})

    def one(name: str) -> st.SearchStrategy[Any]:
        return _value(properties[name], depth + 1, name)

    fixed = st.fixed_dictionaries({name: one(name) for name in dict.fromkeys(required) if name in properties})
    optional = sorted(name for name in properties if name not in required)
    if not optional or depth >= MAX_DEPTH:
        return fixed
    extras = st.lists(st.sampled_from(optional), max_size=MAX_OPTIONAL, unique=True).flatmap(
        lambda chosen: st.fixed_dictionaries({name: one(name) for name in chosen}))
    return st.builds(lambda a, b: {**b, **a}, fixed, extras)


def _value(schema: dict[str, Any], depth: int, name: str) -> st.SearchStrategy[Any]:
    if name in _HINTS:
        return _HINTS[name]
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return _object(ref.rsplit("/", 1)[1], depth)
    if schema.get("type") == "array":
        return st.lists(_value(schema.get("items") or {}, depth + 1, name), max_size=2)
    if schema.get("type") == "object" or "properties" in schema:
        return st.just({})
    return _scalar(schema, name)


def event_types() -> list[str]:
    """Every event type webhook.yml's Event maps to a schema."""
    return sorted(_schemas()["Event"]["discriminator"]["mapping"])


def _broken(event: dict[str, Any], draw: st.DrawFn) -> dict[str, Any]:
    node: Any = event
    for _ in range(draw(st.integers(0, 2))):
        children = [v for v in node.values() if isinstance(v, dict)] if isinstance(node, dict) else []
        if not children:
            break
        node = draw(st.sampled_from(children))
    keys = sorted(node) if isinstance(node, dict) else []
    action = draw(st.sampled_from(("drop", "add", "swap", "inflate")))
    if action == "drop" and keys:
        node.pop(draw(st.sampled_from(keys)))
    elif action == "add" and isinstance(node, dict):
        node[draw(st.text(max_size=12))] = draw(json_values)
    elif action == "swap" and keys:
        node[draw(st.sampled_from(keys))] = draw(json_values)
    elif action == "inflate" and keys:
        node[draw(st.sampled_from(keys))] = "x" * draw(st.sampled_from((5001, 300_000)))
    return event


@st.composite
def events(draw: st.DrawFn, types: tuple[str, ...] | None = None, broken: bool = True) -> dict[str, Any]:
    """One webhook event of a type from webhook.yml (``types`` limits them), sometimes broken."""
    kind = draw(st.sampled_from(types or tuple(event_types())))
    target = _schemas()["Event"]["discriminator"]["mapping"][kind].rsplit("/", 1)[1]
    event = {**draw(_object(target, 1, kind)), "type": kind}
    if broken and draw(st.integers(0, 4)) == 0:
        event = _broken(event, draw)
    return event
