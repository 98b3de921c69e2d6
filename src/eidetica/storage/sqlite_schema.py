"""Named, ordered migrations of the SQLite backend, recorded in the ``migrations`` table."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from . import sqlite_reembed, vector_codec
from .migrations import apply_pending
from .terms import OWNER_PREFIX_LENGTH, TOKENIZE

#: A migration is SQL (statements separated by ``;``) or a function run inside its transaction.
Step = str | Callable[[sqlite3.Connection], None]


def _vectors_apart(conn: sqlite3.Connection) -> None:
    """Move each unit's float32 vector out of its row into ``vectors``, as ``vector_codec`` stores it."""
    conn.execute(
        "CREATE TABLE vectors (tenant TEXT NOT NULL, user_id TEXT NOT NULL, rid INTEGER NOT NULL, "
        "vector BLOB NOT NULL, PRIMARY KEY (tenant, user_id, rid)) WITHOUT ROWID"
    )
    # What changed in a user's rows since a cache read them (see owner_changes).
    conn.execute(
        "CREATE TABLE owners (tenant TEXT NOT NULL, user_id TEXT NOT NULL, changes INTEGER NOT NULL, "
        "last_rid INTEGER NOT NULL, PRIMARY KEY (tenant, user_id)) WITHOUT ROWID"
    )
    conn.execute("INSERT INTO owners SELECT tenant, user_id, 0, max(rid) FROM units GROUP BY tenant, user_id")
    conn.execute("ALTER TABLE units ADD COLUMN unembedded INTEGER NOT NULL DEFAULT 0")
    conn.execute("UPDATE units SET unembedded = 1 WHERE length(embedding) = 0")
    sql = (
        "SELECT rid, tenant, user_id, embedding FROM units WHERE rid > ? AND length(embedding) > 0 "
        "ORDER BY rid LIMIT 5000"
    )
    for rows in _in_batches(conn, sql):
        blobs = vector_codec.encode_all([np.frombuffer(blob, dtype=np.float32) for _, _, _, blob in rows])
        conn.executemany(
            "INSERT INTO vectors VALUES (?, ?, ?, ?)",
            [(t, u, rid, blob) for (rid, t, u, _), blob in zip(rows, blobs, strict=True)],
        )
    conn.execute("DROP INDEX units_unembedded")
    conn.execute("ALTER TABLE units DROP COLUMN embedding")
    conn.execute("CREATE INDEX units_unembedded ON units (tenant, user_id) WHERE unembedded = 1")


def _contentless_index(conn: sqlite3.Connection) -> None:
    """Make the FTS5 index contentless, its words kept unprefixed in ``lexicon`` (see fts_index)."""
    conn.execute("CREATE TABLE lexicon_contexts (id INTEGER PRIMARY KEY, text TEXT NOT NULL)")
    conn.execute("CREATE TABLE lexicon (rid INTEGER PRIMARY KEY, body TEXT NOT NULL, context_id INTEGER)")
    conn.execute("CREATE INDEX lexicon_context ON lexicon (context_id) WHERE context_id IS NOT NULL")
    sql = "SELECT rowid, body, context FROM units_fts WHERE rowid > ? ORDER BY rowid LIMIT 5000"
    for rows in _in_batches(conn, sql):
        contexts: dict[str, int | None] = {"": None}  # by prefixed text: one row per owner and words
        for _, _, context in rows:
            if context not in contexts:
                contexts[context] = conn.execute(
                    "INSERT INTO lexicon_contexts (text) VALUES (?) RETURNING id", (_unprefixed(context),)
                ).fetchone()[0]
        conn.executemany(
            "INSERT INTO lexicon VALUES (?, ?, ?)",
            [(rid, _unprefixed(body), contexts[context]) for rid, body, context in rows],
        )
    conn.execute(
        "CREATE VIRTUAL TABLE units_fts_contentless USING fts5(body, context, content = '', "
        f"tokenize = '{TOKENIZE}', detail = column)"
    )
    conn.execute(
        "INSERT INTO units_fts_contentless (rowid, body, context) SELECT rowid, body, context FROM units_fts"
    )
    conn.execute("DROP TABLE units_fts")
    conn.execute("ALTER TABLE units_fts_contentless RENAME TO units_fts")


