"""SQL pieces of the PostgreSQL store: the query filter, and rows to units and back."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
from psycopg.adapt import Dumper
from psycopg.pq import Format

from ..model import MemoryUnit, Scope
from .base import UnitFilter
from .json_columns import dump_json, load_json

UNIT_COLUMNS = (
    "id, tenant, user_id, agent_id, session_id, kind, text, speaker, role, occurred_at, "
    "recorded_at, valid_from, valid_to, entities, sources, derived_from, ref, metadata, "
    "version, status"
)


def filter_sql(where: UnitFilter, *, include_deleted: bool = False) -> tuple[str, dict[str, Any]]:
    """The WHERE clause (over table alias ``u``) and named parameters selecting ``where``'s units."""
    scope = where.scope
    clauses = ["u.tenant = %(tenant)s", "u.user_id = %(user_id)s"]
    params: dict[str, Any] = {"tenant": scope.tenant, "user_id": scope.user_id}
    if not include_deleted:
        clauses.append("u.status = 'active'")
    if scope.agent_id is not None:
        clauses.append("u.agent_id = %(agent_id)s")
        params["agent_id"] = scope.agent_id
    if scope.session_id is not None:
        clauses.append("u.session_id = %(session_id)s")
        params["session_id"] = scope.session_id
    if where.kinds:
        clauses.append("u.kind = ANY(%(kinds)s)")
        params["kinds"] = list(where.kinds)
    if where.since is not None:
        clauses.append("u.occurred_at >= %(since)s")
        params["since"] = where.since
    if where.until is not None:
        clauses.append("u.occurred_at < %(until)s")
        params["until"] = where.until
    return " AND ".join(clauses), params


class VectorDumper(Dumper):
    """Send numpy float32 vectors in pgvector's binary format (``oid`` is set per database)."""

    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        values = np.asarray(obj, dtype=">f4").ravel()
        return struct.pack(">HH", values.size, 0) + values.tobytes()


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def unit_row(u: MemoryUnit) -> tuple[Any, ...]:
    """The values of ``UNIT_COLUMNS`` for a unit."""
    s = u.scope
    return (
        u.id, s.tenant, s.user_id, s.agent_id, s.session_id, u.kind, u.text, u.speaker, u.role,
        u.occurred_at, u.recorded_at, u.valid_from, u.valid_to, dump_json(u.entities),
        dump_json(u.sources), dump_json(u.derived_from), u.ref, dump_json(u.metadata), u.version, u.status,
    )  # fmt: skip


def unit_from_row(r: Sequence[Any]) -> MemoryUnit:
    """The unit a row of ``UNIT_COLUMNS`` holds; times come back in UTC."""
    recorded = utc(r[10])
    assert recorded is not None
    return MemoryUnit(
        id=r[0],
        scope=Scope(tenant=r[1], user_id=r[2], agent_id=r[3], session_id=r[4]),
        kind=r[5],
        text=r[6],
        speaker=r[7],
        role=r[8],
        occurred_at=utc(r[9]),
        recorded_at=recorded,
        valid_from=utc(r[11]),
        valid_to=utc(r[12]),
        entities=tuple(load_json(r[13])),
        sources=tuple(load_json(r[14])),
        derived_from=tuple(load_json(r[15])),
        ref=r[16],
        metadata=load_json(r[17]),
        version=r[18],
        status=r[19],
    )
