"""PostgreSQL backend: pgvector for dense search, BM25 over FTS5-identical terms, row-level security.

``PostgresStore("postgresql://user@host/db")`` keeps everything in the ``eidetica`` schema, which
its named migrations (``postgres_schema``) create on first open, recorded in
``eidetica.migrations``. Writes are one transaction each; reads and writes go through a
``psycopg_pool.ConnectionPool``, so one store serves many threads.

Tenant isolation is enforced twice. Every statement carries a tenant predicate, and the tables
have row-level security (``ENABLE`` + ``FORCE``) with a policy ``tenant =
current_setting('eidetica.tenant', true)``: each transaction sets that value with
``set_config(..., true)`` (local to the transaction), so a query that forgot its predicate still
sees, and may write, only its own tenant's rows, and a transaction that names no tenant sees none.
Superusers and ``BYPASSRLS`` roles skip row-level security, so the migrations create a ``NOLOGIN``
role, ``eidetica_app``, holding just the privileges the store needs, and every pooled connection
runs ``SET ROLE eidetica_app`` when the connecting user may (a superuser, or a member of the role).
A non-member is subject to the policies anyway (``FORCE`` applies them to the tables' owner too),
unless it has ``BYPASSRLS``. This guards against the store's own mistakes, not against a caller
who can run SQL on its connections: ``RESET ROLE`` undoes ``SET ROLE``.

Dense search is an exact scan of one user's rows (found by a btree index on ``(tenant,
user_id)``): per-user HNSW filtering was measured to miss results or run slow, and a user's rows
are few. Embedders return unit-length vectors, so the inner product (``<#>``) is the cosine; it
also scores the all-zero vector of an empty text 0, where cosine distance gives NaN.

The lexical channel ranks as the SQLite store's FTS5 index does, with the user's statistics rather
than the whole table's (for a store of one user, score for score the same): see ``postgres_lexical``.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC
from typing import Any

import numpy as np
import psycopg
from psycopg import errors as pgerrors
from psycopg.abc import Params
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from ..embedders.base import Vectors
from ..errors import DuplicateTurnError, NotFoundError, StoreError
from ..model import HistoryEntry, Lesson, MemoryUnit, Scope, Stats
from . import postgres_reembed, versions
from .base import (
    ENTITY_SAMPLES,
    NEWEST_WALK,
    REEMBEDDED,
    EntityMentions,
    NewUnit,
    NewVersion,
    Recall,
    ReembedState,
    Replacement,
    Revision,
    UnitFilter,
    WordCounts,
    collect_mentions,
    embedder_mismatch,
)
from .json_columns import dump_json, load_json
from .postgres_lexical import Postings, bm25, term_counts
from .postgres_schema import APP_ROLE, TENANT_SETTING, migrate
from .postgres_sql import VectorDumper, as_is, filter_sql, utc
from .terms import index_terms, owned_words, word_counts_from, word_tokens
from .unit_rows import UNIT_COLUMNS, revision_row, revision_update, unit_from_row, unit_row

Conn = psycopg.Connection[Any]

_SET_TENANT = f"SELECT set_config('{TENANT_SETTING}', %s, true)"


class PostgresStore:
    """The shared-server store: ``PostgresStore("postgresql://user:password@host:5432/db")``."""

    def __init__(self, url: str, *, min_size: int = 1, max_size: int = 10, timeout: float = 30.0) -> None:
        self._url = url
        self._where = _describe(url)
        self._timeout = timeout
        with self._admin() as conn:
            try:
                migrate(conn)
                self._use_app_role, vector_oid = self._session_facts(conn)
            except psycopg.Error as exc:
                raise self._error(exc, "cannot prepare the database") from exc
        self._vector_dumper = type("VectorDumper", (VectorDumper,), {"oid": vector_oid})
        self._pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            open=False,
            configure=self._configure,
            kwargs={"autocommit": True},
            timeout=timeout,
            name="eidetica",
        )
        try:
            self._pool.open(wait=True, timeout=timeout)
        except psycopg.Error as exc:
            self._pool.close()
            raise self._error(exc, "cannot open a connection pool") from exc

    # -- connections --------------------------------------------------------------------------

    @contextmanager
    def _admin(self) -> Iterator[Conn]:
        """A short-lived connection as the connecting user: for migrations and schema changes."""
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=max(int(self._timeout), 1))
        except psycopg.Error as exc:
            raise StoreError(
                f"cannot connect to PostgreSQL at {self._where}: {_first_line(exc)}. "
                "Check that the server is running and the URL's user, password and database are right"
            ) from exc
        try:
            yield conn
        finally:
            conn.close()

    @staticmethod
    def _session_facts(conn: Conn) -> tuple[bool, int]:
        """Whether this user may ``SET ROLE`` to the app role (tried, not guessed), and the oid
        of the vector type."""
        row = conn.execute("SELECT 'vector'::regtype::oid").fetchone()
        assert row is not None
        try:
            conn.execute(f"SET ROLE {APP_ROLE}")
        except (pgerrors.InsufficientPrivilege, pgerrors.InvalidParameterValue):
            return False, int(row[0])  # not a member, or no role: the policies still apply
        conn.execute("RESET ROLE")
        return True, int(row[0])

    def _configure(self, conn: Conn) -> None:
        """Prepare a new pooled connection: drop to the app role, plan for the values given, send
        vectors in binary."""
        if self._use_app_role:
            conn.execute(f"SET ROLE {APP_ROLE}")
        # Statements are prepared after a few runs; planned generically, one user's slice looks
        # like the whole table, and a lexical search ran 3 times slower.
        conn.execute("SET plan_cache_mode = force_custom_plan")
        conn.adapters.register_dumper(np.ndarray, self._vector_dumper)

    @contextmanager
    def transaction(self, tenant: str | None) -> Iterator[Conn]:
        """A pooled connection inside one transaction that row-level security confines to ``tenant``.

        The store uses it for every statement; it is public for maintenance queries, which see
        the tenant's rows only (and no tenant's rows with ``tenant=None``, bar ``meta``).
        """
        try:
            with self._pool.connection() as conn, conn.transaction():
                if tenant is not None:
                    conn.execute(_SET_TENANT, (tenant,))
                yield conn
        except psycopg.Error as exc:
            raise self._error(exc, "a statement failed and its transaction was rolled back") from exc

    def _set_tenant(self, conn: Conn, tenant: str) -> None:
        conn.execute(_SET_TENANT, (tenant,))

    def _read(self, tenant: str | None, sql: str, params: Params = ()) -> list[Any]:
        """The rows of one query, in a transaction that row-level security confines to ``tenant``."""
        with self.transaction(tenant) as conn:
            return conn.execute(sql, params).fetchall()

    def _error(self, exc: psycopg.Error, what: str) -> StoreError:
        """Translate a driver error into a StoreError that says how to fix it."""
        detail = _first_line(exc)
        if isinstance(exc, PoolClosed):
            return StoreError("the PostgreSQL store is closed; open a new one")
        if isinstance(exc, PoolTimeout):
            return StoreError(
                f"no connection to PostgreSQL at {self._where} within {self._timeout:g} s: check that the "
                "server is up and accepts connections, or give the store a larger max_size"
            )
        if isinstance(exc, pgerrors.UniqueViolation) and exc.diag.constraint_name == "units_turn_ref":
            return DuplicateTurnError(f"{what}: another writer stored a turn with the same id first")
        if isinstance(exc, pgerrors.UniqueViolation):
            return StoreError(
                f"{what}: a unit with this id or turn ref is already stored ({detail}); nothing was written"
            )
        if isinstance(exc, pgerrors.UndefinedFile | pgerrors.FeatureNotSupported) and "vector" in detail:
            return StoreError(
                f"{what}: the pgvector extension is not installed on the server ({detail}); install "
                "pgvector (https://github.com/pgvector/pgvector) or ask an administrator to run "
                "CREATE EXTENSION vector in this database"
            )
        if isinstance(exc, pgerrors.InsufficientPrivilege) and "row-level security" in detail:
            return StoreError(f"{what}: row-level security refused a row of another tenant ({detail})")
        if isinstance(exc, pgerrors.InsufficientPrivilege):
            return StoreError(
                f"{what}: permission denied ({detail}); open the store once as the database owner so the "
                f"migrations can create the schema and grant {APP_ROLE!r} its privileges"
            )
        if isinstance(exc, psycopg.DataError) and "NUL" in detail:
            return StoreError(f"{what}: PostgreSQL cannot store the NUL character (\\x00) in text; remove it")
        if isinstance(exc, psycopg.DataError) and "different vector dimensions" in detail:
            return StoreError(f"{what}: {detail}: {REEMBEDDED}")
        if isinstance(exc, psycopg.OperationalError):
            return StoreError(f"{what}: lost the connection to PostgreSQL at {self._where} ({detail}); retry")
        return StoreError(f"{what} on PostgreSQL at {self._where}: {detail}")

    # -- writes -------------------------------------------------------------------------------

    def check_embedder(self, name: str, dim: int) -> None:
        """Remember the embedder (and type the vector column) on first use; refuse another later."""
        stored = self.stored_embedder()
        if stored is None:
            stored = json.loads(self._record_embedder(name, dim)[0])["name"]
        if stored != name:
            raise embedder_mismatch(self._where, stored, name)

    def stored_embedder(self) -> str | None:
        """The name of the embedder whose vectors the database holds; None before the first."""
        rows = self._read(None, "SELECT value FROM eidetica.meta WHERE key = 'embedder'")
        return str(json.loads(rows[0][0])["name"]) if rows else None

    def _record_embedder(self, name: str, dim: int) -> tuple[str]:
        """Fix the vector column's dimension and record the embedder (as the owner, once)."""
        with self._admin() as conn:
            try:
                with conn.transaction():
                    conn.execute("LOCK TABLE eidetica.meta IN EXCLUSIVE MODE")
                    row = conn.execute("SELECT value FROM eidetica.meta WHERE key = 'embedder'").fetchone()
                    if row is not None:
                        return (str(row[0]),)
                    conn.execute(f"ALTER TABLE eidetica.units ALTER COLUMN embedding TYPE vector({int(dim)})")
                    value = json.dumps({"name": name, "dim": dim})
                    conn.execute("INSERT INTO eidetica.meta VALUES ('embedder', %s)", (value,))
                    return (value,)
            except psycopg.Error as exc:
                raise self._error(exc, f"cannot record embedder {name!r}") from exc

    def add(self, units: Sequence[NewUnit], *, revisions: Sequence[Revision] = ()) -> None:
        """Store all units, their postings and history, and apply the revisions, in one transaction."""
        if not units and not revisions:
            return
        by_tenant: dict[str, list[NewUnit]] = {}
        for n in units:
            by_tenant.setdefault(n.unit.scope.tenant, []).append(n)
        with self.transaction(None) as conn:
            for tenant in {r.unit.scope.tenant for r in revisions}:
                self._set_tenant(conn, tenant)
                _revise(conn, [r for r in revisions if r.unit.scope.tenant == tenant])
            for tenant, batch in by_tenant.items():
                self._set_tenant(conn, tenant)  # row-level security admits one tenant at a time
                _insert(conn, tenant, batch)

    def update(
        self, new: NewVersion, *, tenant: str, user_id: str | None = None, revisions: Sequence[Revision] = ()
    ) -> MemoryUnit:
        """Write a new version and apply ``revisions``; the history table keeps every earlier text."""
        with self.transaction(tenant) as conn:
            current = self._get_in(conn, new.unit_id, tenant, user_id, lock=True)
            change = versions.updated(current, text=new.text, metadata=new.metadata)
            # The words said before the unit stay; its own words are replaced.
            said_before = conn.execute(
                "DELETE FROM eidetica.postings WHERE unit_id = %s AND tenant = %s RETURNING term, context_tf",
                (new.unit_id, tenant),
            ).fetchall()
            context = [term for term, n in said_before for _ in range(n)]
            postings = Postings()
            length = postings.add(
                current, index_terms([owned_words(current.scope, new.lexical_text)])[0], context
            )
            conn.execute(Postings.SQL, postings.params())
            written = change.unit
            row = conn.execute(
                "UPDATE eidetica.units SET text = %s, metadata = %s, version = %s, embedding = %s, "
                f"terms_len = %s WHERE id = %s AND tenant = %s RETURNING {UNIT_COLUMNS}",
                (
                    written.text,
                    dump_json(written.metadata),
                    written.version,
                    _vector(new.vector),
                    length,
                    new.unit_id,
                    tenant,
                ),
            ).fetchone()
            _record(conn, [change.record])
            _revise(conn, revisions)
        assert row is not None
        return unit_from_row(row, utc)

    def delete(
        self, unit_id: str, *, tenant: str, user_id: str | None = None, revisions: Sequence[Revision] = ()
    ) -> MemoryUnit:
        """Soft-delete: drop from the lexical index, keep the row, record the deletion, and apply
        ``revisions``."""
        with self.transaction(tenant) as conn:
            current = self._get_in(conn, unit_id, tenant, user_id, lock=True)
            change = versions.deleted(current)
            if change is None:
                return current
            conn.execute(
                "UPDATE eidetica.units SET status = 'deleted' WHERE id = %s AND tenant = %s",
                (unit_id, tenant),
            )
            conn.execute(
                "DELETE FROM eidetica.postings WHERE unit_id = %s AND tenant = %s", (unit_id, tenant)
            )
            _record(conn, [change.record])
            _revise(conn, revisions)
        return change.unit

    def forget(self, tenant: str, user_id: str, *, compact: bool = False) -> int:
        """Erase every row of the user, history included; leave an audit record without content.

        Then VACUUM the tables as the connecting user (the app role may not), so the dead rows leave
        the pages and the planner's statistics stop sampling them. Plain VACUUM leaves old bytes in
        the pages' free space; ``compact`` rewrites the tables and ``pg_statistic`` (VACUUM FULL),
        which locks them for every tenant while it runs. See docs/forget.md.
        """
        with self.transaction(tenant) as conn:
            xid = conn.execute("SELECT pg_current_xact_id()::xid::text").fetchone()
            n = self._erase(conn, tenant, user_id)
            conn.execute("DELETE FROM eidetica.lessons WHERE tenant = %s AND target = %s", (tenant, user_id))
            audit = versions.forgotten(tenant, user_id, n)
            conn.execute(
                "INSERT INTO eidetica.audit (at, op, tenant, user_id, detail) VALUES (now(), %s, %s, %s, %s)",
                (audit.op, audit.tenant, audit.user_id, json.dumps(audit.detail)),
            )
        assert xid is not None
        with self._admin() as admin:
            try:
                _vacuum(admin, str(xid[0]), full=compact, wait_s=self._timeout, where=self._where)
            except pgerrors.LockNotAvailable as exc:
                raise StoreError(
                    f"the rows are deleted, but VACUUM waited over {self._timeout:g} s for a table that "
                    "another transaction holds; call forget again once it has finished"
                ) from exc
            except psycopg.Error as exc:
                raise self._error(exc, "the rows are deleted, but VACUUM failed; call forget again") from exc
        return n

    def replace_derived(self, scope: Scope, replacement: Replacement) -> int:
        """Erase the derived units ``replacement.drop`` names (and their history), store its
        ``units`` and apply its ``revisions``, in one transaction; return how many went."""
        with self.transaction(scope.tenant) as conn:
            erased = self._erase(conn, scope.tenant, scope.user_id, derived=replacement.drop)
            _revise(conn, replacement.revisions)
            _insert(conn, scope.tenant, replacement.units)
            return erased

    @staticmethod
    def _erase(conn: Conn, tenant: str, user_id: str, *, derived: Collection[str] | None = None) -> int:
        """Delete the user's units (or only the derived ones of ids ``derived``) with their
        postings and history."""
        kinds = "" if derived is None else "AND u.kind <> 'turn' AND u.id = ANY(%s)"
        owner: tuple[Any, ...] = (tenant, user_id) if derived is None else (tenant, user_id, list(derived))
        for table in ("postings", "history"):
            conn.execute(
                f"DELETE FROM eidetica.{table} x USING eidetica.units u WHERE x.unit_id = u.id "
                f"AND x.tenant = u.tenant AND u.tenant = %s AND u.user_id = %s {kinds}",
                owner,
            )
        return conn.execute(
            f"DELETE FROM eidetica.units u WHERE tenant = %s AND user_id = %s {kinds}", owner
        ).rowcount

    # -- reads --------------------------------------------------------------------------------

    def existing_refs(self, scope: Scope, refs: Sequence[str]) -> set[str]:
        """Return which caller turn ids the user already has (makes re-imports idempotent)."""
        rows = self._read(
            scope.tenant,
            "SELECT ref FROM eidetica.units WHERE tenant = %s AND user_id = %s AND kind = 'turn' "
            "AND ref = ANY(%s)",
            (scope.tenant, scope.user_id, list(dict.fromkeys(refs))),
        )
        return {r[0] for r in rows}

    def get(self, unit_id: str, *, tenant: str, user_id: str | None = None) -> MemoryUnit:
        """Return the unit, deleted ones included; NotFoundError when absent or out of scope."""
        with self.transaction(tenant) as conn:
            return self._get_in(conn, unit_id, tenant, user_id)

    def _get_in(
        self, conn: Conn, unit_id: str, tenant: str, user_id: str | None, *, lock: bool = False
    ) -> MemoryUnit:
        if not isinstance(unit_id, str):
            raise NotFoundError(f"unit id must be a string, got {type(unit_id).__name__}")
        sql = f"SELECT {UNIT_COLUMNS} FROM eidetica.units WHERE id = %s AND tenant = %s"
        params: list[Any] = [unit_id, tenant]
        if user_id is not None:
            sql += " AND user_id = %s"
            params.append(user_id)
        row = conn.execute(sql + (" FOR UPDATE" if lock else ""), params).fetchone()
        if row is None:
            where = "" if user_id is None else f" for user {user_id!r}"
            raise NotFoundError(f"no memory unit with id {unit_id!r}{where}")
        return unit_from_row(row, utc)

    def get_many(
        self, unit_ids: Sequence[str], *, tenant: str, user_id: str | None = None
    ) -> dict[str, MemoryUnit]:
        """Return the tenant's (and user's) units among the ids."""
        sql = f"SELECT {UNIT_COLUMNS} FROM eidetica.units WHERE tenant = %s AND id = ANY(%s)"
        params: list[Any] = [tenant, list(dict.fromkeys(unit_ids))]
        if user_id is not None:
            sql += " AND user_id = %s"
            params.append(user_id)
        return {r[0]: unit_from_row(r, utc) for r in self._read(tenant, sql, params)}

    def history(self, unit_id: str, *, tenant: str, user_id: str | None = None) -> list[HistoryEntry]:
        """Return every recorded change of the unit, oldest first."""
        with self.transaction(tenant) as conn:
            self._get_in(conn, unit_id, tenant, user_id)
            rows = conn.execute(
                "SELECT unit_id, version, op, text, at, metadata FROM eidetica.history "
                "WHERE tenant = %s AND unit_id = %s ORDER BY seq",
                (tenant, unit_id),
            ).fetchall()
        return [HistoryEntry(r[0], r[1], r[2], r[3], r[4].astimezone(UTC), load_json(r[5])) for r in rows]

    def search_lexical(
        self, where: UnitFilter, terms: Sequence[str], limit: int, *, context_weight: float = 0.0
    ) -> list[tuple[str, float]]:
        """BM25 over the user's units, computed as the SQLite store's FTS5 computes it."""
        words = list(dict.fromkeys(owned_words(where.scope, " ".join(terms)).split()))
        # Each query word is one FTS5 phrase: words that stem alike count once each, as there.
        phrases = [term for word_terms in index_terms(words) for term in word_terms]
        if not phrases:
            return []
        with self.transaction(where.scope.tenant) as conn:
            return bm25(conn, where, phrases, limit, context_weight=context_weight)

    def word_counts(self, where: UnitFilter, words: Sequence[str]) -> WordCounts:
        """How many of the user's indexed units hold each word in their own words."""
        tokens = word_tokens(where.scope, words)
        with self.transaction(where.scope.tenant) as conn:
            units, counts = term_counts(conn, where.scope, {t for found in tokens.values() for t, _ in found})
        return WordCounts(units, word_counts_from(tokens, counts))

    def newest_with_words(self, where: UnitFilter, words: Sequence[str], per_word: int) -> list[str]:
        """For each word, the newest ``per_word`` units holding it that ``where`` selects, among its
        newest ``NEWEST_WALK * per_word`` postings (ids sort by when they were made)."""
        clauses, params = filter_sql(where)
        sql = (
            "SELECT u.id FROM (SELECT unit_id FROM eidetica.postings WHERE term = %(term)s "
            "AND body_tf > 0 ORDER BY unit_id DESC LIMIT %(walk)s) p "
            f"JOIN eidetica.units u ON u.id = p.unit_id WHERE {clauses} ORDER BY u.seq DESC LIMIT %(limit)s"
        )
        owned = list(dict.fromkeys(owned_words(where.scope, " ".join(words)).split()))
        found: dict[str, None] = {}
        with self.transaction(where.scope.tenant) as conn:
            for term in dict.fromkeys(t for word_terms in index_terms(owned) for t in word_terms):
                for row in conn.execute(
                    sql, {**params, "term": term, "limit": per_word, "walk": NEWEST_WALK * per_word}
                ).fetchall():
                    found[row[0]] = None
        return list(found)

    def search_vector(self, where: UnitFilter, vector: Vectors, limit: int) -> list[tuple[str, float]]:
        """Exact inner product (the cosine, for unit vectors) over the user's rows, in the server."""
        clauses, params = filter_sql(where)
        rows = self._read(
            where.scope.tenant,
            f"SELECT id, -(embedding <#> %(vector)s) AS score FROM eidetica.units u WHERE {clauses} "
            "AND embedding IS NOT NULL ORDER BY score DESC, seq LIMIT %(limit)s",
            {**params, "vector": _vector(vector), "limit": limit},
        )
        return [(r[0], float(r[1])) for r in rows]

    def unembedded(self, tenant: str, user_id: str | None, limit: int) -> list[MemoryUnit]:
        """Active units stored without a vector, oldest first."""
        sql = (
            f"SELECT {UNIT_COLUMNS} FROM eidetica.units "
            "WHERE tenant = %s AND embedding IS NULL AND status = 'active'"
        )
        params: list[Any] = [tenant]
        if user_id is not None:
            sql += " AND user_id = %s"
            params.append(user_id)
        return [
            unit_from_row(r, utc)
            for r in self._read(tenant, sql + " ORDER BY seq LIMIT %s", [*params, limit])
        ]

    def set_vectors(self, tenant: str, vectors: Mapping[str, Vectors]) -> None:
        """Fill in the vectors of units stored without one."""
        with self.transaction(tenant) as conn, conn.cursor() as cur:
            cur.executemany(
                "UPDATE eidetica.units SET embedding = %s "
                "WHERE id = %s AND tenant = %s AND embedding IS NULL",
                [(_vector(v), unit_id, tenant) for unit_id, v in vectors.items()],
            )

    def recalled(self, tenant: str, recalls: Mapping[str, Recall]) -> None:
        """Count recalls into each unit's metadata, in place (``Store.recalled``)."""
        with self.transaction(tenant) as conn, conn.cursor() as cur:
            cur.executemany(
                "UPDATE eidetica.units SET metadata = jsonb_set(metadata::jsonb, '{recalled}', "
                "jsonb_build_object("
                "'times', coalesce((metadata::jsonb #>> '{recalled,times}')::int, 0) + %s, "
                "'last', greatest(coalesce(metadata::jsonb #>> '{recalled,last}', ''), %s)))::text "
                "WHERE id = %s AND tenant = %s AND status <> 'deleted'",
                [(r.times, r.last.isoformat(), unit_id, tenant) for unit_id, r in recalls.items()],
            )

    def list_units(self, where: UnitFilter, *, limit: int | None = None, offset: int = 0) -> list[MemoryUnit]:
        """Return units in the order they were said (undated ones by when stored)."""
        clauses, params = filter_sql(where)
        rows = self._read(
            where.scope.tenant,
            f"SELECT {UNIT_COLUMNS} FROM eidetica.units u WHERE {clauses} "
            "ORDER BY coalesce(occurred_at, recorded_at), seq LIMIT %(limit)s OFFSET %(offset)s",
            {**params, "limit": limit, "offset": offset},
        )
        return [unit_from_row(r, utc) for r in rows]

    def entity_mentions(self, where: UnitFilter) -> list[EntityMentions]:
        """Every entity key the selected units mention, with counts, times and a few texts, read
        in one pass over the user's mentions."""
        clauses, params = filter_sql(where)
        rows = self._read(
            where.scope.tenant,
            "WITH m AS (SELECT e.key, u.text, u.seq, u.derived_from::json ->> 0 AS lineage, "
            "coalesce(u.valid_from, u.occurred_at, u.recorded_at) AS at FROM eidetica.units u "
            "CROSS JOIN LATERAL json_array_elements_text(u.entities::json) AS e(key) "
            f"WHERE {clauses}), "
            "w AS (SELECT key, text, lineage, count(*) OVER k AS n, min(at) OVER k AS first, "
            "max(at) OVER k AS last, row_number() OVER (PARTITION BY key ORDER BY at DESC, seq DESC) "
            "AS r FROM m WINDOW k AS (PARTITION BY key)) "
            "SELECT key, n, first, last, text, (SELECT t.text FROM eidetica.units t WHERE t.tenant = "
            "%(tenant)s AND t.id = w.lineage) FROM w WHERE r <= %(samples)s ORDER BY key, r",
            {**params, "samples": ENTITY_SAMPLES},
        )
        return collect_mentions(
            (key, n, first.astimezone(UTC), last.astimezone(UTC), text, said)
            for key, n, first, last, text, said in rows
        )

    def mentioning(self, where: UnitFilter, keys: Sequence[str], limit: int) -> list[MemoryUnit]:
        """The newest selected units whose entities hold one of ``keys``."""
        if not keys:
            return []
        clauses, params = filter_sql(where)
        rows = self._read(
            where.scope.tenant,
            f"SELECT {UNIT_COLUMNS} FROM eidetica.units u WHERE {clauses} AND EXISTS (SELECT 1 "
            "FROM json_array_elements_text(u.entities::json) AS e(key) WHERE e.key = ANY(%(keys)s)) "
            "ORDER BY coalesce(u.valid_from, u.occurred_at, u.recorded_at) DESC, u.seq DESC "
            "LIMIT %(limit)s",
            {**params, "keys": list(keys), "limit": limit},
        )
        return [unit_from_row(r, utc) for r in rows]

    def speakers(self, where: UnitFilter) -> list[str]:
        """Distinct speakers of the active turns ``where`` selects."""
        clauses, params = filter_sql(dataclasses.replace(where, kinds=("turn",)))
        rows = self._read(
            where.scope.tenant,
            f"SELECT DISTINCT speaker FROM eidetica.units u WHERE {clauses} AND speaker IS NOT NULL",
            params,
        )
        return [r[0] for r in rows]

    def count(self, where: UnitFilter, *, at_most: int | None = None) -> int:
        """Count the active units ``where`` selects, up to ``at_most``."""
        clauses, params = filter_sql(where)
        sql = f"SELECT count(*) FROM (SELECT 1 FROM eidetica.units u WHERE {clauses} LIMIT %(at_most)s) c"
        rows = self._read(where.scope.tenant, sql, {**params, "at_most": at_most})
        return int(rows[0][0]) if rows else 0

    def add_lesson(self, tenant: str, lesson: Lesson) -> None:
        """Keep a lesson from a confirmed attack; forgetting its target erases it."""
        with self.transaction(tenant) as conn:
            conn.execute(
                "INSERT INTO eidetica.lessons (tenant, target, unit_id, source, words, at) "
                "VALUES (%s, %s, %s, %s, %s, %s)",
                (tenant, lesson.target, lesson.unit_id, lesson.source, " ".join(lesson.words), lesson.at),
            )

    def lessons(self, tenant: str, limit: int) -> list[Lesson]:
        """The tenant's newest ``limit`` lessons, newest first."""
        rows = self._read(
            tenant,
            "SELECT words, source, target, unit_id, at FROM eidetica.lessons WHERE tenant = %s "
            "ORDER BY seq DESC LIMIT %s",
            (tenant, limit),
        )
        return [Lesson(tuple(w.split()), src, target, uid, at) for w, src, target, uid, at in rows]

    def users(self, tenant: str) -> list[str]:
        """The ids of the tenant's users that have units, in order: a loose index scan, one seek
        per user, however many units each has."""
        rows = self._read(
            tenant,
            "WITH RECURSIVE owner(id) AS ("
            " SELECT min(user_id) FROM eidetica.units WHERE tenant = %(t)s"
            " UNION ALL SELECT (SELECT min(user_id) FROM eidetica.units"
            " WHERE tenant = %(t)s AND user_id > owner.id) FROM owner WHERE owner.id IS NOT NULL"
            ") SELECT id FROM owner WHERE id IS NOT NULL",
            {"t": tenant},
        )
        return [str(r[0]) for r in rows]

    def stats(self, tenant: str, user_id: str | None) -> Stats:
        """Count units by kind, deleted units, users and sessions; size the rows in scope.

        ``bytes_on_disk`` is the size of the scope's rows, not of the database: a tenant of a
        shared server learns nothing about the others.
        """
        where, params = "tenant = %s", [tenant]
        if user_id is not None:
            where += " AND user_id = %s"
            params.append(user_id)
        with self.transaction(tenant) as conn:
            by_kind = conn.execute(
                f"SELECT kind, count(*) FROM eidetica.units WHERE {where} AND status = 'active' "
                "GROUP BY kind",
                params,
            ).fetchall()
            row = conn.execute(
                "SELECT count(*) FILTER (WHERE status = 'deleted'), count(DISTINCT user_id), "
                "count(DISTINCT user_id || '/' || session_id), coalesce(sum(pg_column_size(u.*)), 0), "
                "count(*) FILTER (WHERE status = 'active' AND embedding IS NULL), "
                "count(*) FILTER (WHERE status = 'archived') "
                f"FROM eidetica.units u WHERE {where}",
                params,
            ).fetchone()
        assert row is not None
        return Stats(
            units_by_kind={str(k): int(v) for k, v in by_kind},
            deleted=int(row[0]),
            users=int(row[1]),
            sessions=int(row[2]),
            bytes_on_disk=int(row[3]),
            unembedded=int(row[4]),
            archived=int(row[5]),
        )

    def close(self) -> None:
        """Close every pooled connection."""
        self._pool.close()

    # -- re-embedding: the SQL is in postgres_reembed ---------------------------------------

    def reembed_begin(self, name: str, dim: int) -> ReembedState:
        """Stage vectors for embedder ``name``, keeping those staged for it, dropping any other's."""
        with self._reembedding("cannot start re-embedding") as conn:
            return postgres_reembed.begin(conn, name, dim)

    def reembed_pending(self, tenant: str, limit: int, *, after: str | None = None) -> list[MemoryUnit]:
        """The tenant's next active units without a vector staged for their version."""
        with self._reembedding("cannot read the units to re-embed") as conn:
            return postgres_reembed.pending(conn, tenant, limit, after)

    def reembed_stage(self, units: Sequence[MemoryUnit], vectors: Vectors) -> None:
        """Stage the units' new vectors, out of every search's sight."""
        with self._reembedding("cannot stage the new vectors") as conn:
            postgres_reembed.stage(conn, units, vectors)

    def reembed_swap(self, name: str, dim: int, embed: Callable[[Sequence[MemoryUnit]], Vectors]) -> int:
        """Embed what is unstaged, then swap the staged vectors and embedder ``name`` in, at once."""
        with self._reembedding("cannot swap in the new vectors") as conn:
            return postgres_reembed.swap(conn, name, dim, embed)

    def reembed_discard(self) -> None:
        """Drop the staged vectors."""
        with self._reembedding("cannot drop the staged vectors") as conn:
            postgres_reembed.discard(conn)

    @contextmanager
    def _reembedding(self, what: str) -> Iterator[Conn]:
        """One transaction on the owner's connection (see postgres_reembed), sending vectors in
        binary, that waits for a lock no longer than the store's timeout."""
        with self._admin() as conn:
            conn.adapters.register_dumper(np.ndarray, self._vector_dumper)
            try:
                with conn.transaction():
                    conn.execute(f"SET LOCAL lock_timeout = {max(int(self._timeout * 1000), 1)}")
                    yield conn
            except psycopg.Error as exc:
                error = postgres_reembed.owner_error(exc, what, self._timeout) or self._error(exc, what)
                raise error from exc


