"""Which of a user's rows are archived, for the SQLite store's in-memory channels to leave out.

An archived unit keeps its vector and its postings (a restore then costs nothing), so the
matrices and postings the caches hold include it; each search drops the archived rows from what
a channel scored unless it asks for them. The row ids are read once per change of the owner's
counters (``owner_changes``): archiving and restoring count as a change. A user with nothing
archived costs one index seek a search and takes no room.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict

import numpy as np

from . import owner_changes
from .base import UnitFilter

#: Users whose archived rows are kept, the least recently asked dropped first.
MAX_USERS = 1024


class ArchivedRows:
    """Each user's archived row ids, as of their ``changes`` counter; not thread-safe (the store
    calls it under its lock)."""

    def __init__(self) -> None:
        self._users: OrderedDict[tuple[str, str], tuple[int, np.ndarray]] = OrderedDict()

    def left_out(
        self, conn: sqlite3.Connection, where: UnitFilter, rids: np.ndarray, scores: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``rids`` and their ``scores`` without the archived rows, unless ``where`` reads them."""
        if where.include_archived or not len(rids):
            return rids, scores
        archived = self._rids(conn, where.scope.tenant, where.scope.user_id)
        if not len(archived):
            return rids, scores
        keep = ~np.isin(rids, archived)
        return rids[keep], scores[keep]

    def _rids(self, conn: sqlite3.Connection, tenant: str, user_id: str) -> np.ndarray:
        key = (tenant, user_id)
        changes = owner_changes.read(conn, tenant, user_id).changes
        cached = self._users.pop(key, None)
        if cached is None or cached[0] != changes:
            rows = conn.execute(
                "SELECT rid FROM units WHERE tenant = ? AND user_id = ? AND status = 'archived'", key
            ).fetchall()
            cached = (changes, np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows)))
        if len(cached[1]):
            self._users[key] = cached
            if len(self._users) > MAX_USERS:
                self._users.popitem(last=False)
        return cached[1]

    def drop(self, tenant: str, user_id: str) -> None:
        """Forget one user's rows (after they were erased)."""
        self._users.pop((tenant, user_id), None)
