"""What changed in one user's rows since an in-memory copy read them (the SQLite store's caches).

The SQLite store keeps each user's vectors and lexical postings in memory between queries, and
must see every write to the file, whichever process made it. Two numbers per user, in the
``owners`` table and written in the same transaction as the rows, tell a cache what to do:

- ``last_rid``, the highest row id the user's units were given: rows above a cache's own were
  appended since, and are read on their own (row ids only grow, see ``SQLiteStore``);
- ``changes``, incremented by every other write that touches what a cache holds (a deletion,
  an edit, a vector filled in late, an erased user): the cache is then loaded again.
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


def appended(conn: sqlite3.Connection, owner: Scope, last_rid: int) -> None:
    """Record that the owner's units now reach row id ``last_rid``."""
    conn.execute(
        "INSERT INTO owners VALUES (?, ?, 0, ?) "
        "ON CONFLICT (tenant, user_id) DO UPDATE SET last_rid = max(last_rid, excluded.last_rid)",
        (owner.tenant, owner.user_id, last_rid),
    )


def changed(conn: sqlite3.Connection, owner: Scope) -> None:
    """Record a write other than an append, so every cache of the owner loads again."""
    conn.execute(
        "INSERT INTO owners VALUES (?, ?, 1, 0) "
        "ON CONFLICT (tenant, user_id) DO UPDATE SET changes = changes + 1",
        (owner.tenant, owner.user_id),
    )