def _smaller_rows(conn: sqlite3.Connection) -> None:
    """Vectors at 4 bits instead of 8 (``vector_codec``) and keyed by their owner's number, and
    history clustered by unit, so that its index goes: together a sixth of a LoCoMo file."""
    # Owners are numbered, and vectors keyed by the number instead of two names.
    conn.execute("ALTER TABLE owners ADD COLUMN id INTEGER")
    for number, (tenant, user_id) in enumerate(conn.execute("SELECT tenant, user_id FROM owners").fetchall()):
        conn.execute(
            "UPDATE owners SET id = ? WHERE tenant = ? AND user_id = ?", (number + 1, tenant, user_id)
        )
    conn.execute("CREATE UNIQUE INDEX owners_id ON owners (id)")
    conn.execute(
        "CREATE TABLE numbered_vectors (owner INTEGER NOT NULL, rid INTEGER NOT NULL, vector BLOB NOT NULL, "
        "PRIMARY KEY (owner, rid)) WITHOUT ROWID"
    )
    row = conn.execute("SELECT json_extract(value, '$.dim') FROM meta WHERE key = 'embedder'").fetchone()
    eight_bit = -1 if row is None else int(row[0]) + 4  # int8 components and a float32 scale
    for number, tenant, user_id in conn.execute("SELECT id, tenant, user_id FROM owners").fetchall():
        rows = conn.execute(
            "SELECT rid, vector FROM vectors WHERE tenant = ? AND user_id = ?", (tenant, user_id)
        ).fetchall()
        blobs = [blob for _, blob in rows]
        if blobs and len(blobs[0]) == eight_bit:  # a file's vectors share one format (m004 wrote 4 bits)
            blobs = vector_codec.encode_all(list(vector_codec.decode_int8(blobs)))
        conn.executemany(
            "INSERT INTO numbered_vectors VALUES (?, ?, ?)",
            [(number, rid, blob) for (rid, _), blob in zip(rows, blobs, strict=True)],
        )
    conn.execute("DROP TABLE vectors")
    conn.execute("ALTER TABLE numbered_vectors RENAME TO vectors")
    # A re-embedding in progress starts again: its staged vectors are in the old format.
    conn.execute("DELETE FROM reembed_vectors")
    sqlite_reembed.size_check(conn)
    conn.execute(
        "CREATE TABLE history_by_unit (unit_id TEXT NOT NULL, seq INTEGER NOT NULL, "
        "version INTEGER NOT NULL, op TEXT NOT NULL, text TEXT NOT NULL, at REAL NOT NULL, "
        "metadata TEXT NOT NULL DEFAULT '{}', PRIMARY KEY (unit_id, seq)) WITHOUT ROWID"
    )
    conn.execute(
        "INSERT INTO history_by_unit SELECT unit_id, seq, version, op, text, at, metadata FROM history"
    )
    conn.execute("DROP TABLE history")
    conn.execute("ALTER TABLE history_by_unit RENAME TO history")


def _in_batches(conn: sqlite3.Connection, sql: str) -> Iterator[list[Any]]:
    """The rows of ``sql`` a batch at a time: it takes the last row id seen, and orders by it."""
    last = 0
    while rows := conn.execute(sql, (last,)).fetchall():
        yield rows
        last = rows[-1][0]


def _unprefixed(owned: str) -> str:
    """Words as ``terms.owned_words`` wrote them, without the owner prefix."""
    return " ".join(word[OWNER_PREFIX_LENGTH:] for word in owned.split())