def _insert(conn: Conn, tenant: str, units: Sequence[NewUnit]) -> None:
    """Insert one tenant's units with their postings and first history rows (inside a transaction
    whose row-level security admits that tenant)."""
    if not units:
        return
    body = index_terms([owned_words(n.unit.scope, n.lexical_text) for n in units])
    # A turn and the units derived from it share one context: tokenize it once.
    keys = list(dict.fromkeys((n.unit.scope, n.lexical_context) for n in units))
    contexts = dict(zip(keys, index_terms([owned_words(*key) for key in keys]), strict=True))
    rows, postings = [], Postings()
    for n, terms in zip(units, body, strict=True):
        # A deleted unit (an import of an export brings them) is kept out of the index.
        indexed = n.unit.status != "deleted"
        length = postings.add(n.unit, terms, contexts[(n.unit.scope, n.lexical_context)]) if indexed else 0
        rows.append((*unit_row(n.unit, as_is), _vector(n.vector), length))
    with conn.cursor() as cur:
        cur.executemany(
            f"INSERT INTO eidetica.units ({UNIT_COLUMNS}, embedding, terms_len) "
            f"VALUES ({', '.join(['%s'] * len(rows[0]))})",
            rows,
        )
        cur.execute(Postings.SQL, postings.params())
    _record(conn, [r for n in units for r in versions.added(n.unit, n.history)])


