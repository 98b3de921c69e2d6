"""The SQLite store's lexical index: a contentless FTS5 table, and the words it was given.

By default FTS5 keeps a copy of every text it indexes. Here each word of that copy carried its
owner's 13-character prefix (``terms.owned_words``), which made the copy three times the text and
the largest part of the file. So the index is contentless (``content=''``), and ``lexicon`` keeps
each row's words without the prefix: FTS5 removes a row from a contentless index only when given
the very text it indexed, which ``owned_words`` rebuilds from them exactly. A turn and the units
derived from it are indexed with the same words said before them, kept once in
``lexicon_contexts``. Rows are always changed through these functions, so index and lexicon never
disagree.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from ..model import Scope
from .terms import owned_words, plain_words


def add(conn: sqlite3.Connection, rows: Sequence[tuple[int, Scope, str, str]]) -> None:
    """Index ``(rid, owner, text, words said before)`` rows (inside a write transaction)."""
    owners = {(s.tenant, s.user_id): Scope(user_id=s.user_id, tenant=s.tenant) for _, s, _, _ in rows}
    entries = [(rid, owners[(s.tenant, s.user_id)], plain_words(b), plain_words(c)) for rid, s, b, c in rows]
    context_ids: dict[tuple[Scope, str], int | None] = {}
    for _, owner, _, context in entries:
        if (owner, context) not in context_ids:
            context_ids[(owner, context)] = _store_context(conn, context)
    conn.executemany(
        "INSERT INTO lexicon VALUES (?, ?, ?)",
        [(rid, body, context_ids[(owner, context)]) for rid, owner, body, context in entries],
    )
    owned = {key: owned_words(*key) for key in context_ids}
    conn.executemany(
        "INSERT INTO units_fts (rowid, body, context) VALUES (?, ?, ?)",
        [(rid, owned_words(owner, body), owned[(owner, context)]) for rid, owner, body, context in entries],
    )


def remove(conn: sqlite3.Connection, rids: Sequence[int]) -> None:
    """Take rows out of the index (those not in it are skipped)."""
    found = []
    for start in range(0, len(rids), 500):
        chunk = rids[start : start + 500]
        found += conn.execute(
            "SELECT l.rid, u.tenant, u.user_id, l.body, coalesce(c.text, ''), l.context_id FROM lexicon l "
            "JOIN units u ON u.rid = l.rid LEFT JOIN lexicon_contexts c ON c.id = l.context_id "
            f"WHERE l.rid IN ({','.join('?' * len(chunk))})",
            chunk,
        ).fetchall()
    owners = {(tenant, user): Scope(user_id=user, tenant=tenant) for _, tenant, user, _, _, _ in found}
    conn.executemany(
        "INSERT INTO units_fts (units_fts, rowid, body, context) VALUES ('delete', ?, ?, ?)",
        [
            (rid, owned_words(owners[(tenant, user)], body), owned_words(owners[(tenant, user)], context))
            for rid, tenant, user, body, context, _ in found
        ],
    )
    conn.executemany("DELETE FROM lexicon WHERE rid = ?", [(r[0],) for r in found])
    conn.executemany(
        "DELETE FROM lexicon_contexts WHERE id = ?1 "
        "AND NOT EXISTS (SELECT 1 FROM lexicon WHERE context_id = ?1)",
        [(context_id,) for context_id in {r[5] for r in found if r[5] is not None}],
    )


def context(conn: sqlite3.Connection, rid: int) -> str:
    """The words said before an indexed row ("" when there were none, or it is not indexed)."""
    row = conn.execute(
        "SELECT c.text FROM lexicon l JOIN lexicon_contexts c ON c.id = l.context_id WHERE l.rid = ?", (rid,)
    ).fetchone()
    return row[0] if row else ""


def _store_context(conn: sqlite3.Connection, words: str) -> int | None:
    if not words:
        return None
    return int(
        conn.execute("INSERT INTO lexicon_contexts (text) VALUES (?) RETURNING id", (words,)).fetchone()[0]
    )
