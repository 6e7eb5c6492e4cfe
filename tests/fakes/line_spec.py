"""Check requests to the LINE Messaging API and posted webhook events against LINE's own OpenAPI files
(tests/fixtures/line-messaging-api/, with their source and licence). No schema is written here.

``operation(method, path)`` finds the operation a request is for (``POST /v2/bot/message/reply`` ->
``replyMessage``) and ``validate_request`` checks its JSON body against the operation's request body schema;
``validate_events`` checks a webhook body against ``CallbackRequest``. Validation is openapi-schema-validator's
OAS 3.0 validator, with two things it leaves out done from the same files: a ``discriminator`` selects the
subtype an object must also match (``"type": "text"`` -> ``TextMessage``, which requires ``text``), and a field no
schema of the object declares (through ``$ref``, ``allOf`` and the selected subtype) is reported as unknown.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import ValidationError, validators
from openapi_schema_validator import OAS30Validator

__all__ = ["MESSAGING", "WEBHOOK", "Operation", "load", "operation", "validate_events", "validate_request"]

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "line-messaging-api"
MESSAGING = FIXTURES / "messaging-api.yml"
WEBHOOK = FIXTURES / "webhook.yml"
_active: set[tuple[int, str]] = set()  # (object, subtype) being checked: a subtype's allOf names its base again


@cache
def load(path: Path) -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with path.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.load(handle, Loader=loader)
    return data


def _discriminator(validator: Any, value: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    if not isinstance(instance, dict) or not isinstance(value, dict):
        return
    name, mapping = value.get("propertyName"), value.get("mapping") or {}
    if name not in instance:
        return  # "required" reports it
    tag = instance[name]
    target = mapping.get(tag) if isinstance(tag, str) else None
    if target is None:
        yield ValidationError(f"{name} {tag!r} is none of {sorted(mapping)}")
        return
    key = (id(instance), target)
    if key in _active:
        return
    _active.add(key)
    try:
        yield from validator.descend(instance, {"$ref": target})
    finally:
        _active.discard(key)


Validator = validators.extend(OAS30Validator, {"discriminator": _discriminator})


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema, None
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node, ref


def _declared(document: dict[str, Any], schema: dict[str, Any], instance: dict[str, Any],
              seen: frozenset[str] = frozenset()) -> dict[str, Any] | None:
    """Every property the schema declares for this object (None: it allows any)."""
    schema, ref = _resolve(document, schema)
    if ref in seen:
        return {}
    seen = seen | {ref} if ref else seen
    if schema.get("additionalProperties") not in (None, False):
        return None
    out: dict[str, Any] = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or ():
        more = _declared(document, part, instance, seen)
        if more is None:
            return None
        out.update(more)
    discriminator = schema.get("discriminator")
    if isinstance(discriminator, dict):
        target = (discriminator.get("mapping") or {}).get(instance.get(discriminator.get("propertyName")))
        if isinstance(target, str) and target not in seen:
            more = _declared(document, {"$ref": target}, instance, seen)
            if more is None:
                return None
            out.update(more)
    return out


def unknown_fields(document: dict[str, Any], schema: dict[str, Any], instance: Any, path: str) -> list[str]:
    schema, _ = _resolve(document, schema)
    if isinstance(instance, list) and isinstance(schema.get("items"), dict):
        return [p for i, item in enumerate(instance) for p in unknown_fields(document, schema["items"], item,
                                                                             f"{path}[{i}]")]
    if not isinstance(instance, dict):
        return []
    declared = _declared(document, schema, instance)
    if not declared:
        return []  # an object the spec leaves open
    problems = []
    for name, value in instance.items():
        if name not in declared:
            problems.append(f"{path}: unknown field {name!r}")
        else:
            problems.extend(unknown_fields(document, declared[name], value, f"{path}.{name}"))
    return problems


def _check(path: Path, schema_name: str, instance: Any, where: str) -> list[str]:
    document = load(path)
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    errors = sorted(Validator(schema).iter_errors(instance), key=lambda e: list(e.absolute_path))
    found = [f"{where}{''.join(f'[{p!r}]' for p in e.absolute_path)}: {e.message[:200]}" for e in errors]
    return found + unknown_fields(document, schema, instance, where)


class Operation:
    def __init__(self, method: str, template: str, spec: dict[str, Any]) -> None:
        self.method, self.template, self.spec = method, template, spec
        self.id: str = spec.get("operationId", "")
        self.pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")

    def body_schema(self) -> str | None:
        """The request body's schema name, when it is JSON."""
        content = (self.spec.get("requestBody") or {}).get("content") or {}
        schema = (content.get("application/json") or {}).get("schema") or {}
        ref = schema.get("$ref")
        return ref.rsplit("/", 1)[1] if isinstance(ref, str) else None


@cache
def _operations() -> tuple[Operation, ...]:
    paths = load(MESSAGING)["paths"]
    return tuple(Operation(method.upper(), template, spec) for template, item in paths.items()
                 for method, spec in item.items() if isinstance(spec, dict) and "operationId" in spec)


def operation(method: str, path: str) -> Operation | None:
    """The operation for a request; literal paths win over templated ones (``/richmenu/list`` over ``/{id}``)."""
    found = [op for op in _operations() if op.method == method and op.pattern.match(path)]
    found.sort(key=lambda op: op.template.count("{"))
    return found[0] if found else None


def validate_request(method: str, path: str, body: Any) -> list[str]:
    """Problems with one request: an unknown operation, or a JSON body that breaks the operation's schema."""
    found = operation(method, path)
    if found is None:
        return [f"{method} {path}: no such operation in messaging-api.yml"]
    schema = found.body_schema()
    if schema is None:
        return [] if body is None else [f"{found.id}: takes no JSON body"]
    return _check(MESSAGING, schema, body, found.id)


def validate_events(body: Any) -> list[str]:
    """Problems with a webhook body as LINE posts it (``CallbackRequest`` in webhook.yml)."""
    return _check(WEBHOOK, "CallbackRequest", body, "CallbackRequest")
