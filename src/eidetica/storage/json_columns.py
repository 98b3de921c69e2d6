"""JSON text columns (entities, sources, metadata), encoded the same way by every backend."""

from __future__ import annotations

import json
from typing import Any


def dump_json(value: tuple[str, ...] | dict[str, Any]) -> str:
    """Encode a JSON text column; empty values, most of them, skip the encoder."""
    if not value:
        return "{}" if isinstance(value, dict) else "[]"
    return json.dumps(list(value) if isinstance(value, tuple) else value)


def load_json(text: str) -> Any:
    """Decode a JSON text column; the empty list and object, by far the commonest, skip the parser."""
    if text == "[]":
        return []
    if text == "{}":
        return {}
    return json.loads(text)
