"""The JSON form of Eidetica's data and errors, shared by the REST server, its client and MCP.

One encoder for every dataclass in ``model`` (times as ISO 8601 with offset, tuples as lists) and
one decoder per type, so a ``Client`` returns exactly what ``Memory`` returns.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from . import errors
from .model import (
    AddResult,
    Answer,
    Context,
    Entity,
    EntityCard,
    HistoryEntry,
    Hit,
    Link,
    MaintainReport,
    MemoryUnit,
    Profile,
    ProfileLine,
    Relation,
    Scope,
    Stats,
    Summary,
)

JSON = dict[str, Any]


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


def _time(value: str | None) -> datetime | None:
    """An optional time: None stays None."""
    return None if value is None else datetime.fromisoformat(value)


def unit_from_wire(data: JSON) -> MemoryUnit:
    return MemoryUnit(
        id=data["id"],
        kind=data["kind"],
        text=data["text"],
        scope=Scope(**data["scope"]),
        recorded_at=datetime.fromisoformat(data["recorded_at"]),
        speaker=data.get("speaker"),
        role=data.get("role"),
        occurred_at=_time(data.get("occurred_at")),
        valid_from=_time(data.get("valid_from")),
        valid_to=_time(data.get("valid_to")),
        entities=tuple(data.get("entities", ())),
        sources=tuple(data.get("sources", ())),
        derived_from=tuple(data.get("derived_from", ())),
        ref=data.get("ref"),
        metadata=dict(data.get("metadata") or {}),
        version=data.get("version", 1),
        status=data.get("status", "active"),
        origin=data.get("origin"),
    )


def hit_from_wire(data: JSON) -> Hit:
    return Hit(unit_from_wire(data["unit"]), data["score"], dict(data["scores"]), data.get("confident", True))


def context_from_wire(data: JSON) -> Context:
    return Context(
        text=data["text"],
        hits=[hit_from_wire(h) for h in data["hits"]],
        tokens=data["tokens"],
        budget_tokens=data["budget_tokens"],
        abstained=data.get("abstained", False),
        reason=data.get("reason"),
    )


def add_result_from_wire(data: JSON) -> AddResult:
    """Read the whole form of an add's result (``to_wire(result)``), not its summary."""
    if "turns" not in data and "turn_ids" in data:
        raise ValueError("this is an add's summary (ids and counts): send return_units to get the units")
    return AddResult(
        turns=[unit_from_wire(u) for u in data["turns"]],
        derived=[unit_from_wire(u) for u in data["derived"]],
        skipped_refs=list(data.get("skipped_refs", ())),
        revised=[unit_from_wire(u) for u in data.get("revised", ())],
        warnings=list(data.get("warnings", ())),
    )


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


def answer_from_wire(data: JSON) -> Answer:
    return Answer(
        text=data["text"],
        unit_ids=tuple(data.get("unit_ids", ())),
        sources=tuple(data.get("sources", ())),
        abstained=data.get("abstained", False),
        prompt_tokens=data.get("prompt_tokens", 0),
        completion_tokens=data.get("completion_tokens", 0),
        prompt_version=data.get("prompt_version", ""),
        structured=data.get("structured", True),
    )


def history_from_wire(data: JSON) -> HistoryEntry:
    return HistoryEntry(
        unit_id=data["unit_id"],
        version=data["version"],
        op=data["op"],
        text=data["text"],
        at=datetime.fromisoformat(data["at"]),
        metadata=dict(data.get("metadata") or {}),
    )


def stats_from_wire(data: JSON) -> Stats:
    return Stats(
        units_by_kind=dict(data["units_by_kind"]),
        deleted=data["deleted"],
        users=data["users"],
        sessions=data["sessions"],
        bytes_on_disk=data.get("bytes_on_disk"),
        unembedded=data.get("unembedded", 0),
        archived=data.get("archived", 0),
    )


def maintain_report_from_wire(data: JSON) -> MaintainReport:
    return MaintainReport(
        users=data["users"],
        examined=data["examined"],
        archived=dict(data.get("archived") or {}),
        dry_run=data.get("dry_run", False),
        sample=tuple(data.get("sample", ())),
    )


def entity_from_wire(data: JSON) -> Entity:
    return Entity(
        key=data["key"],
        name=data["name"],
        kind=data["kind"],
        mentions=data["mentions"],
        first_mentioned=datetime.fromisoformat(data["first_mentioned"]),
        last_mentioned=datetime.fromisoformat(data["last_mentioned"]),
        aliases=tuple(data.get("aliases", ())),
    )


def relation_from_wire(data: JSON) -> Relation:
    return Relation(
        subject=data["subject"],
        relation=data["relation"],
        object=data["object"],
        unit_id=data["unit_id"],
        sources=tuple(data.get("sources", ())),
        valid_from=_time(data.get("valid_from")),
        valid_to=_time(data.get("valid_to")),
    )


def entity_card_from_wire(data: JSON) -> EntityCard:
    return EntityCard(
        entity=entity_from_wire(data["entity"]),
        units=[unit_from_wire(u) for u in data["units"]],
        relations=[relation_from_wire(r) for r in data["relations"]],
        related=[str(name) for name in data["related"]],
    )


def link_from_wire(data: JSON) -> Link:
    return Link(kind=data["kind"], unit=unit_from_wire(data["unit"]), via=data.get("via"))


def profile_line_from_wire(data: JSON) -> ProfileLine:
    return ProfileLine(
        section=data["section"],
        text=data["text"],
        unit_id=data["unit_id"],
        sources=tuple(data.get("sources", ())),
        said_at=_time(data.get("said_at")),
    )


def profile_from_wire(data: JSON) -> Profile:
    return Profile(
        entity=entity_from_wire(data["entity"]),
        lines=[profile_line_from_wire(line) for line in data["lines"]],
        tokens=data["tokens"],
        summary=data.get("summary"),
        written_by=data.get("written_by", "rules"),
    )


def summary_from_wire(data: JSON) -> Summary:
    return Summary(
        session_id=data["session_id"],
        text=data["text"],
        unit_ids=tuple(data["unit_ids"]),
        sources=tuple(data.get("sources", ())),
        tokens=data["tokens"],
        budget_tokens=data["budget_tokens"],
        written_by=data.get("written_by", "rules"),
    )


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
