"""A memory unit as a row of the units table, and back, and a revision as an UPDATE of that row:
one codec for every backend.

Both backends keep the same columns in the same order; they differ only in how a time is stored
(SQLite: epoch seconds in a REAL column; PostgreSQL: ``timestamptz``) and in their placeholder, so
each passes its own time conversions and placeholder, and the column order lives in one place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ..model import MemoryUnit, Scope
from .base import Revision
from .json_columns import dump_json, load_json

#: The columns ``unit_row`` fills and ``unit_from_row`` reads, in that order.
UNIT_COLUMNS = (
    "id, tenant, user_id, agent_id, session_id, kind, text, speaker, role, occurred_at, "
    "recorded_at, valid_from, valid_to, entities, sources, derived_from, ref, metadata, "
    "version, status, origin"
)


def unit_row(u: MemoryUnit, stored_time: Callable[[datetime | None], Any]) -> tuple[Any, ...]:
    """The values of ``UNIT_COLUMNS`` for a unit; ``stored_time`` converts each time for the column."""
    s = u.scope
    return (
        u.id, s.tenant, s.user_id, s.agent_id, s.session_id, u.kind, u.text, u.speaker, u.role,
        stored_time(u.occurred_at), stored_time(u.recorded_at), stored_time(u.valid_from),
        stored_time(u.valid_to), dump_json(u.entities), dump_json(u.sources), dump_json(u.derived_from),
        u.ref, dump_json(u.metadata), u.version, u.status, u.origin,
    )  # fmt: skip


def unit_from_row(r: Sequence[Any], read_time: Callable[[Any], datetime | None]) -> MemoryUnit:
    """The unit a row of ``UNIT_COLUMNS`` holds; ``read_time`` turns a stored time into a UTC datetime."""
    recorded = read_time(r[10])
    assert recorded is not None  # the column is NOT NULL on every backend
    return MemoryUnit(
        id=r[0],
        scope=Scope(tenant=r[1], user_id=r[2], agent_id=r[3], session_id=r[4]),
        kind=r[5],
        text=r[6],
        speaker=r[7],
        role=r[8],
        occurred_at=read_time(r[9]),
        recorded_at=recorded,
        valid_from=read_time(r[11]),
        valid_to=read_time(r[12]),
        entities=tuple(load_json(r[13])),
        sources=tuple(load_json(r[14])),
        derived_from=tuple(load_json(r[15])),
        ref=r[16],
        metadata=load_json(r[17]),
        version=r[18],
        status=r[19],
        origin=r[20],
    )


#: The columns a ``Revision`` writes (the text and vector stay), in ``revision_row``'s order.
REVISED_COLUMNS = ("sources", "derived_from", "valid_to", "metadata", "version", "status")


def revision_update(table: str, mark: str) -> str:
    """The UPDATE of one unit that ``revision_row`` fills; ``mark`` is the driver's placeholder."""
    sets = ", ".join(f"{column} = {mark}" for column in REVISED_COLUMNS)
    return f"UPDATE {table} SET {sets} WHERE id = {mark} AND tenant = {mark} AND user_id = {mark}"


def revision_row(r: Revision, stored_time: Callable[[datetime | None], Any]) -> tuple[Any, ...]:
    """The values of ``revision_update``: the ``REVISED_COLUMNS``, then the unit's id, tenant and user."""
    u = r.unit
    return (
        dump_json(u.sources), dump_json(u.derived_from), stored_time(u.valid_to), dump_json(u.metadata),
        u.version, u.status, u.id, u.scope.tenant, u.scope.user_id,
    )  # fmt: skip
