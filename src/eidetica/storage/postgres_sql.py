"""SQL pieces of the PostgreSQL store: the query filter, vectors, and time conversions."""

from __future__ import annotations

import struct
from datetime import UTC, datetime
from typing import Any

import numpy as np
from psycopg.adapt import Dumper
from psycopg.pq import Format

from .base import UnitFilter, lineage_pattern, status_sql
from .metadata_sql import postgres_clauses, postgres_holds


def filter_sql(where: UnitFilter) -> tuple[str, dict[str, Any]]:
    """The WHERE clause (over table alias ``u``) and named parameters selecting ``where``'s units."""
    scope = where.scope
    clauses = ["u.tenant = %(tenant)s", "u.user_id = %(user_id)s"]
    params: dict[str, Any] = {"tenant": scope.tenant, "user_id": scope.user_id}
    if status := status_sql("u.status", where):
        clauses.append(status)
    bounds = (
        ("agent_id", "u.agent_id = %(agent_id)s", scope.agent_id),
        ("session_id", "u.session_id = %(session_id)s", scope.session_id),
        ("since", "u.occurred_at >= %(since)s", where.since),
        ("until", "u.occurred_at < %(until)s", where.until),
    )
    for name, test, value in bounds:  # each applies when it has a value
        if value is not None:
            clauses.append(test)
            params[name] = value
    if where.kinds:
        clauses.append("u.kind = ANY(%(kinds)s)")
        params["kinds"] = list(where.kinds)
    if where.as_of is not None:
        clauses.append(
            "coalesce(u.valid_from, u.occurred_at, u.recorded_at) <= %(as_of)s "
            "AND (u.valid_to IS NULL OR u.valid_to > %(as_of)s)"
        )
        params["as_of"] = where.as_of
    if where.derived_from is not None:
        clauses.append("u.derived_from LIKE %(lineage)s ESCAPE '\\'")
        params["lineage"] = lineage_pattern(where.derived_from)
    if where.roles:
        clauses.append("u.role = ANY(%(roles)s)")
        params["roles"] = list(where.roles)
    if where.metadata:
        tagged, tags = postgres_clauses("u.metadata", where.metadata)
        clauses.extend(tagged)
        params.update(tags)
    if where.flagged is not None:
        held, key = postgres_holds("u.metadata", where.flagged)
        clauses.append(held)
        params.update(key)
    if where.without_flag is not None:
        held, key = postgres_holds("u.metadata", where.without_flag, name="without_flag")
        clauses.append(f"NOT ({held})")
        params.update(key)
    return " AND ".join(clauses), params


class VectorDumper(Dumper):
    """Send numpy float32 vectors in pgvector's binary format (``oid`` is set per database)."""

    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        values = np.asarray(obj, dtype=">f4").ravel()
        return struct.pack(">HH", values.size, 0) + values.tobytes()


def utc(value: datetime | None) -> datetime | None:
    """A ``timestamptz`` as read back, in UTC (the session's zone may be another)."""
    return None if value is None else value.astimezone(UTC)


def as_is(value: datetime | None) -> datetime | None:
    """A time as ``timestamptz`` takes it: psycopg adapts aware datetimes itself."""
    return value