def _vector(vector: Vectors | None) -> Vectors | None:
    """The vector as the flat float32 array the binary dumper sends (None: SQL NULL)."""
    return None if vector is None else np.asarray(vector, dtype=np.float32).ravel()


def _describe(url: str) -> str:
    """The server and database a URL names, without its password, for error messages."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "the given URL"
    host = str(parts.get("host") or "localhost")
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"{host}{port}/{parts.get('dbname') or parts.get('user') or ''}"


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _revise(conn: Conn, revisions: Sequence[Revision]) -> None:
    """Apply changes to stored units of one tenant and their postings, and record each in ``history``."""
    if not revisions:
        return
    update = revision_update("eidetica.units", "%s")
    with conn.cursor() as cur:
        plain, guarded = versions.split_guarded(revisions)
        cur.executemany(update, [revision_row(r, as_is) for r in plain])
        revisions = list(plain)
        for r, before in guarded:
            cur.execute(f"{update} AND version = %s AND status = %s", (*revision_row(r, as_is), *before))
            if cur.rowcount:
                revisions.append(r)
        reindexed = [r for r in revisions if r.unit.status == "deleted" or r.lexical is not None]
        for r in reindexed:
            cur.execute(
                "DELETE FROM eidetica.postings WHERE unit_id = %s AND tenant = %s",
                (r.unit.id, r.unit.scope.tenant),
            )
        postings = Postings()
        lengths = []
        for r in reindexed:
            if r.unit.status != "deleted" and r.lexical is not None:
                body, context = index_terms([owned_words(r.unit.scope, text) for text in r.lexical])
                lengths.append((postings.add(r.unit, body, context), r.unit.id, r.unit.scope.tenant))
        if lengths:
            cur.execute(Postings.SQL, postings.params())
            cur.executemany("UPDATE eidetica.units SET terms_len = %s WHERE id = %s AND tenant = %s", lengths)
    _record(conn, versions.revised(revisions))


def _record(conn: Conn, records: Sequence[versions.HistoryRecord]) -> None:
    """Write history entries, each with its full text, at the transaction's time (or their own)."""
    if not records:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO eidetica.history (tenant, user_id, unit_id, version, op, text, at, metadata) "
            "VALUES (%s, %s, %s, %s, %s, %s, coalesce(%s, now()), %s)",
            [
                (r.tenant, r.user_id, r.unit_id, r.version, r.op, r.text, r.at, dump_json(r.metadata))
                for r in records
            ],
        )


