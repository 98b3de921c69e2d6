"""Named, ordered migrations of the PostgreSQL backend, recorded in ``eidetica.migrations``.

Everything lives in the ``eidetica`` schema, so the store can share a database with other
applications. Migrations run as the connecting user (who must be able to create the schema and,
once, the ``eidetica_app`` role); the store then works as ``eidetica_app``, which row-level
security confines to the tenant each transaction names (see ``postgres``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from .migrations import apply_pending

SCHEMA = "eidetica"
#: The NOLOGIN role the store switches to, so row-level security applies even to a superuser.
APP_ROLE = "eidetica_app"
#: The per-transaction setting row-level security compares each row's tenant with.
TENANT_SETTING = "eidetica.tenant"
#: Serialises concurrent migrators of one database (a ``pg_advisory_xact_lock`` key).
_LOCK_KEY = int.from_bytes(b"eidetica", "big")

_TENANT_TABLES = ("units", "postings", "history", "audit")

MIGRATIONS: list[tuple[str, str]] = [
    (
        "m001_create_tables",
        """
        CREATE EXTENSION IF NOT EXISTS vector;
        CREATE TABLE eidetica.meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        -- JSON columns are text, as in SQLite: jsonb refuses \\u0000, and metadata must round-trip.
        -- ``embedding`` gets its dimension (vector(dim)) when the first embedder is recorded.
        -- ``terms_len``: how many tokens the unit's lexical texts have (BM25's document length).
        CREATE TABLE eidetica.units (
            seq BIGINT GENERATED ALWAYS AS IDENTITY UNIQUE,
            id TEXT PRIMARY KEY,
            tenant TEXT NOT NULL,
            user_id TEXT NOT NULL,
            agent_id TEXT,
            session_id TEXT,
            kind TEXT NOT NULL,
            text TEXT NOT NULL,
            speaker TEXT,
            role TEXT,
            occurred_at TIMESTAMPTZ,
            recorded_at TIMESTAMPTZ NOT NULL,
            valid_from TIMESTAMPTZ,
            valid_to TIMESTAMPTZ,
            entities TEXT NOT NULL DEFAULT '[]',
            sources TEXT NOT NULL DEFAULT '[]',
            derived_from TEXT NOT NULL DEFAULT '[]',
            ref TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            version INTEGER NOT NULL DEFAULT 1,
            status TEXT NOT NULL DEFAULT 'active',
            embedding vector NOT NULL,
            terms_len INTEGER NOT NULL DEFAULT 0
        );
        -- Dense search is an exact scan of one user's rows, found by this index: per-user ANN
        -- filtering was measured to be wrong or slow, and one user's rows are few.
        CREATE INDEX units_owner ON eidetica.units (tenant, user_id, status, kind) INCLUDE (terms_len);
        CREATE UNIQUE INDEX units_turn_ref ON eidetica.units (tenant, user_id, ref)
            WHERE ref IS NOT NULL AND kind = 'turn';
        -- The lexical index: one row per active unit and FTS5 token of its words (``body_tf``
        -- times) or of the words said before it (``context_tf`` times). Tokens carry their
        -- owner's prefix (terms.owned_words), so one token's postings are one user's units.
        CREATE TABLE eidetica.postings (
            term TEXT NOT NULL,
            unit_id TEXT NOT NULL,
            tenant TEXT NOT NULL,
            user_id TEXT NOT NULL,
            body_tf INTEGER NOT NULL,
            context_tf INTEGER NOT NULL,
            terms_len INTEGER NOT NULL,
            PRIMARY KEY (term, unit_id)
        );
        CREATE INDEX postings_unit ON eidetica.postings (unit_id);
        CREATE TABLE eidetica.history (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant TEXT NOT NULL,
            user_id TEXT NOT NULL,
            unit_id TEXT NOT NULL,
            version INTEGER NOT NULL,
            op TEXT NOT NULL,
            text TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}'
        );
        CREATE INDEX history_unit ON eidetica.history (unit_id, seq);
        CREATE INDEX history_owner ON eidetica.history (tenant, user_id);
        CREATE TABLE eidetica.audit (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at TIMESTAMPTZ NOT NULL,
            op TEXT NOT NULL,
            tenant TEXT NOT NULL,
            user_id TEXT NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        );
        """,
    ),
    (
        "m002_row_level_security",
        f"""
        DO $$
        BEGIN
            IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                BEGIN
                    CREATE ROLE {APP_ROLE} NOLOGIN;
                EXCEPTION
                    WHEN duplicate_object THEN NULL;  -- created meanwhile for another database
                    WHEN insufficient_privilege THEN
                        RAISE NOTICE 'no CREATEROLE: the store runs as the connecting user';
                        RETURN;
                END;
            END IF;
            GRANT USAGE ON SCHEMA eidetica TO {APP_ROLE};
            GRANT SELECT, INSERT, UPDATE, DELETE
                ON eidetica.units, eidetica.postings, eidetica.history TO {APP_ROLE};
            GRANT SELECT, INSERT ON eidetica.audit TO {APP_ROLE};
            GRANT SELECT ON eidetica.meta, eidetica.migrations TO {APP_ROLE};
            GRANT USAGE ON ALL SEQUENCES IN SCHEMA eidetica TO {APP_ROLE};
        END
        $$;
        """
        + "".join(
            f"""
        ALTER TABLE eidetica.{table} ENABLE ROW LEVEL SECURITY;
        ALTER TABLE eidetica.{table} FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON eidetica.{table}
            USING (tenant = current_setting('{TENANT_SETTING}', true))
            WITH CHECK (tenant = current_setting('{TENANT_SETTING}', true));
        """
            for table in _TENANT_TABLES
        ),
    ),
    (
        "m003_embedding_optional",
        # A unit stored while the embedder failed has no vector until it is filled in.
        """
        ALTER TABLE eidetica.units ALTER COLUMN embedding DROP NOT NULL;
        CREATE INDEX units_unembedded ON eidetica.units (tenant, user_id) WHERE embedding IS NULL;
        """,
    ),
    (
        "m004_unit_origin",
        # What a derived unit was extracted from, so a rebuild recognises it (see MemoryUnit.origin).
        "ALTER TABLE eidetica.units ADD COLUMN origin TEXT;",
    ),
    (
        "m005_reembed_staging",
        # Vectors of another embedder, staged until all are in (eidetica reembed; see
        # postgres_reembed), and erased with their units. The app role gets no access to them: the
        # trigger's function runs as its owner.
        """
        CREATE TABLE eidetica.reembed (
            unit_id TEXT PRIMARY KEY,
            staged_version INTEGER NOT NULL,
            embedding vector NOT NULL
        );
        CREATE FUNCTION eidetica.reembed_erased() RETURNS trigger
            LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
        BEGIN
            DELETE FROM eidetica.reembed r USING erased e WHERE r.unit_id = e.id;
            RETURN NULL;
        END
        $$;
        CREATE TRIGGER reembed_erased AFTER DELETE ON eidetica.units
            REFERENCING OLD TABLE AS erased FOR EACH STATEMENT EXECUTE FUNCTION eidetica.reembed_erased();
        """,
    ),
    (
        "m006_lessons",
        # Patterns of attacks a person confirmed (guard.lessons), kept per tenant like every row.
        f"""
        CREATE TABLE eidetica.lessons (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant TEXT NOT NULL,
            target TEXT NOT NULL,
            unit_id TEXT NOT NULL,
            source TEXT NOT NULL,
            words TEXT NOT NULL,
            at TIMESTAMPTZ NOT NULL
        );
        CREATE INDEX lessons_tenant ON eidetica.lessons (tenant, seq);
        ALTER TABLE eidetica.lessons ENABLE ROW LEVEL SECURITY;
        ALTER TABLE eidetica.lessons FORCE ROW LEVEL SECURITY;
        CREATE POLICY tenant_isolation ON eidetica.lessons
            USING (tenant = current_setting('{TENANT_SETTING}', true))
            WITH CHECK (tenant = current_setting('{TENANT_SETTING}', true));
        DO $$
        BEGIN
            IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{APP_ROLE}') THEN
                GRANT SELECT, INSERT, DELETE ON eidetica.lessons TO {APP_ROLE};
            END IF;
        END
        $$;
        """,
    ),
]


def applied(conn: psycopg.Connection[Any]) -> list[str]:
    """Names of the migrations recorded in the database, in the order they were applied."""
    exists = conn.execute("SELECT to_regclass('eidetica.migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return []
    return [str(r[0]) for r in conn.execute("SELECT name FROM eidetica.migrations ORDER BY applied_at, name")]


def migrate(conn: psycopg.Connection[Any]) -> list[str]:
    """Apply pending migrations, each in its own transaction; return the names applied.

    ``conn`` must be in autocommit mode. An advisory lock makes concurrent openers of a fresh
    database wait for the first one instead of racing it.
    """
    return apply_pending(MIGRATIONS, _Ledger(conn))


class _Ledger:
    """The ``eidetica.migrations`` table, created by the first migrator under an advisory lock."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self._conn = conn

    def applied(self) -> list[str]:
        return applied(self._conn)

    @contextmanager
    def locked(self) -> Iterator[None]:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            self._conn.execute("CREATE SCHEMA IF NOT EXISTS eidetica")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS eidetica.migrations "
                "(name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp())"
            )
            yield

    def run(self, step: str) -> None:
        self._conn.execute(step)

    def record(self, name: str) -> None:
        self._conn.execute("INSERT INTO eidetica.migrations (name) VALUES (%s)", (name,))
