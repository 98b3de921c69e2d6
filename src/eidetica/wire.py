"""The JSON form of Eidetica's data and errors, shared by the REST server, its client and MCP.

One encoder for every dataclass in ``model`` (times as ISO 8601 with offset, tuples as lists) and
one decoder that reads any of them back by its type hints, so a ``Client`` returns exactly what
``Memory`` returns.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from . import errors
from .model import AddResult

JSON = dict[str, Any]
_T = TypeVar("_T")


def to_wire(value: Any) -> Any:
    """Turn a model dataclass (or a list/dict of them) into JSON-ready data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_wire(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_wire(item) for key, item in value.items()}
    return value


def from_wire(cls: type[_T], data: JSON) -> _T:
    """Read back what ``to_wire`` wrote for the model dataclass ``cls``, following its type hints.

    One reader for every type, so a field added to ``model`` travels without a decoder to keep in
    step. A key left out takes the field's default (an older server's answer still reads); one
    that ``cls`` lacks is ignored; a required one missing is a ``TypeError``.
    """
    if not isinstance(data, dict):
        raise TypeError(f"{cls.__name__} must be a JSON object, got {type(data).__name__}")
    hints = _hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    return cls(**{f.name: _read(hints[f.name], data[f.name]) for f in fields if f.name in data})


def reader(cls: type[_T]) -> Callable[[JSON], _T]:
    """``from_wire`` for ``cls``, to hand to whatever decodes a reply."""
    return functools.partial(from_wire, cls)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    """``cls``'s field types, resolved once: ``model`` writes them as strings."""
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _read(hint: Any, value: Any) -> Any:
    """One value of type ``hint``: a time, a nested dataclass, a list/tuple/dict, or as it is."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        (hint,) = (arg for arg in args if arg is not type(None))
        return _read(hint, value)
    if hint is datetime:
        return datetime.fromisoformat(value)
    if dataclasses.is_dataclass(hint):
        return from_wire(hint, value)  # type: ignore[arg-type]
    if origin in (list, tuple):
        return origin(_read(args[0], item) for item in value or ())
    if origin is dict:
        return dict(value or {})
    return value


def add_result_from_wire(data: JSON) -> AddResult:
    """Read the whole form of an add's result (``to_wire(result)``), not its summary."""
    if "turns" not in data and "turn_ids" in data:
        raise ValueError("this is an add's summary (ids and counts): send return_units to get the units")
    return from_wire(AddResult, data)


def add_summary_to_wire(result: AddResult) -> JSON:
    """What an add stored, as ids and counts: the REST API's default answer to an add.

    Its size follows the number of units, not their texts: echoing every turn back would turn
    an 8 MB request into a reply many times larger. ``to_wire(result)`` is the whole form, which
    ``add_result_from_wire`` reads back (a ``Client`` asks for it with ``return_units``).
    """
    return {
        "turn_ids": [unit.id for unit in result.turns],
        "derived_ids": [unit.id for unit in result.derived],
        "revised_ids": [unit.id for unit in result.revised],
        "skipped_refs": list(result.skipped_refs),
        "warnings": list(result.warnings),
        "counts": {
            "turns": len(result.turns),
            "derived": len(result.derived),
            "revised": len(result.revised),
            "skipped": len(result.skipped_refs),
        },
    }


def error_to_wire(exc: errors.EideticaError) -> JSON:
    """``{"error": {"type": ..., "message": ...}}``; ``type`` is the class name in ``errors``."""
    body: JSON = {"type": type(exc).__name__, "message": str(exc)}
    line = getattr(exc, "line", None)
    if line is not None:
        body["line"] = line
    return {"error": body}


def error_from_wire(payload: Any, fallback: str) -> errors.EideticaError:
    """Rebuild the server's error as the same class.

    A payload that is not an Eidetica error (a proxy's HTML page, say) becomes a ``ServerError``
    with the ``fallback`` text.
    """
    body = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(body, dict):
        return errors.ServerError(fallback)
    message = str(body.get("message", fallback))
    cls = getattr(errors, str(body.get("type", "")), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.EideticaError)):
        return errors.EideticaError(message)
    if cls is errors.InputFormatError:
        return errors.InputFormatError(message)
    return cls(message)
