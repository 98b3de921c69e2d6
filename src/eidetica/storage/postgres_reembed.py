"""The PostgreSQL store's side of re-embedding: new vectors staged apart, then swapped in at once.

``eidetica.reembed`` holds a vector of the new embedder per unit, with the unit version it was
embedded for; ``eidetica.meta`` key ``reembed`` names that embedder. Its ``vector`` column has no
fixed dimension, so it takes any embedder's. Searches never read it: they keep using
``units.embedding`` and the embedder recorded in ``meta`` until ``swap``, in one transaction,
retypes ``embedding`` to the new dimension when it differs, copies the staged vectors in and
records the new embedder. A staged vector whose unit changed since (an update) no longer counts;
a trigger erases a unit's staged vector with the unit (forget, rebuild).

Re-embedding covers every tenant, and the tables force row-level security even on their owner.
So it runs on the owner's own connection (the app role has no access to the staging table at
all), reading one tenant at a time while it stages, and sees every tenant only where it must:
counting at the start, inside a savepoint that turns ``FORCE ROW LEVEL SECURITY`` off and is
rolled back; and in the swap, which takes the units table's exclusive lock anyway to retype
``embedding`` and turns the forcing back on before it commits. Other connections never see the
forcing off: the lock keeps them out until the transaction ends.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg
from psycopg import errors as pgerrors

from ..embedders.base import Vectors
from ..errors import StoreError
from ..model import MemoryUnit
from .base import ReembedState
from .postgres_schema import TENANT_SETTING
from .postgres_sql import utc
from .unit_rows import UNIT_COLUMNS, unit_from_row

Conn = psycopg.Connection[Any]

_RECORD = "reembed"
#: Whether a unit row ``u`` lacks a vector staged for its current version.
_UNSTAGED = (
    "u.status <> 'deleted' AND NOT EXISTS (SELECT 1 FROM eidetica.reembed s "
    "WHERE s.unit_id = u.id AND s.staged_version = u.version)"
)


def begin(conn: Conn, name: str, dim: int) -> ReembedState:
    """Record that vectors for ``name`` are staged, discarding any staged for another embedder."""
    wanted = {"name": name, "dim": dim}
    conn.execute("LOCK TABLE eidetica.meta IN EXCLUSIVE MODE")
    if _staging(conn) != wanted:
        conn.execute("TRUNCATE eidetica.reembed")
        _put_meta(conn, _RECORD, wanted)
    with _every_tenant_briefly(conn):
        row = conn.execute(
            f"SELECT count(*), count(*) FILTER (WHERE {_UNSTAGED}) FROM eidetica.units u "
            "WHERE u.status <> 'deleted'"
        ).fetchone()
        tenants = conn.execute(
            "WITH RECURSIVE t(id) AS ("
            " SELECT min(tenant) FROM eidetica.units"
            " UNION ALL SELECT (SELECT min(tenant) FROM eidetica.units WHERE tenant > t.id)"
            " FROM t WHERE t.id IS NOT NULL"
            ") SELECT id FROM t WHERE id IS NOT NULL"
        ).fetchall()
    assert row is not None
    total, unstaged = int(row[0]), int(row[1])
    return ReembedState(name, dim, tuple(str(t[0]) for t in tenants), total - unstaged, total)


def pending(conn: Conn, tenant: str, limit: int, after: str | None) -> list[MemoryUnit]:
    """Up to ``limit`` of the tenant's active and archived units without a vector staged for their version,
    by ``seq``, after unit ``after``'s (row-level security admits that tenant only)."""
    conn.execute(f"SELECT set_config('{TENANT_SETTING}', %s, true)", (tenant,))
    rows = conn.execute(
        f"SELECT {UNIT_COLUMNS} FROM eidetica.units u WHERE u.tenant = %(tenant)s AND {_UNSTAGED} "
        "AND u.seq > coalesce((SELECT seq FROM eidetica.units WHERE id = %(after)s "
        "AND tenant = %(tenant)s), 0) ORDER BY u.seq LIMIT %(limit)s",
        {"tenant": tenant, "after": after, "limit": limit},
    ).fetchall()
    return [unit_from_row(r, utc) for r in rows]


def stage(conn: Conn, units: Sequence[MemoryUnit], vectors: Vectors) -> None:
    """Stage each unit's vector for its version (replacing one staged for an older version)."""
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO eidetica.reembed VALUES (%s, %s, %s) ON CONFLICT (unit_id) DO UPDATE "
            "SET staged_version = excluded.staged_version, embedding = excluded.embedding",
            [
                (u.id, u.version, np.asarray(v, dtype=np.float32).ravel())
                for u, v in zip(units, vectors, strict=True)
            ],
        )


