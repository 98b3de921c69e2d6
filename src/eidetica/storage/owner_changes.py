"""What changed in one user's rows since an in-memory copy read them (the SQLite store's caches).

The SQLite store keeps each user's vectors and lexical postings in memory between queries, and
must see every write to the file, whichever process made it. Two numbers per user, in the
``owners`` table and written in the same transaction as the rows, tell a cache what to do:

- ``last_rid``, the highest row id the user's units were given: rows above a cache's own were
  appended since, and are read on their own (row ids only grow, see ``SQLiteStore``);
- ``changes``, incremented by every other write that touches what a cache holds (a deletion,
  an edit, a vector filled in late, an erased user): the cache is then loaded again.

Each owner also has a number (``id``), which keys their vectors: a few bytes a row instead of
the tenant's and user's names.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from ..model import Scope


@dataclass(frozen=True)
class OwnerState:
    """A user's counters as last written: see the module docstring."""

    changes: int
    last_rid: int


def read(conn: sqlite3.Connection, tenant: str, user_id: str) -> OwnerState:
    """The user's counters now (zeros for a user with nothing stored)."""
    row = conn.execute(
        "SELECT changes, last_rid FROM owners WHERE tenant = ? AND user_id = ?", (tenant, user_id)
    ).fetchone()
    return OwnerState(*row) if row else OwnerState(0, 0)


#: A new owner's number: one more than the highest given (``owners_id`` indexes them).
_NEXT_ID = "(SELECT coalesce(max(id), 0) + 1 FROM owners)"


def appended(conn: sqlite3.Connection, owner: Scope, last_rid: int) -> int:
    """Record that the owner's units now reach row id ``last_rid``; return the owner's number."""
    return int(
        conn.execute(
            f"INSERT INTO owners (tenant, user_id, changes, last_rid, id) VALUES (?, ?, 0, ?, {_NEXT_ID}) "
            "ON CONFLICT (tenant, user_id) DO UPDATE SET last_rid = max(last_rid, excluded.last_rid) "
            "RETURNING id",
            (owner.tenant, owner.user_id, last_rid),
        ).fetchone()[0]
    )


def changed(conn: sqlite3.Connection, owner: Scope) -> int:
    """Record a write other than an append, so every cache of the owner loads again; return the
    owner's number."""
    return int(
        conn.execute(
            f"INSERT INTO owners (tenant, user_id, changes, last_rid, id) VALUES (?, ?, 1, 0, {_NEXT_ID}) "
            "ON CONFLICT (tenant, user_id) DO UPDATE SET changes = changes + 1 RETURNING id",
            (owner.tenant, owner.user_id),
        ).fetchone()[0]
    )


#: The owner's number in SQL, for rows keyed by it (``vectors``): two parameters, tenant and user.
OWNER_ID = "(SELECT id FROM owners WHERE tenant = ? AND user_id = ?)"