MIGRATIONS: list[tuple[str, Step]] = [
    (
        "m001_create_tables",
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE units (
            rid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            tenant TEXT NOT NULL,
            user_id TEXT NOT NULL,
            agent_id TEXT,
            session_id TEXT,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            speaker TEXT,
            role TEXT,
            occurred_at REAL,
            recorded_at REAL NOT NULL,
            valid_from REAL,
            valid_to REAL,
            entities TEXT NOT NULL DEFAULT '[]',
            sources TEXT NOT NULL DEFAULT '[]',
            derived_from TEXT NOT NULL DEFAULT '[]',
            ref TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            version INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'active',
            embedding BLOB NOT NULL
        );
        CREATE INDEX units_owner ON units (tenant, user_id, status, kind);
        CREATE UNIQUE INDEX units_turn_ref ON units (tenant, user_id, ref)
            WHERE ref IS NOT NULL AND kind = 'turn';
        CREATE TABLE history (
            seq INTEGER PRIMARY KEY,
            unit_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            op TEXT NOT NULL,
            text TEXT NOT NULL,
            at REAL NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX history_unit ON history (unit_id, seq);
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            op TEXT NOT NULL,
            tenant TEXT NOT NULL,
            user_id TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        -- Every indexed word carries its owner's prefix (see terms.owned_words), so posting
        -- lists are per user: a query reads one user's postings, whatever the store's size.
        -- detail=column: BM25 needs no word positions (no phrase queries), so none are stored.
        CREATE VIRTUAL TABLE units_fts USING fts5(
            body, context, tokenize = 'porter unicode61 remove_diacritics 2', detail = column
        );
        """,
    ),
    (
        "m002_unembedded_index",
        # Units stored while the embedder failed carry an empty vector until it is filled in.
        "CREATE INDEX units_unembedded ON units (tenant, user_id) WHERE length(embedding) = 0;",
    ),
    (
        "m003_unit_origin",
        # What a derived unit was extracted from, so a rebuild recognises it (see MemoryUnit.origin).
        "ALTER TABLE units ADD COLUMN origin TEXT;",
    ),
    # Vectors in a table of their own, a user's rows together and a quarter the size: a unit row
    # is then small enough that a long history's candidates load from few pages; and the
    # counters that keep the store's in-memory caches coherent.
    ("m004_vectors_apart", _vectors_apart),
    (
        "m005_speaker_index",
        # The speakers a question may name are read from this index, distinct value by value.
        "CREATE INDEX units_speakers ON units (tenant, user_id, role, speaker) "
        "WHERE kind = 'turn' AND status = 'active';",
    ),
    # The index no longer keeps its own copy of the words, each prefixed: a third of the file.
    ("m006_contentless_index", _contentless_index),
    # Vectors of another embedder, staged until all are in (eidetica reembed; see sqlite_reembed).
    ("m007_reembed_staging", sqlite_reembed.create_staging),
    # 4-bit vectors, and history without an index of its own: from 3.5 to under 3 KB a LoCoMo turn.
    ("m008_smaller_rows", _smaller_rows),
    (
        "m009_lessons",
        # Patterns of attacks a person confirmed (guard.lessons), newest read first per tenant.
        """
        CREATE TABLE lessons (
            seq INTEGER PRIMARY KEY,
            tenant TEXT NOT NULL,
            target TEXT NOT NULL,
            unit_id TEXT NOT NULL,
            source TEXT NOT NULL,
            words TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX lessons_tenant ON lessons (tenant, seq);
        """,
    ),
]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the names applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``); SQLite's write lock
    serialises concurrent migrators.
    """
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    return apply_pending(MIGRATIONS, _Ledger(conn))


class _Ledger:
    """The ``migrations`` table of one file, and SQLite's write lock (``BEGIN IMMEDIATE``)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def applied(self) -> set[str]:
        return {row[0] for row in self._conn.execute("SELECT name FROM migrations")}

    @contextmanager
    def locked(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise

    def run(self, step: Step) -> None:
        if callable(step):
            step(self._conn)
            return
        for statement in step.split(";"):
            if statement.strip():
                self._conn.execute(statement)

    def record(self, name: str) -> None:
        self._conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