def swap(conn: Conn, name: str, dim: int, embed: Callable[[Sequence[MemoryUnit]], Vectors]) -> int:
    """Embed what is still unstaged, then make the staged vectors and ``name`` the store's (inside
    one transaction); return how many units were embedded here."""
    conn.execute("LOCK TABLE eidetica.meta IN EXCLUSIVE MODE")
    staged = _staging(conn)
    if staged != {"name": name, "dim": dim}:
        what = "nothing is staged" if staged is None else f"the staged vectors are {staged['name']!r}'s"
        raise StoreError(
            f"cannot swap in embedder {name!r}: {what} (another re-embedding replaced or finished "
            "the staging meanwhile); run the re-embedding again"
        )
    # Takes the table's exclusive lock: from here until the commit, writers and readers wait.
    conn.execute("ALTER TABLE eidetica.units NO FORCE ROW LEVEL SECURITY")
    rows = conn.execute(f"SELECT {UNIT_COLUMNS} FROM eidetica.units u WHERE {_UNSTAGED} ORDER BY u.seq")
    left = [unit_from_row(r, utc) for r in rows.fetchall()]
    if left:
        stage(conn, left, embed(left))
    typed = conn.execute(
        "SELECT atttypmod FROM pg_attribute WHERE attrelid = 'eidetica.units'::regclass "
        "AND attname = 'embedding'"
    ).fetchone()
    if typed is None or typed[0] != dim:
        conn.execute(f"ALTER TABLE eidetica.units ALTER COLUMN embedding TYPE vector({int(dim)}) USING NULL")
    else:
        conn.execute(
            "UPDATE eidetica.units SET embedding = NULL WHERE status = 'deleted' AND embedding IS NOT NULL"
        )
    conn.execute(
        "UPDATE eidetica.units u SET embedding = s.embedding FROM eidetica.reembed s "
        "WHERE s.unit_id = u.id AND u.status <> 'deleted'"
    )
    conn.execute("ALTER TABLE eidetica.units FORCE ROW LEVEL SECURITY")
    _put_meta(conn, "embedder", {"name": name, "dim": dim})
    conn.execute("DELETE FROM eidetica.meta WHERE key = %s", (_RECORD,))
    conn.execute("TRUNCATE eidetica.reembed")
    return len(left)


def discard(conn: Conn) -> None:
    """Drop the staged vectors and their record."""
    conn.execute("LOCK TABLE eidetica.meta IN EXCLUSIVE MODE")
    conn.execute("TRUNCATE eidetica.reembed")
    conn.execute("DELETE FROM eidetica.meta WHERE key = %s", (_RECORD,))


def owner_error(exc: psycopg.Error, what: str, lock_timeout_s: float) -> StoreError | None:
    """The StoreError for what re-embedding alone meets (None: the store's usual translation)."""
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, pgerrors.InsufficientPrivilege):
        return StoreError(
            f"{what}: re-embedding retypes the vector column and reads every tenant's units, which "
            f"only the owner of the eidetica tables may do ({detail}); run it with the URL of the user "
            "that created them"
        )
    if isinstance(exc, pgerrors.LockNotAvailable):
        return StoreError(
            f"{what}: another transaction held the units table for over {lock_timeout_s:g} s; nothing "
            "changed, and what is staged is kept: run the re-embedding again"
        )
    return None


def _put_meta(conn: Conn, key: str, value: dict[str, Any]) -> None:
    conn.execute(
        "INSERT INTO eidetica.meta VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (key, json.dumps(value)),
    )


def _staging(conn: Conn) -> dict[str, Any] | None:
    row = conn.execute("SELECT value FROM eidetica.meta WHERE key = %s", (_RECORD,)).fetchone()
    return None if row is None else dict(json.loads(row[0]))


@contextmanager
def _every_tenant_briefly(conn: Conn) -> Iterator[None]:
    """Read every tenant's rows as their owner inside a savepoint that is rolled back after."""
    conn.execute("SAVEPOINT every_tenant")
    try:
        conn.execute("ALTER TABLE eidetica.units NO FORCE ROW LEVEL SECURITY")
        yield
    finally:
        conn.execute("ROLLBACK TO SAVEPOINT every_tenant")
