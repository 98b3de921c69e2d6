"""A metadata filter (``eidetica.metadata``) as SQL, for each backend.

Both backends keep metadata as JSON text and compare as ``metadata.matches`` does: the key is
present and its value has the filter value's JSON type and equals it (``1`` and ``1.0`` alike;
``true`` never equals ``1``).
"""

from __future__ import annotations

import json
from typing import Any

from ..metadata import MetadataFilter, json_type

#: SQLite's ``json_each`` types for each JSON type a filter value can have.
_SQLITE_TYPES = {
    "null": "type = 'null'",
    "boolean": "type = ?",
    "number": "type IN ('integer', 'real') AND atom = ?",
    "string": "type = 'text' AND atom = ?",
}


def sqlite_clauses(column: str, wanted: MetadataFilter) -> tuple[list[str], list[Any]]:
    """One ``EXISTS`` per key over ``json_each(column)``: no JSON path to quote, so any key works."""
    clauses: list[str] = []
    params: list[Any] = []
    for key, value in wanted:
        kind = json_type(value)
        clauses.append(f"EXISTS (SELECT 1 FROM json_each({column}) WHERE key = ? AND {_SQLITE_TYPES[kind]})")
        params.append(key)
        if kind == "boolean":
            params.append("true" if value else "false")
        elif kind != "null":
            params.append(value)
    return clauses, params


def sqlite_holds(column: str, key: str) -> tuple[str, list[Any]]:
    """Whether ``column`` holds ``key`` at its top level, whatever the value."""
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE key = ?)", [key]


def postgres_holds(column: str, key: str, *, name: str = "flag_key") -> tuple[str, dict[str, Any]]:
    """Whether ``column`` holds ``key`` at its top level, whatever the value (``json``, as above);
    ``name`` is the query parameter that carries the key."""
    return f"({column}::json -> %({name})s) IS NOT NULL", {name: key}


def postgres_clauses(column: str, wanted: MetadataFilter) -> tuple[list[str], dict[str, Any]]:
    """One condition per key over ``column::json`` (``json``, not ``jsonb``: the text may hold
    ``\\u0000``, which ``jsonb`` refuses). A string is compared as the JSON text both sides encode
    alike, so nothing is unescaped."""
    clauses: list[str] = []
    params: dict[str, Any] = {}
    for i, (key, value) in enumerate(wanted):
        kind = json_type(value)
        item = f"({column}::json -> %(meta_key_{i})s)"
        params[f"meta_key_{i}"] = key
        condition = f"json_typeof({item}) = '{kind}'"
        if kind == "string":
            condition += f" AND {item}::text = %(meta_value_{i})s"
            params[f"meta_value_{i}"] = json.dumps(value)
        elif kind == "number":
            condition += f" AND ({item}::text)::numeric = %(meta_value_{i})s::numeric"
            params[f"meta_value_{i}"] = repr(value)
        elif kind == "boolean":
            condition += f" AND {item}::text = %(meta_value_{i})s"
            params[f"meta_value_{i}"] = "true" if value else "false"
        clauses.append(condition)
    return clauses, params
