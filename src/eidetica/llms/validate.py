"""Find JSON in a model's reply and check it against the subset of JSON Schema Eidetica uses.

Supported keywords: ``type`` (a name or a list of names), ``enum``, ``const``, ``properties``,
``required``, ``additionalProperties`` (``false`` or a schema), ``items``, ``minItems``,
``maxItems``, ``minLength``, ``maxLength``, ``pattern``, ``minimum``, ``maximum`` and ``anyOf``.
Other keywords are ignored, so a richer schema still validates what this subset can tell.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from .base import JsonSchema

__all__ = ["find_json", "schema_error"]

_FENCE_RE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n?(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()
_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
}


def find_json(text: str) -> Any:
    """Return the first JSON object or array in ``text``: bare, in a code fence, or amid prose.

    Raises ``ValueError`` naming what was wrong when there is none.
    """
    stripped = text.strip()
    if not stripped:
        raise ValueError("the reply was empty")
    candidates = [stripped] + [m.group(1).strip() for m in _FENCE_RE.finditer(text)]
    for candidate in candidates:
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict | list):
            return value
    first_error: str | None = None
    for start in _openers(stripped):
        try:
            value, _ = _DECODER.raw_decode(stripped, start)
        except ValueError as exc:
            first_error = first_error or str(exc)
            continue
        if isinstance(value, dict | list):
            return value
    if first_error is None:
        raise ValueError("the reply contained no JSON object")
    raise ValueError(f"the reply was not valid JSON ({first_error})")


def _openers(text: str, limit: int = 200) -> Iterator[int]:
    # Bounded: each try decodes from there to the end, and a long garbled reply has many brackets.
    found = 0
    for i, ch in enumerate(text):
        if ch in "{[":
            yield i
            found += 1
            if found >= limit:
                return


def schema_error(value: Any, schema: JsonSchema) -> str | None:
    """Return the first way ``value`` breaks ``schema`` (with a ``$.path``), or ``None`` if it fits."""
    return _check(value, schema, "$")


def _type_ok(value: Any, name: str) -> bool:
    if isinstance(value, bool) and name in ("integer", "number"):
        return False
    if name == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(name, ()))


def _check(value: Any, schema: Mapping[str, Any], path: str) -> str | None:
    kind = schema.get("type")
    if kind is not None:
        names = [kind] if isinstance(kind, str) else list(kind)
        if not any(_type_ok(value, n) for n in names):
            return f"{path}: expected {' or '.join(names)}, got {_shown(value)}"
    if "const" in schema and value != schema["const"]:
        return f"{path}: expected {schema['const']!r}, got {_shown(value)}"
    if "enum" in schema and value not in schema["enum"]:
        return f"{path}: {_shown(value)} is not one of {list(schema['enum'])}"
    if "anyOf" in schema and all(_check(value, sub, path) for sub in schema["anyOf"]):
        return f"{path}: {_shown(value)} matches none of the allowed forms"
    if isinstance(value, str):
        return _check_string(value, schema, path)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            return f"{path}: {value} is below the minimum {schema['minimum']}"
        if "maximum" in schema and value > schema["maximum"]:
            return f"{path}: {value} is above the maximum {schema['maximum']}"
    if isinstance(value, list):
        return _check_array(value, schema, path)
    if isinstance(value, dict):
        return _check_object(value, schema, path)
    return None


def _check_string(value: str, schema: Mapping[str, Any], path: str) -> str | None:
    if "minLength" in schema and len(value) < schema["minLength"]:
        return f"{path}: text shorter than {schema['minLength']} characters"
    if "maxLength" in schema and len(value) > schema["maxLength"]:
        return f"{path}: text longer than {schema['maxLength']} characters"
    if "pattern" in schema and re.search(schema["pattern"], value) is None:
        return f"{path}: {_shown(value)} does not match the pattern {schema['pattern']}"
    return None


def _check_array(value: list[Any], schema: Mapping[str, Any], path: str) -> str | None:
    if "minItems" in schema and len(value) < schema["minItems"]:
        return f"{path}: needs at least {schema['minItems']} items, got {len(value)}"
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        return f"{path}: allows at most {schema['maxItems']} items, got {len(value)}"
    items = schema.get("items")
    if isinstance(items, Mapping):
        for i, item in enumerate(value):
            problem = _check(item, items, f"{path}[{i}]")
            if problem:
                return problem
    return None


def _check_object(value: dict[str, Any], schema: Mapping[str, Any], path: str) -> str | None:
    for name in schema.get("required", ()):
        if name not in value:
            return f"{path}: missing the required field {name!r}"
    properties: Mapping[str, Any] = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for name, item in value.items():
        sub = properties.get(name)
        if sub is None:
            if extra is False:
                return f"{path}: unexpected field {name!r} (allowed: {', '.join(properties)})"
            if isinstance(extra, Mapping):
                sub = extra
        if sub is not None:
            problem = _check(item, sub, f"{path}.{name}")
            if problem:
                return problem
    return None


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."
