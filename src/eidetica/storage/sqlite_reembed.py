"""The SQLite store's side of re-embedding: new vectors staged apart, then swapped in at once.

``reembed_vectors`` holds a vector of the new embedder per unit row, with the unit version it was
embedded for; ``meta`` key ``reembed`` names that embedder. Searches never read them: they keep
using ``vectors`` and the embedder in ``meta`` key ``embedder`` until ``swap`` replaces both in one
transaction. A staged vector whose unit changed since (an update) no longer counts, and a trigger
erases a unit's staged vector with the unit (forget, rebuild), so a forgotten user leaves nothing
behind in the staging either.

Another trigger refuses a vector whose size is not that of the recorded embedder's: after a swap to
an embedder of another dimension, a process still holding the old embedder cannot mix its vectors
into the new ones (which would break dense search for their user); its writes fail and say why.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ..embedders.base import Vectors
from ..errors import StoreError
from ..model import MemoryUnit
from . import vector_codec
from .base import REEMBEDDED, ReembedState
from .unit_rows import UNIT_COLUMNS, unit_from_row

_RECORD = "reembed"
#: Whether a unit row ``u`` lacks a vector staged for its current version.
_UNSTAGED = (
    "u.status <> 'deleted' AND NOT EXISTS (SELECT 1 FROM reembed_vectors s "
    "WHERE s.rid = u.rid AND s.staged_version = u.version)"
)
_WRONG_SIZE = f"this vector is not of the dimension of the store's embedder: {REEMBEDDED}"


def create_staging(conn: sqlite3.Connection) -> None:
    """The migration: the staging table and the two triggers described above."""
    conn.execute(
        "CREATE TABLE reembed_vectors (rid INTEGER PRIMARY KEY, staged_version INTEGER NOT NULL, "
        "vector BLOB NOT NULL)"
    )
    conn.execute(
        "CREATE TRIGGER reembed_erased AFTER DELETE ON units "
        "BEGIN DELETE FROM reembed_vectors WHERE rid = OLD.rid; END"
    )
    size_check(conn)


def size_check(conn: sqlite3.Connection) -> None:
    """(Re)create the trigger that refuses a vector not of the recorded embedder's size, as
    ``vector_codec`` stores it now."""
    size = vector_codec.stored_size_sql("json_extract(value, '$.dim')")
    conn.execute("DROP TRIGGER IF EXISTS vectors_of_the_embedder")
    conn.execute(
        "CREATE TRIGGER vectors_of_the_embedder BEFORE INSERT ON vectors "
        f"WHEN length(NEW.vector) <> coalesce((SELECT {size} FROM meta WHERE key = 'embedder'), "
        f"length(NEW.vector)) BEGIN SELECT RAISE(ABORT, '{_quoted(_WRONG_SIZE)}'); END"
    )


def begin(conn: sqlite3.Connection, name: str, dim: int) -> ReembedState:
    """Record that vectors for ``name`` are staged, discarding any staged for another embedder."""
    wanted = {"name": name, "dim": dim}
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_RECORD,)).fetchone()
    if row is None or json.loads(row[0]) != wanted:
        conn.execute("DELETE FROM reembed_vectors")
        conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (_RECORD, json.dumps(wanted)))
    [(total, unstaged)] = conn.execute(
        f"SELECT count(*), coalesce(sum({_UNSTAGED}), 0) FROM units u WHERE u.status <> 'deleted'"
    ).fetchall()
    return ReembedState(name, dim, tuple(_tenants(conn)), int(total) - int(unstaged), int(total))


def pending_sql(tenant: str, limit: int, after: str | None) -> tuple[str, tuple[Any, ...]]:
    """The query for ``Store.reembed_pending``: by row id, after the row of unit ``after``."""
    sql = (
        f"SELECT {UNIT_COLUMNS} FROM units u WHERE u.tenant = ? AND {_UNSTAGED} "
        "AND u.rid > coalesce((SELECT rid FROM units WHERE id = ?), 0) ORDER BY u.rid LIMIT ?"
    )
    return sql, (tenant, after, limit)


def stage(conn: sqlite3.Connection, units: Sequence[MemoryUnit], vectors: Vectors) -> None:
    """Stage each unit's vector for its version (replacing one staged for an older version)."""
    blobs = vector_codec.encode_all(list(vectors))
    conn.executemany(
        "INSERT OR REPLACE INTO reembed_vectors (rid, staged_version, vector) "
        "SELECT rid, ?, ? FROM units WHERE id = ?",
        [(u.version, blob, u.id) for u, blob in zip(units, blobs, strict=True)],
    )


def swap(
    conn: sqlite3.Connection,
    name: str,
    dim: int,
    embed: Callable[[Sequence[MemoryUnit]], Vectors],
    read_time: Callable[[Any], datetime | None],
) -> int:
    """Embed what is still unstaged, then make the staged vectors and ``name`` the store's (inside
    one write transaction); return how many units were embedded here."""
    _check_staging(conn, name, dim)
    rows = conn.execute(f"SELECT {UNIT_COLUMNS} FROM units u WHERE {_UNSTAGED} ORDER BY u.rid").fetchall()
    left = [unit_from_row(r, read_time) for r in rows]
    if left:
        stage(conn, left, embed(left))
    # The embedder first: the size trigger checks every vector inserted below against it.
    conn.execute(
        "INSERT INTO meta VALUES ('embedder', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (json.dumps({"name": name, "dim": dim}),),
    )
    conn.execute("DELETE FROM meta WHERE key = ?", (_RECORD,))
    conn.execute("DELETE FROM vectors")
    conn.execute(
        "INSERT INTO vectors SELECT o.id, s.rid, s.vector FROM reembed_vectors s "
        "JOIN units u ON u.rid = s.rid JOIN owners o ON o.tenant = u.tenant AND o.user_id = u.user_id "
        "WHERE u.status <> 'deleted'"
    )
    # Units stored while the old embedder failed have a vector now, like every active or archived unit.
    conn.execute("UPDATE units SET unembedded = 0 WHERE unembedded = 1 AND status <> 'deleted'")
    # Every cache of every user, in every process, loads its vectors again (owner_changes).
    conn.execute("UPDATE owners SET changes = changes + 1")
    conn.execute("DELETE FROM reembed_vectors")
    return len(left)


def discard(conn: sqlite3.Connection) -> None:
    """Drop the staged vectors and their record."""
    conn.execute("DELETE FROM reembed_vectors")
    conn.execute("DELETE FROM meta WHERE key = ?", (_RECORD,))


def _check_staging(conn: sqlite3.Connection, name: str, dim: int) -> None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (_RECORD,)).fetchone()
    staged = None if row is None else json.loads(row[0])
    if staged != {"name": name, "dim": dim}:
        what = "nothing is staged" if staged is None else f"the staged vectors are {staged['name']!r}'s"
        raise StoreError(
            f"cannot swap in embedder {name!r}: {what} (another re-embedding replaced or finished "
            "the staging meanwhile); run the re-embedding again"
        )


def _tenants(conn: sqlite3.Connection) -> list[str]:
    """The tenants that have units, in order, by index seeks."""
    found: list[str] = []
    [(tenant,)] = conn.execute("SELECT min(tenant) FROM units").fetchall()
    while tenant is not None:
        found.append(tenant)
        [(tenant,)] = conn.execute("SELECT min(tenant) FROM units WHERE tenant > ?", (tenant,)).fetchall()
    return found


def _quoted(text: str) -> str:
    """``text`` inside an SQL string literal."""
    return text.replace("'", "''")
