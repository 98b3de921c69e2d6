"""Each user's vectors as one float32 matrix in memory, kept coherent with the SQLite file.

Dense search scores every vector of the asking user (exact search: per-user ANN indexes were
either wrong or slower, see docs/performance.md). Reading and decoding a long history's vectors
from the file for every query would cost more than scoring them, so the matrix stays in memory
between queries, least recently used users first out when ``max_bytes`` is reached.

The cache sees every write to the file, from this process or another, through ``owner_changes``:
rows appended since are read on their own, and after any other change the matrix loads again.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np

from . import owner_changes, vector_codec


@dataclass
class UserVectors:
    """One user's vectors: ``rids[i]`` (ascending) is the unit row whose vector is ``matrix[i]``."""

    rids: np.ndarray
    matrix: np.ndarray
    state: owner_changes.OwnerState
    #: ``matrix`` and ``rids`` are the filled rows of these; appends grow them by doubling, so
    #: most appends copy nothing.
    _buffer: np.ndarray
    _rid_buffer: np.ndarray

    @classmethod
    def of(cls, rids: list[int], blobs: list[bytes], state: owner_changes.OwnerState) -> UserVectors:
        matrix = vector_codec.decode(blobs)
        rid_array = np.asarray(rids, dtype=np.int64)
        return cls(rid_array, matrix, state, matrix, rid_array)

    def append(self, rids: list[int], blobs: list[bytes]) -> None:
        rows = vector_codec.decode(blobs)
        n, added = len(self.rids), len(rids)
        if n + added > len(self._buffer) or not n:
            capacity = max(2 * (n + added), 64)
            buffer = np.empty((capacity, rows.shape[1]), dtype=np.float32)
            if n:
                buffer[:n] = self.matrix
            rid_buffer = np.empty(capacity, dtype=np.int64)
            rid_buffer[:n] = self.rids
            self._buffer, self._rid_buffer = buffer, rid_buffer
        self._buffer[n : n + added] = rows
        self._rid_buffer[n : n + added] = rids
        self.matrix = self._buffer[: n + added]
        self.rids = self._rid_buffer[: n + added]

    @property
    def nbytes(self) -> int:
        return int(self._buffer.nbytes + self._rid_buffer.nbytes)


class VectorCache:
    """Users' vector matrices, least recently used evicted beyond ``max_bytes``; not thread-safe
    (the store calls it under its lock)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._users: OrderedDict[tuple[str, str], UserVectors] = OrderedDict()

    def vectors(self, conn: sqlite3.Connection, tenant: str, user_id: str) -> UserVectors:
        """The user's vectors as the file holds them now.

        The counters are read before the rows, so a write landing in between makes the counters
        look older than the rows: the next call then reads again, never misses a change. Appends
        are read above the matrix's own last row, so none is read twice.
        """
        key = (tenant, user_id)
        state = owner_changes.read(conn, tenant, user_id)
        cached = self._users.pop(key, None)
        if cached is None or cached.state.changes != state.changes:
            rids, blobs = _rows(conn, key, after=-1)
            cached = UserVectors.of(rids, blobs, state)
        elif cached.state.last_rid != state.last_rid:
            rids, blobs = _rows(conn, key, after=int(cached.rids[-1]) if len(cached.rids) else -1)
            if rids:
                cached.append(rids, blobs)
            cached.state = state
        self._users[key] = cached
        self._evict()
        return cached

    def drop(self, tenant: str, user_id: str) -> None:
        """Forget one user's matrix (after their rows were erased)."""
        self._users.pop((tenant, user_id), None)

    def _evict(self) -> None:
        total = sum(v.nbytes for v in self._users.values())
        while total > self.max_bytes and len(self._users) > 1:
            _, evicted = self._users.popitem(last=False)
            total -= evicted.nbytes


def _rows(conn: sqlite3.Connection, key: tuple[str, str], *, after: int) -> tuple[list[int], list[bytes]]:
    rows = conn.execute(
        f"SELECT rid, vector FROM vectors WHERE owner = {owner_changes.OWNER_ID} AND rid > ? ORDER BY rid",
        (*key, after),
    ).fetchall()
    return [r[0] for r in rows], [r[1] for r in rows]