def _vacuum(conn: Conn, xid: str, *, full: bool, wait_s: float, where: str) -> None:
    """VACUUM (and ANALYZE) the tables a forget deleted from in transaction ``xid``.

    A transaction older than the forget may still see the rows, and VACUUM, FULL included, keeps
    what some transaction may see: wait up to ``wait_s`` for those to end, then refuse. ``full``
    rewrites the tables into new files, then ``pg_statistic``, whose superseded rows still hold
    sampled values. VACUUM only warns when it may not touch a table; the warnings become an error.
    The lock timeout keeps a VACUUM FULL stuck behind a long transaction from queueing every
    other tenant's queries behind it.
    """
    for _ in range(max(int(wait_s * 10), 1)):
        if not (older := _transactions_before(conn, xid)):
            break
        conn.execute("SELECT pg_sleep(0.1)")
    else:
        raise StoreError(
            f"the rows are deleted, but {older} transaction(s) on PostgreSQL at {where} that began "
            f"before the forget still held them after {wait_s:g} s, and VACUUM keeps what a running "
            "transaction may see; call forget again once those have finished"
        )
    refused: list[str] = []

    def collect(diag: psycopg.errors.Diagnostic) -> None:
        if diag.severity_nonlocalized == "WARNING":
            refused.append(diag.message_primary or "a warning without text")

    conn.add_notice_handler(collect)
    conn.execute(f"SET lock_timeout = {max(int(wait_s * 1000), 1)}")
    tables = "eidetica.units, eidetica.postings, eidetica.history, eidetica.lessons"
    conn.execute(f"VACUUM ({'FULL, ' if full else ''}ANALYZE) {tables}")
    if full:
        conn.execute("VACUUM FULL pg_catalog.pg_statistic")
    if refused:
        raise StoreError(
            f"the rows are deleted, but PostgreSQL at {where} refused to VACUUM ({'; '.join(refused)}): "
            "connect as the tables' owner (the user that created them) or the database owner, or "
            "GRANT MAINTAIN on them (PostgreSQL 17+), then call forget again"
        )


def _transactions_before(conn: Conn, xid: str) -> int:
    """Count what holds back VACUUM's removal of rows deleted by ``xid``: transactions and snapshots
    at least as old in this database (or in none: WAL senders), replication slots, prepared ones."""
    row = conn.execute(
        "SELECT count(*) FROM ("
        " SELECT unnest(ARRAY[backend_xid, backend_xmin]) FROM pg_stat_activity"
        "  WHERE (datname = current_database() OR datname IS NULL) AND pid <> pg_backend_pid()"
        " UNION ALL SELECT xmin FROM pg_replication_slots"
        " UNION ALL SELECT transaction FROM pg_prepared_xacts WHERE database = current_database()"
        ") held(x) WHERE x IS NOT NULL AND age(x) >= age(%s::xid)",
        (xid,),
    ).fetchone()
    return int(row[0]) if row else 0
