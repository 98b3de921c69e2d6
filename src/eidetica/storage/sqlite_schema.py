"""Named, ordered migrations of the SQLite backend, recorded in the ``migrations`` table."""

from __future__ import annotations

import sqlite3
import time

MIGRATIONS: list[tuple[str, str]] = [
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
]


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the names applied."""
    conn.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    applied = {row[0] for row in conn.execute("SELECT name FROM migrations")}
    done: list[str] = []
    for name, sql in MIGRATIONS:
        if name in applied:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have applied it while we waited for the write lock.
            if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (name,)).fetchone():
                conn.execute("ROLLBACK")
                continue
            for statement in sql.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO migrations VALUES (?, ?)", (name, time.time()))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        done.append(name)
    return done
