"""Metadata: the caller's keys on a unit, the keys Eidetica keeps there itself, and filters on them.

A caller tags what it adds (``add(..., metadata={"project": "apollo"})``, or per message) and
narrows reads by the tags (``search(..., metadata={"project": "apollo"})``): every key of the
filter must be on the unit with an equal value. This is the convention Mem0 users know.

Eidetica keeps its own bookkeeping in the same JSON object (which statement superseded which, how
often a fact was restated, a quarantine flag). Those keys are reserved: a caller cannot set or
change them, an ``update`` keeps them, and a fact derived from a turn inherits the turn's
caller keys only. A fact said again later is one unit: it keeps the tags of the turn that first
said it, and the later turn, with its own tags, is found by them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from .errors import UsageError
from .limits import check_metadata, shown

#: A unit's recalls (``lifecycle.recalls``): ``{"times": n, "last": ISO time}``.
RECALLED = "recalled"
#: An archive (``lifecycle.decay``): ``{"at": ISO time, "retention": r}``, kept after a restore.
ARCHIVED = "archived"
#: How many times a unit was said (``ingest.reconcile``): absent for once, one more each time again.
MENTIONS = "mentions"
#: The last time a unit was said again (``ingest.reconcile``), an ISO time.
MENTIONED = "last_mentioned"

#: On a unit as a context shows it (never stored): the newer statement that probably replaced it
#: (``retrieve.overtaken``).
OVERTAKEN = "overtaken_by"

#: The keys Eidetica writes itself (``ingest.reconcile``, ``lifecycle.lineage``, ``guard.quarantine``,
#: ``lifecycle.decay``).
SYSTEM_KEYS = frozenset(
    {
        "supersedes", "superseded_by", "deleted_with", "quarantine", "review",
        MENTIONS, RECALLED, ARCHIVED, MENTIONED, OVERTAKEN,
    }
)  # fmt: skip


def times_said(metadata: Mapping[str, Any]) -> int:
    """How many times a unit was said: once, and once more for each mention (``MENTIONS``)."""
    return max(int(metadata.get(MENTIONS, 1)), 1)


#: A filter value: compared with the stored value as JSON compares (a string equals the same
#: string; ``1`` equals ``1.0``; ``true`` equals neither ``1`` nor ``"true"``).
FilterValue = str | int | float | bool | None
MetadataFilter = tuple[tuple[str, FilterValue], ...]

#: Keys one filter may name: a filter is a handful of tags, not a query language.
MAX_FILTER_KEYS = 16
MAX_KEY_CHARS = 256


def callers_keys(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """``metadata`` without the keys Eidetica keeps itself: what a derived unit inherits."""
    return {k: v for k, v in metadata.items() if k not in SYSTEM_KEYS}


def check_callers(field: str, metadata: Mapping[str, Any], current: Mapping[str, Any] | None = None) -> None:
    """Refuse a reserved key a caller sets (``add``) or changes (``update``; unchanged, as when a
    unit's whole metadata is sent back, it passes)."""
    current = current or {}
    for key in sorted(SYSTEM_KEYS & metadata.keys()):
        if key not in current or current[key] != metadata[key]:
            raise UsageError(
                f"{field} key {key!r} is kept by eidetica itself and cannot be set; use another name "
                f"(reserved: {', '.join(sorted(SYSTEM_KEYS))})"
            )


def check_tags(field: str, value: object) -> dict[str, Any]:
    """A copy of a caller's tags (``{}`` for None): a JSON object every reply can carry
    (``limits.check_metadata``) without a key Eidetica keeps itself."""
    tags = check_metadata(field, value)
    check_callers(field, tags)
    return tags


def updated(given: Mapping[str, Any], current: Mapping[str, Any]) -> dict[str, Any]:
    """A unit's metadata after ``update(metadata=given)``: the caller's keys replaced, Eidetica's
    kept (a superseded fact stays superseded whatever its tags say)."""
    check_callers("metadata", given, current)
    return {**callers_keys(given), **{k: v for k, v in current.items() if k in SYSTEM_KEYS}}


def from_json(field: str, text: str | None) -> dict[str, Any] | None:
    """A JSON object given as text (a query string, a command-line option); None stays None."""
    if text is None:
        return None
    example = 'write an object, like \'{"project": "apollo"}\''
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{field} is not JSON ({exc.msg}, column {exc.colno}); {example}") from None
    if not isinstance(value, dict):
        raise UsageError(f"{field} {shown(text)} is not a JSON object; {example}")
    return value


def check_filter(field: str, value: object) -> MetadataFilter | None:
    """``value`` as a filter (None for no filter or an empty one): an object of at most
    ``MAX_FILTER_KEYS`` string keys whose values are strings, numbers, booleans or null."""
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise UsageError(f"{field} must be an object of key/value pairs, got {shown(value)}")
    if len(value) > MAX_FILTER_KEYS:
        raise UsageError(f"{field} may name at most {MAX_FILTER_KEYS} keys, got {len(value)}")
    pairs: list[tuple[str, FilterValue]] = []
    for key, wanted in value.items():
        if not isinstance(key, str) or not key or len(key) > MAX_KEY_CHARS:
            raise UsageError(f"{field} keys must be non-empty strings of at most {MAX_KEY_CHARS} characters")
        if wanted is not None and not isinstance(wanted, str | int | float | bool):
            raise UsageError(
                f"{field}[{key!r}] must be a string, number, boolean or null (exact match), "
                f"got {shown(wanted)}"
            )
        if isinstance(wanted, float) and not math.isfinite(wanted):
            raise UsageError(f"{field}[{key!r}] must be a finite number, got {wanted}")
        if isinstance(wanted, str) and "\x00" in wanted:
            # SQLite's JSON functions end a string at NUL: no backend could match it alike.
            raise UsageError(f"{field}[{key!r}] must not contain NUL characters")
        if isinstance(wanted, int) and not -(2**63) <= wanted < 2**63:
            raise UsageError(f"{field}[{key!r}] must fit in 64 bits, got {shown(wanted)}")
        pairs.append((key, wanted))
    return tuple(sorted(pairs, key=lambda pair: pair[0])) or None


def matches(metadata: Mapping[str, Any], wanted: MetadataFilter | None) -> bool:
    """Whether a unit's metadata holds every key of the filter with an equal JSON value: the rule
    each backend's SQL follows too."""
    return all(key in metadata and same_json(metadata[key], value) for key, value in wanted or ())


def json_type(value: object) -> str:
    """The JSON type of a filter or stored value: string, number, boolean, null, or other."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return "string" if isinstance(value, str) else "other"


def same_json(stored: object, wanted: FilterValue) -> bool:
    return json_type(stored) == json_type(wanted) and stored == wanted
