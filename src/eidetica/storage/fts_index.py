"""The SQLite store's lexical index: a contentless FTS5 table, and the words it was given.

By default FTS5 keeps a copy of every text it indexes. Here each word of that copy carried its
owner's 13-character prefix (``terms.owned_words``), which made the copy three times the text and
the largest part of the file. So the index is contentless (``content=''``), and ``lexicon`` keeps
each row's words without the prefix: FTS5 removes a row from a contentless index only when given
the very text it indexed, which ``owned_words`` rebuilds from them exactly. Rows are always
changed through these functions, so index and lexicon never disagree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ..model import Scope
from .terms import owned_words, plain_words


def add(conn: sqlite3.Connection, rows: Sequence[tuple[int, Scope, str, str]]) -> None:
    """Index ``(rid, owner, text, words said before)`` rows (inside a write transaction)."""
    entries = [(rid, scope, plain_words(body), plain_words(context)) for rid, scope, body, context in rows]
    conn.executemany("INSERT INTO lexicon VALUES (?, ?, ?)", [(rid, b, c) for rid, _, b, c in entries])
    # A turn and the units derived from it share one context: prefix its words once.
    owned = {key: owned_words(*key) for key in {(scope, c) for _, scope, _, c in entries}}
    conn.executemany(
        "INSERT INTO units_fts (rowid, body, context) VALUES (?, ?, ?)",
        [(rid, owned_words(scope, b), owned[(scope, c)]) for rid, scope, b, c in entries],
    )


def remove(conn: sqlite3.Connection, rids: Sequence[int]) -> None:
    """Take rows out of the index (those not in it are skipped)."""
    found = []
    for start in range(0, len(rids), 500):
        chunk = rids[start : start + 500]
        found += conn.execute(
            "SELECT l.rid, u.tenant, u.user_id, l.body, l.context FROM lexicon l "
            f"JOIN units u ON u.rid = l.rid WHERE l.rid IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
    owners = {(tenant, user): Scope(user_id=user, tenant=tenant) for _, tenant, user, _, _ in found}
    conn.executemany(
        "INSERT INTO units_fts (units_fts, rowid, body, context) VALUES ('delete', ?, ?, ?)",
        [
            (rid, owned_words(owners[(tenant, user)], b), owned_words(owners[(tenant, user)], c))
            for rid, tenant, user, b, c in found
        ],
    )
    conn.executemany("DELETE FROM lexicon WHERE rid = ?", [(r[0],) for r in found])


def context(conn: sqlite3.Connection, rid: int) -> str:
    """The words said before an indexed row ("" when it is not indexed)."""
    row = conn.execute("SELECT context FROM lexicon WHERE rid = ?", (rid,)).fetchone()
    return row[0] if row else ""
