"""Check a Bot API request against the machine-readable spec (tests/fixtures/telegram-bot-api/, with its source).

``validate(method, params)`` lists problems: unknown method, unknown or missing fields, wrong types
(recursively through objects, arrays and subtypes), length limits written in the field descriptions
("1-4096 characters", "1-64 bytes"), and at most 100 inline keyboard buttons.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["SPEC_PATH", "decode_form", "load_spec", "validate"]

SPEC_PATH = Path(__file__).resolve().parents[1] / "fixtures/telegram-bot-api/api.json"
_LIMIT = re.compile(r"(\d+)-(\d+) (characters|bytes)")
MAX_INLINE_BUTTONS = 100


@cache
def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def decode_form(method: str, form: dict[str, str]) -> dict[str, Any]:
    """Form fields as sent over HTTP (strings; objects as JSON) -> values, using the spec's types."""
    fields = {f["name"]: f["types"] for f in load_spec()["methods"].get(method, {}).get("fields", [])}
    out: dict[str, Any] = {}
    for name, raw in form.items():
        if fields.get(name) == ["String"]:
            out[name] = raw
            continue
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def validate(method: str, params: dict[str, Any]) -> list[str]:
    spec = load_spec()
    if method not in spec["methods"]:
        return [f"unknown method {method!r}"]
    problems = _fields(method, spec["methods"][method].get("fields", []), params)
    keyboard = params.get("reply_markup")
    if isinstance(keyboard, dict) and isinstance(keyboard.get("inline_keyboard"), list):
        count = sum(len(row) for row in keyboard["inline_keyboard"] if isinstance(row, list))
        if count > MAX_INLINE_BUTTONS:
            problems.append(f"{method}.reply_markup: {count} buttons, at most {MAX_INLINE_BUTTONS}")
    return problems


def _fields(where: str, fields: list[dict[str, Any]], value: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    known = {f["name"]: f for f in fields}
    for name in value:
        if name not in known:
            problems.append(f"{where}: unknown field {name!r}")
    for name, field in known.items():
        if name not in value:
            if field["required"]:
                problems.append(f"{where}: missing required field {name!r}")
            continue
        path = f"{where}.{name}"
        if not any(not _value(path, t, value[name]) for t in field["types"]):
            problems.extend(_value(path, field["types"][0], value[name]))
            continue
        limit = _LIMIT.search(field.get("description", ""))
        if limit and isinstance(value[name], str):
            low, high, unit = int(limit[1]), int(limit[2]), limit[3]
            size = len(value[name]) if unit == "characters" else len(value[name].encode("utf-8"))
            if not low <= size <= high:
                problems.append(f"{path}: {size} {unit}, must be {low}-{high}")
    return problems


def _value(path: str, type_name: str, value: Any) -> list[str]:
    """Problems with ``value`` as ``type_name`` (empty when it fits)."""
    if type_name.startswith("Array of "):
        if not isinstance(value, list):
            return [f"{path}: expected {type_name}"]
        inner = type_name[len("Array of "):]
        return [p for i, item in enumerate(value) for p in _value(f"{path}[{i}]", inner, item)]
    simple = {"String": str, "Integer": int, "Boolean": bool, "Float": (int, float), "InputFile": (str, bytes)}
    if type_name in simple:
        ok = isinstance(value, simple[type_name]) and not (type_name in ("Integer", "Float") and
                                                           isinstance(value, bool))
        return [] if ok else [f"{path}: expected {type_name}, got {type(value).__name__}"]
    spec_type = load_spec()["types"].get(type_name)
    if spec_type is None:
        return [f"{path}: unknown type {type_name}"]
    if spec_type.get("subtypes"):
        attempts = [_value(path, sub, value) for sub in spec_type["subtypes"]]
        return [] if any(not a for a in attempts) else [f"{path}: matches no subtype of {type_name}"]
    if not isinstance(value, dict):
        return [f"{path}: expected {type_name} object"]
    return _fields(path, spec_type.get("fields", []), value)
