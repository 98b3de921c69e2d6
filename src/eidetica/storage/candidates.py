"""The best of a channel's scored rows that a query's filter lets through (the SQLite store).

Both channels score all of a user's units in memory (``vector_cache``, ``lexical_cache``); only
their best candidates are then read from the file, by row id.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import numpy as np

#: A channel's best ``OVERFETCH * limit`` rows are filtered first; when fewer than ``limit`` pass,
#: every scored row is.
OVERFETCH = 8


def best_of(
    conn: sqlite3.Connection,
    rids: np.ndarray,
    scores: np.ndarray,
    limit: int,
    narrower: tuple[str, list[Any]] | None,
) -> list[tuple[str, float]]:
    """The ``limit`` best scored rows as (unit id, score), best first (ties: first stored first),
    among those the SQL ``narrower`` (clauses over ``units``, and their parameters) selects.

    The result is exact either way: when ``limit`` of the best ``OVERFETCH * limit`` pass, no row
    outside them could outscore those.
    """
    if narrower is not None:
        rows = best(scores, OVERFETCH * limit)
        passing = _passing(conn, rids[rows].tolist(), *narrower)
        if len(passing) < limit and len(rows) < len(scores):
            passing = _passing(conn, rids.tolist(), *narrower)
        keep = np.isin(rids, np.fromiter(passing, dtype=np.int64, count=len(passing)))
        rids, scores = rids[keep], scores[keep]
    rows = best(scores, limit)
    chosen = [int(r) for r in rids[rows]]
    ids = dict(
        conn.execute(
            "SELECT rid, id FROM units WHERE rid IN (SELECT value FROM json_each(?))", (json.dumps(chosen),)
        ).fetchall()
    )
    return [(ids[rid], float(scores[row])) for rid, row in zip(chosen, rows, strict=True) if rid in ids]


def best(scores: np.ndarray, limit: int) -> np.ndarray:
    """Positions of the ``limit`` highest scores, highest first (ties: lower position first)."""
    if len(scores) > limit:
        part = np.argpartition(-scores, limit - 1)[:limit]
        return part[np.lexsort((part, -scores[part]))]
    return np.lexsort((np.arange(len(scores)), -scores))


def _passing(conn: sqlite3.Connection, rids: list[int], clauses: str, params: list[Any]) -> set[int]:
    sql = f"SELECT rid FROM units WHERE rid IN (SELECT value FROM json_each(?)) AND {clauses}"
    return {r[0] for r in conn.execute(sql, (json.dumps(rids), *params))}
