"""SQLite backend: one file, WAL, FTS5 for BM25, 4-bit vectors ranked with numpy per user.

Per-user exact vector search needs no ANN index: numpy scores even 100,000 vectors of one user in
a few milliseconds, from a matrix kept in memory between queries (``vector_cache``). Both channels
rank before they join the units table, so a query reads the rows of its candidates only, however
long the user's history. Writes use ``BEGIN IMMEDIATE`` so concurrent writer processes queue on
the lock instead of failing mid-transaction. See docs/performance.md for the measurements.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..embedders.base import Vectors
from ..errors import DuplicateTurnError, NotFoundError, StoreError
from ..model import HistoryEntry, Lesson, MemoryUnit, Scope, Stats
from . import fts_index, owner_changes, sqlite_reembed, vector_codec, versions
from .archived_rows import ArchivedRows
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
    lineage_pattern,
    status_sql,
)
from .candidates import best_of
from .json_columns import dump_json
from .lexical_cache import LexicalCache
from .metadata_sql import sqlite_clauses, sqlite_holds
from .sqlite_schema import migrate
from .terms import index_terms, owned_words, word_counts_from, word_tokens
from .unit_rows import UNIT_COLUMNS, revision_row, revision_update, unit_from_row, unit_row
from .vector_cache import VectorCache

BUSY_TIMEOUT_MS = 60_000
#: Memory for users' vector matrices (float32) kept between queries: 100,000 units of 256 dimensions
#: take 100 MB.
VECTOR_CACHE_BYTES = 512 * 2**20
#: Memory for users' lexical postings kept between queries (a word of 10,000 units takes 180 KB).
LEXICAL_CACHE_BYTES = 256 * 2**20
#: A unit row's size in bytes, near enough: its variable columns plus a fixed part for the rest.
_ROW_BYTES = (
    " + ".join(
        f"coalesce(length(CAST({column} AS BLOB)), 0)"
        for column in (
            "id",
            "text",
            "speaker",
            "entities",
            "sources",
            "derived_from",
            "ref",
            "metadata",
            "origin",
        )
    )
    + " + 64"
)
#: The text of a history entry that left the unit's text as it was (an add, a mention, a
#: supersession, a deletion): the unit's current text stands for it, and an update writes the
#: text it replaces into such entries first. A unit's text is never empty. Saves a copy of every
#: text (9% of a LoCoMo file).
SAME_TEXT = ""


class SQLiteStore:
    """The embedded default store: ``SQLiteStore("memory.db")`` or ``":memory:"`` for tests."""

    def __init__(self, path: str | Path, *, vector_cache_bytes: int = VECTOR_CACHE_BYTES) -> None:
        self.path = str(path)
        self._vectors = VectorCache(vector_cache_bytes)
        self._postings = LexicalCache(LEXICAL_CACHE_BYTES)
        self._archived = ArchivedRows()
        if self.path != ":memory:":
            _check_file_path(self.path)
        self._lock = threading.RLock()
        try:
            self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=60)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path}: {exc}. {_open_hint(exc)}") from exc
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            _retry_while_locked(self._prepare)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(
                f"cannot open {self.path} as an Eidetica database: {exc}. {_open_hint(exc)}"
            ) from exc
        except StoreError:
            self._conn.close()
            raise

    def _prepare(self) -> None:
        """Everything opening a file does; safe to run again after it failed half way."""
        _refuse_foreign(self._conn, self.path)
        self._conn.execute("PRAGMA journal_mode = WAL")
        # FULL: a write acknowledged is on disk, power loss included (NORMAL may lose the last
        # commits). It costs about 0.3-1.5 ms per commit, nothing per turn in batched adds
        # (docs/security.md has the measurement).
        self._conn.execute("PRAGMA synchronous = FULL")
        # Zero what every delete, update and FTS5 merge frees, so no unit's old text lingers in
        # free space for forget to miss (measured: no cost on adds or deletes beyond noise).
        self._conn.execute("PRAGMA secure_delete = ON")
        migrate(self._conn)

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the process lock; translate driver errors."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot start a write on {self.path}: {exc}") from exc
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except sqlite3.IntegrityError as exc:
                self._conn.execute("ROLLBACK")
                if "units.ref" in str(exc):  # the unique index units_turn_ref
                    raise DuplicateTurnError(
                        f"write to {self.path} rolled back: another writer stored a turn of the same id first"
                    ) from exc
                raise StoreError(f"write to {self.path} failed and was rolled back: {exc}") from exc
            except sqlite3.Error as exc:
                self._conn.execute("ROLLBACK")
                raise StoreError(f"write to {self.path} failed and was rolled back: {exc}") from exc
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.Error as exc:
                raise StoreError(f"read from {self.path} failed: {exc}") from exc

    # -- writes -------------------------------------------------------------------------------

    def check_embedder(self, name: str, dim: int) -> None:
        """Remember the embedder on first use; refuse a different one later."""
        stored = self.stored_embedder()
        if stored is not None:
            if stored != name:
                raise embedder_mismatch(self.path, stored, name)
            return
        with self._write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO meta VALUES ('embedder', ?)",
                (json.dumps({"name": name, "dim": dim}),),
            )

    def stored_embedder(self) -> str | None:
        """The name of the embedder whose vectors the file holds; None before the first."""
        rows = self._read("SELECT value FROM meta WHERE key = 'embedder'")
        return str(json.loads(rows[0][0])["name"]) if rows else None

    def add(self, units: Sequence[NewUnit], *, revisions: Sequence[Revision] = ()) -> None:
        """Store all units and apply the revisions in one transaction."""
        now = time.time()
        with self._write() as conn:
            if revisions:
                _revise(conn, revisions, now)
            _insert(conn, units, now)

    def update(
        self, new: NewVersion, *, tenant: str, user_id: str | None = None, revisions: Sequence[Revision] = ()
    ) -> MemoryUnit:
        """Write a new version and apply ``revisions``; the history table keeps every earlier text."""
        with self._write() as conn:
            current = self._get_in(conn, new.unit_id, tenant, user_id)
            change = versions.updated(current, text=new.text, metadata=new.metadata)
            rid = conn.execute(
                "UPDATE units SET text = ?, metadata = ?, version = ?, unembedded = 0 "
                "WHERE id = ? AND tenant = ? RETURNING rid",
                (change.unit.text, dump_json(change.unit.metadata), change.unit.version, new.unit_id, tenant),
            ).fetchone()[0]
            _put_vectors(conn, current.scope, {rid: new.vector})
            before = fts_index.context(conn, rid)
            fts_index.remove(conn, [rid])
            fts_index.add(conn, [(rid, current.scope, new.lexical_text, before)])
            # Entries that left the text unchanged keep none (see SAME_TEXT): the text they stood
            # for is about to change, so they get it now.
            conn.execute(
                "UPDATE history SET text = ? WHERE unit_id = ? AND text = ?",
                (current.text, new.unit_id, SAME_TEXT),
            )
            _record(conn, [change.record], time.time())
            _revise(conn, revisions, time.time())
            return self._get_in(conn, new.unit_id, tenant, None)

    def delete(
        self, unit_id: str, *, tenant: str, user_id: str | None = None, revisions: Sequence[Revision] = ()
    ) -> MemoryUnit:
        """Soft-delete: drop from the lexical index, keep the row, record the deletion, and apply
        ``revisions``."""
        with self._write() as conn:
            current = self._get_in(conn, unit_id, tenant, user_id)
            change = versions.deleted(current)
            if change is None:
                return current
            rid = conn.execute(
                "UPDATE units SET status = 'deleted' WHERE id = ? AND tenant = ? RETURNING rid",
                (unit_id, tenant),
            ).fetchone()[0]
            fts_index.remove(conn, [rid])
            _drop_vectors(conn, current.scope, [rid])
            _record(conn, [change.record], time.time())
            _revise(conn, revisions, time.time())
            return self._get_in(conn, unit_id, tenant, None)

    def forget(self, tenant: str, user_id: str, *, compact: bool = False) -> int:
        """Erase every row of the user, history included, and their bytes from the files.

        Deleted rows are zeroed (``secure_delete``); FTS5 only marks deletions, so its index is
        merged into one new segment (``optimize``) and the old segments are freed, hence zeroed;
        the WAL, which still holds earlier page images, is checkpointed and truncated. ``compact``
        also runs VACUUM, needed once for a file written before ``secure_delete`` was on. An
        audit record keeps the count only. See docs/forget.md.
        """
        with self._write() as conn:
            n = self._erase(conn, Scope(user_id=user_id, tenant=tenant), "", ())
            conn.execute("DELETE FROM lessons WHERE tenant = ? AND target = ?", (tenant, user_id))
            conn.execute("INSERT INTO units_fts (units_fts) VALUES ('optimize')")
            audit = versions.forgotten(tenant, user_id, n)
            conn.execute(
                "INSERT INTO audit (at, op, tenant, user_id, detail) VALUES (?, ?, ?, ?, ?)",
                (time.time(), audit.op, audit.tenant, audit.user_id, json.dumps(audit.detail)),
            )
        with self._lock:
            _scrub_files(self._conn, self.path, vacuum=compact)
        return int(n)

    def replace_derived(self, scope: Scope, replacement: Replacement) -> int:
        """Erase the derived units ``replacement.drop`` names, store its ``units`` and apply its
        ``revisions``, in one transaction; return how many went."""
        with self._write() as conn:
            narrower = "AND kind != 'turn' AND id IN (SELECT value FROM json_each(?))"
            owner = Scope(user_id=scope.user_id, tenant=scope.tenant)
            n = self._erase(conn, owner, narrower, (json.dumps(list(replacement.drop)),))
            _revise(conn, replacement.revisions, time.time())
            _insert(conn, replacement.units, time.time())
            return n

    def _erase(self, conn: sqlite3.Connection, owner: Scope, narrower: str, params: Sequence[Any]) -> int:
        """Delete the owner's units (``narrower`` SQL selects among them), everything kept of
        them with them; return how many."""
        where = f"tenant = ? AND user_id = ? {narrower}"
        params = (owner.tenant, owner.user_id, *params)
        rids = [r[0] for r in conn.execute(f"SELECT rid FROM units WHERE {where}", params)]
        fts_index.remove(conn, rids)
        conn.execute(f"DELETE FROM history WHERE unit_id IN (SELECT id FROM units WHERE {where})", params)
        _drop_vectors(conn, owner, rids)
        conn.execute(f"DELETE FROM units WHERE {where}", params)
        self._vectors.drop(owner.tenant, owner.user_id)
        self._postings.drop(owner.tenant, owner.user_id)
        self._archived.drop(owner.tenant, owner.user_id)
        return len(rids)

    # -- reads --------------------------------------------------------------------------------

    def existing_refs(self, scope: Scope, refs: Sequence[str]) -> set[str]:
        """Return which caller turn ids the user already has (makes re-imports idempotent)."""
        found: set[str] = set()
        refs = list(dict.fromkeys(refs))
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                f"SELECT ref FROM units WHERE tenant = ? AND user_id = ? AND kind = 'turn' "
                f"AND ref IN ({marks})",
                (scope.tenant, scope.user_id, *chunk),
            )
            found.update(r[0] for r in rows)
        return found

    def get(self, unit_id: str, *, tenant: str, user_id: str | None = None) -> MemoryUnit:
        """Return the unit, deleted ones included; NotFoundError when absent or out of scope."""
        with self._lock:
            return self._get_in(self._conn, unit_id, tenant, user_id)

    def _get_in(self, conn: sqlite3.Connection, unit_id: str, tenant: str, user_id: str | None) -> MemoryUnit:
        if not isinstance(unit_id, str):
            raise NotFoundError(f"unit id must be a string, got {type(unit_id).__name__}")
        owner, params = _owner_sql(tenant, user_id)
        row = conn.execute(
            f"SELECT {UNIT_COLUMNS} FROM units WHERE id = ? AND {owner}", (unit_id, *params)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"no memory unit with id {unit_id!r}{_for_owner(user_id)}")
        return unit_from_row(row, _from_epoch)

    def get_many(
        self, unit_ids: Sequence[str], *, tenant: str, user_id: str | None = None
    ) -> dict[str, MemoryUnit]:
        """Return the tenant's (and user's) units among the ids."""
        out: dict[str, MemoryUnit] = {}
        owner, params = _owner_sql(tenant, user_id)
        # Looked up by id: "+" keeps the planner off the owner index, which would read every row
        # of a long history to find a hundred.
        owner = owner.replace("tenant", "+tenant").replace("user_id", "+user_id")
        ids = list(dict.fromkeys(unit_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._read(
                f"SELECT {UNIT_COLUMNS} FROM units WHERE id IN ({marks}) AND {owner}", (*chunk, *params)
            )
            for row in rows:
                unit = unit_from_row(row, _from_epoch)
                out[unit.id] = unit
        return out

    def history(self, unit_id: str, *, tenant: str, user_id: str | None = None) -> list[HistoryEntry]:
        """Return every recorded change of the unit, oldest first."""
        self.get(unit_id, tenant=tenant, user_id=user_id)
        rows = self._read(
            "SELECT h.unit_id, h.version, h.op, iif(h.text = ?, u.text, h.text), h.at, h.metadata "
            "FROM history h JOIN units u ON u.id = h.unit_id WHERE h.unit_id = ? AND u.tenant = ? "
            "ORDER BY h.seq",
            (SAME_TEXT, unit_id, tenant),
        )
        return [
            HistoryEntry(r[0], r[1], r[2], r[3], _from_epoch(r[4]) or _epoch0(), json.loads(r[5]))
            for r in rows
        ]

    def search_lexical(
        self, where: UnitFilter, terms: Sequence[str], limit: int, *, context_weight: float = 0.0
    ) -> list[tuple[str, float]]:
        """BM25 over the user's units (FTS5's formula, the user's statistics), scored in numpy from
        postings kept in memory: owner-prefixed words name that user's units only."""
        words = list(dict.fromkeys(owned_words(where.scope, " ".join(terms)).split()))
        if not words:
            return []
        tokens = [
            (token, word) for word, found in zip(words, index_terms(words), strict=True) for token in found
        ]
        with self._lock:
            try:
                rids, scores = self._postings.scores(
                    self._conn, where.scope.tenant, where.scope.user_id, tokens, float(context_weight)
                )
                rids, scores = self._archived.left_out(self._conn, where, rids, scores)
                return best_of(self._conn, rids, scores, limit, self._narrower(where))
            except sqlite3.Error as exc:
                raise StoreError(f"read from {self.path} failed: {exc}") from exc

    def word_counts(self, where: UnitFilter, words: Sequence[str]) -> WordCounts:
        """How many of the user's indexed units hold each word in their own words."""
        tokens = word_tokens(where.scope, words)
        with self._lock:
            try:
                units, counts = self._postings.counts(
                    self._conn,
                    where.scope.tenant,
                    where.scope.user_id,
                    [pair for found in tokens.values() for pair in found],
                )
            except sqlite3.Error as exc:
                raise StoreError(f"read from {self.path} failed: {exc}") from exc
        return WordCounts(units, word_counts_from(tokens, counts))

    def newest_with_words(self, where: UnitFilter, words: Sequence[str], per_word: int) -> list[str]:
        """For each word, the newest ``per_word`` units holding it that ``where`` selects: FTS5 walks
        the word's postings from the newest row down, at most ``NEWEST_WALK`` a unit wanted."""
        clauses, params = _filter_sql(where, prefix="u.")
        sql = (
            "SELECT u.id FROM (SELECT rowid FROM units_fts WHERE units_fts MATCH ? "
            "ORDER BY rowid DESC LIMIT ?) f JOIN units u ON u.rid = f.rowid "
            f"WHERE {clauses} ORDER BY f.rowid DESC LIMIT ?"
        )
        found: dict[str, None] = {}
        with self._lock:
            for word in dict.fromkeys(owned_words(where.scope, " ".join(words)).split()):
                walk = (f"body : {word}", NEWEST_WALK * per_word)
                for row in self._read(sql, (*walk, *params, per_word)):
                    found[row[0]] = None
        return list(found)

    def search_vector(self, where: UnitFilter, vector: Vectors, limit: int) -> list[tuple[str, float]]:
        """Exact cosine over the user's vectors, scored in numpy from the matrix kept in memory."""
        query = np.asarray(vector, dtype=np.float32).ravel()
        with self._lock:
            try:
                user = self._vectors.vectors(self._conn, where.scope.tenant, where.scope.user_id)
                if not len(user.rids):
                    return []
                if user.matrix.shape[1] != query.shape[0]:
                    raise StoreError(
                        f"{self.path} holds vectors of {user.matrix.shape[1]} dimensions, this query has "
                        f"{query.shape[0]}: {REEMBEDDED}"
                    )
                rids, scores = self._archived.left_out(self._conn, where, user.rids, user.matrix @ query)
                return best_of(self._conn, rids, scores, limit, self._narrower(where))
            except sqlite3.Error as exc:
                raise StoreError(f"read from {self.path} failed: {exc}") from exc

    @staticmethod
    def _narrower(where: UnitFilter) -> tuple[str, list[Any]] | None:
        """The SQL of a filter narrower than its owner (deleted units have neither vectors nor
        postings, and archived ones were left out, so the owner alone needs none)."""
        owner = Scope(user_id=where.scope.user_id, tenant=where.scope.tenant)
        owner_only = where in (UnitFilter(owner), UnitFilter(owner, include_archived=True))
        return None if owner_only else _filter_sql(where, prefix="")

    def unembedded(self, tenant: str, user_id: str | None, limit: int) -> list[MemoryUnit]:
        """Active units stored with an empty vector, oldest first."""
        owner, params = _owner_sql(tenant, user_id)
        rows = self._read(
            f"SELECT {UNIT_COLUMNS} FROM units WHERE {owner} AND unembedded = 1 "
            "AND status = 'active' ORDER BY rid LIMIT ?",
            (*params, limit),
        )
        return [unit_from_row(r, _from_epoch) for r in rows]

    def set_vectors(self, tenant: str, vectors: Mapping[str, Vectors]) -> None:
        """Fill in the vectors of units stored without one."""
        with self._write() as conn:
            by_owner: dict[str, dict[int, Vectors]] = {}
            for unit_id, vector in vectors.items():
                row = conn.execute(
                    "UPDATE units SET unembedded = 0 WHERE id = ? AND tenant = ? AND unembedded = 1 "
                    "RETURNING rid, user_id",
                    (unit_id, tenant),
                ).fetchone()
                if row is not None:
                    by_owner.setdefault(row[1], {})[row[0]] = vector
            for user_id, owned in by_owner.items():  # one change counted per user, not per vector
                _put_vectors(conn, Scope(user_id=user_id, tenant=tenant), owned)

    def recalled(self, tenant: str, recalls: Mapping[str, Recall]) -> None:
        """Count recalls into each unit's metadata, in place (``Store.recalled``)."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE units SET metadata = json_set(metadata, '$.recalled', json_object("
                "'times', coalesce(json_extract(metadata, '$.recalled.times'), 0) + ?, "
                "'last', max(coalesce(json_extract(metadata, '$.recalled.last'), ''), ?))) "
                "WHERE id = ? AND tenant = ? AND status <> 'deleted'",
                [(r.times, r.last.isoformat(), unit_id, tenant) for unit_id, r in recalls.items()],
            )

    def list_units(self, where: UnitFilter, *, limit: int | None = None, offset: int = 0) -> list[MemoryUnit]:
        """Return units in the order they were said (undated ones by when stored)."""
        clauses, params = _filter_sql(where, prefix="")
        sql = (
            f"SELECT {UNIT_COLUMNS} FROM units WHERE {clauses} "
            "ORDER BY coalesce(occurred_at, recorded_at), rid LIMIT ? OFFSET ?"
        )
        rows = self._read(sql, (*params, -1 if limit is None else limit, offset))
        return [unit_from_row(r, _from_epoch) for r in rows]

    def entity_mentions(self, where: UnitFilter) -> list[EntityMentions]:
        """Every entity key the selected units mention, with counts, times and a few texts, read
        in one pass over the user's mentions."""
        clauses, params = _filter_sql(where, prefix="u.")
        rows = self._read(
            "WITH m AS (SELECT je.value AS key, u.text AS text, u.rid AS rid, u.derived_from AS lineage, "
            "coalesce(u.valid_from, u.occurred_at, u.recorded_at) AS at "
            f"FROM units u, json_each(u.entities) je WHERE {clauses}), "
            "w AS (SELECT key, text, lineage, count(*) OVER k AS n, min(at) OVER k AS first, "
            "max(at) OVER k AS last, row_number() OVER (PARTITION BY key ORDER BY at DESC, rid DESC) AS r "
            "FROM m WINDOW k AS (PARTITION BY key)) "
            "SELECT key, n, first, last, text, (SELECT t.text FROM units t WHERE t.id = "
            "json_extract(w.lineage, '$[0]') AND t.tenant = ?) FROM w WHERE r <= ? ORDER BY key, r",
            (*params, where.scope.tenant, ENTITY_SAMPLES),
        )
        return collect_mentions(
            (key, n, _from_epoch(first) or _epoch0(), _from_epoch(last) or _epoch0(), text, said)
            for key, n, first, last, text, said in rows
        )

    def mentioning(self, where: UnitFilter, keys: Sequence[str], limit: int) -> list[MemoryUnit]:
        """The newest selected units whose entities hold one of ``keys``."""
        if not keys:
            return []
        clauses, params = _filter_sql(where, prefix="")
        marks = ",".join("?" * len(keys))
        rows = self._read(
            f"SELECT {UNIT_COLUMNS} FROM units WHERE {clauses} AND EXISTS (SELECT 1 FROM "
            f"json_each(units.entities) WHERE value IN ({marks})) "
            "ORDER BY coalesce(valid_from, occurred_at, recorded_at) DESC, rid DESC LIMIT ?",
            (*params, *keys, limit),
        )
        return [unit_from_row(r, _from_epoch) for r in rows]

    def speakers(self, where: UnitFilter) -> list[str]:
        """Distinct speakers of the active turns ``where`` selects.

        For a whole user (or some roles of theirs) they are read from the ``units_speakers`` index
        one distinct value at a time: a few index seeks, not a pass over every turn.
        """
        if self._narrower(dataclasses.replace(where, roles=None, kinds=None)) is not None:
            clauses, params = _filter_sql(dataclasses.replace(where, kinds=("turn",)), prefix="")
            rows = self._read(
                f"SELECT DISTINCT speaker FROM units WHERE {clauses} AND speaker IS NOT NULL", params
            )
            return [r[0] for r in rows]
        owner = (where.scope.tenant, where.scope.user_id)
        with self._lock:
            try:
                roles = where.roles or [*_distinct(self._conn, "role", owner, ""), None]
                return [
                    name
                    for role in dict.fromkeys(roles)
                    for name in _distinct(self._conn, "speaker", (*owner, role), " AND role IS ?")
                ]
            except sqlite3.Error as exc:
                raise StoreError(f"read from {self.path} failed: {exc}") from exc

    def count(self, where: UnitFilter, *, at_most: int | None = None) -> int:
        """Count the active units ``where`` selects, up to ``at_most``."""
        clauses, params = _filter_sql(where, prefix="")
        sql = f"SELECT count(*) FROM (SELECT 1 FROM units WHERE {clauses} LIMIT ?)"
        return int(self._read(sql, (*params, -1 if at_most is None else at_most))[0][0])

    def users(self, tenant: str) -> list[str]:
        """The ids of the tenant's users that have units, in order, by index seeks."""
        step = "SELECT min(user_id) FROM units WHERE tenant = ? AND user_id > ?"
        found: list[str] = []
        [(user,)] = self._read("SELECT min(user_id) FROM units WHERE tenant = ?", (tenant,))
        while user is not None:
            found.append(user)
            [(user,)] = self._read(step, (tenant, user))
        return found

    def stats(self, tenant: str, user_id: str | None) -> Stats:
        """Count units by kind, deleted units, users and sessions; size the rows in scope.

        ``bytes_on_disk`` is the size of the scope's rows and vectors, not of the file: a tenant
        of a shared server learns nothing about the others from it (as on PostgreSQL).
        """
        where, params = "tenant = ?", [tenant]
        if user_id is not None:
            where += " AND user_id = ?"
            params.append(user_id)
        by_kind = dict(
            self._read(
                f"SELECT kind, count(*) FROM units WHERE {where} AND status = 'active' GROUP BY kind",
                params,
            )
        )
        deleted, archived, users, sessions, unembedded, row_bytes = self._read(
            f"SELECT sum(status = 'deleted'), sum(status = 'archived'), count(DISTINCT user_id), "
            f"count(DISTINCT user_id || '/' || session_id), "
            f"sum(status = 'active' AND unembedded = 1), sum({_ROW_BYTES}) FROM units WHERE {where}",
            params,
        )[0]
        [(vector_bytes,)] = self._read(
            f"SELECT sum(length(vector)) FROM vectors WHERE owner IN (SELECT id FROM owners WHERE {where})",
            params,
        )
        size = int(row_bytes or 0) + int(vector_bytes or 0)
        return Stats(
            units_by_kind={str(k): int(v) for k, v in by_kind.items()},
            deleted=int(deleted or 0),
            archived=int(archived or 0),
            users=int(users or 0),
            sessions=int(sessions or 0),
            bytes_on_disk=size,
            unembedded=int(unembedded or 0),
        )

    def add_lesson(self, tenant: str, lesson: Lesson) -> None:
        """Keep a lesson from a confirmed attack; forgetting its target erases it."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO lessons (tenant, target, unit_id, source, words, at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    tenant,
                    lesson.target,
                    lesson.unit_id,
                    lesson.source,
                    " ".join(lesson.words),
                    lesson.at.timestamp(),
                ),
            )

    def lessons(self, tenant: str, limit: int) -> list[Lesson]:
        """The tenant's newest ``limit`` lessons, newest first."""
        rows = self._read(
            "SELECT words, source, target, unit_id, at FROM lessons WHERE tenant = ? "
            "ORDER BY seq DESC LIMIT ?",
            (tenant, limit),
        )
        return [
            Lesson(tuple(w.split()), src, target, uid, _from_epoch(at) or _epoch0())
            for w, src, target, uid, at in rows
        ]

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (for accurate size figures and backups)."""
        with self._lock:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def file_bytes(self) -> int:
        """The file's size with the WAL folded in: everything the store holds, indexes included."""
        self.checkpoint()
        return os.path.getsize(self.path)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()

    # -- re-embedding: the SQL is in sqlite_reembed ----------------------------------------

    def reembed_begin(self, name: str, dim: int) -> ReembedState:
        """Stage vectors for embedder ``name``, keeping those staged for it, dropping any other's."""
        with self._write() as conn:
            return sqlite_reembed.begin(conn, name, dim)

    def reembed_pending(self, tenant: str, limit: int, *, after: str | None = None) -> list[MemoryUnit]:
        """The tenant's next active units without a vector staged for their version."""
        return [
            unit_from_row(r, _from_epoch)
            for r in self._read(*sqlite_reembed.pending_sql(tenant, limit, after))
        ]

    def reembed_stage(self, units: Sequence[MemoryUnit], vectors: Vectors) -> None:
        """Stage the units' new vectors, out of every search's sight."""
        with self._write() as conn:
            sqlite_reembed.stage(conn, units, vectors)

    def reembed_swap(self, name: str, dim: int, embed: Callable[[Sequence[MemoryUnit]], Vectors]) -> int:
        """Embed what is unstaged, then swap the staged vectors and embedder ``name`` in, at once."""
        with self._write() as conn:
            return sqlite_reembed.swap(conn, name, dim, embed, _from_epoch)

    def reembed_discard(self) -> None:
        """Drop the staged vectors."""
        with self._write() as conn:
            sqlite_reembed.discard(conn)


def _check_file_path(path: str) -> None:
    """StoreError, before SQLite sees it, for a location that cannot be an Eidetica file."""
    if path.startswith("file:"):
        raise StoreError(f"{path!r} is an SQLite URI; give a plain file path such as memory.db")
    target = Path(path).expanduser()
    if target.is_dir():
        raise StoreError(f"{path} is a folder; give a file in it, such as {target / 'memory.db'}")
    parent = target.resolve().parent
    if not parent.is_dir():
        raise StoreError(f"cannot create {path}: folder {parent} does not exist")


def _open_hint(exc: sqlite3.Error) -> str:
    """What to check when SQLite refuses to open or prepare a file, from its message."""
    text = str(exc)
    if "locked" in text:
        return f"Another process kept it locked for {BUSY_TIMEOUT_MS // 1000} s."
    if "readonly" in text or "unable to open" in text:
        return (
            "Check that this user may write the file and its folder: SQLite writes its journal "
            "(-wal and -shm files) beside it, even to read."
        )
    return "Is it an SQLite file written by Eidetica?"


def _retry_while_locked(action: Callable[[], None]) -> None:
    """Run ``action``, again while another connection holds the lock, for up to the busy timeout.

    SQLite answers "database is locked" at once, without waiting out the busy timeout, where
    waiting could deadlock: two processes opening a fresh file together both switch it to WAL
    and create its tables. Every step of opening is idempotent, so trying again is safe.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.01
    while True:
        try:
            action()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause * (1 + random.random()))
        pause = min(pause * 2, 0.5)


def _refuse_foreign(conn: sqlite3.Connection, path: str) -> None:
    """Leave another application's SQLite file untouched: no WAL switch, no tables added."""
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    if tables and "migrations" not in tables:
        raise StoreError(
            f"{path} is an SQLite database of another application (tables: "
            f"{', '.join(sorted(tables)[:5])}); give Eidetica a file of its own"
        )


def _owner_sql(tenant: str, user_id: str | None) -> tuple[str, list[Any]]:
    """The predicate confining a by-id statement to one tenant (and user, when given)."""
    if user_id is None:
        return "tenant = ?", [tenant]
    return "tenant = ? AND user_id = ?", [tenant, user_id]


def _for_owner(user_id: str | None) -> str:
    return "" if user_id is None else f" for user {user_id!r}"


def _filter_sql(where: UnitFilter, *, prefix: str) -> tuple[str, list[Any]]:
    scope = where.scope
    clauses = [f"{prefix}tenant = ?", f"{prefix}user_id = ?"]
    params: list[Any] = [scope.tenant, scope.user_id]
    if status := status_sql(f"{prefix}status", where):
        clauses.append(status)
    bounds = (
        ("agent_id = ?", scope.agent_id),
        ("session_id = ?", scope.session_id),
        ("occurred_at >= ?", _epoch(where.since)),
        ("occurred_at < ?", _epoch(where.until)),
    )
    for test, value in bounds:  # each applies when it has a value
        if value is not None:
            clauses.append(prefix + test)
            params.append(value)
    if where.kinds:
        clauses.append(f"{prefix}kind IN ({','.join('?' * len(where.kinds))})")
        params.extend(where.kinds)
    if where.as_of is not None:
        moment = where.as_of.timestamp()
        clauses.append(
            f"coalesce({prefix}valid_from, {prefix}occurred_at, {prefix}recorded_at) <= ? "
            f"AND ({prefix}valid_to IS NULL OR {prefix}valid_to > ?)"
        )
        params.extend([moment, moment])
    if where.derived_from is not None:
        clauses.append(f"{prefix}derived_from LIKE ? ESCAPE '\\'")
        params.append(lineage_pattern(where.derived_from))
    if where.roles:
        clauses.append(f"{prefix}role IN ({','.join('?' * len(where.roles))})")
        params.extend(where.roles)
    if where.metadata:
        tagged, tags = sqlite_clauses(f"{prefix}metadata", where.metadata)
        clauses.extend(tagged)
        params.extend(tags)
    if where.flagged is not None:
        held, key = sqlite_holds(f"{prefix}metadata", where.flagged)
        clauses.append(held)
        params.extend(key)
    if where.without_flag is not None:
        held, key = sqlite_holds(f"{prefix}metadata", where.without_flag)
        clauses.append(f"NOT ({held})")
        params.extend(key)
    return " AND ".join(clauses), params


def _insert(conn: sqlite3.Connection, units: Sequence[NewUnit], now: float) -> None:
    """Insert units with their index entries and first history rows (inside a write transaction)."""
    if not units:
        return
    # The write lock is held, so row ids after the highest ever given are ours to assign; knowing
    # them up front lets every table be filled with executemany. None is given twice, not even
    # after the rows holding the highest were erased: the caches read rows above theirs as new.
    first = conn.execute(
        "SELECT max(coalesce((SELECT max(rid) FROM units), 0), "
        "coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'last_rid'), 0)) + 1"
    ).fetchone()[0]
    conn.execute(
        "INSERT INTO meta VALUES ('last_rid', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        (str(first + len(units) - 1),),
    )
    conn.executemany(
        f"INSERT INTO units (rid, {UNIT_COLUMNS}, unembedded) "
        f"VALUES ({','.join('?' * (UNIT_COLUMNS.count(',') + 3))})",
        [(first + i, *unit_row(n.unit, _epoch), n.vector is None) for i, n in enumerate(units)],
    )
    # Appended above every stored row id: caches read them as appends.
    owners = {
        Scope(user_id=n.unit.scope.user_id, tenant=n.unit.scope.tenant): first + i
        for i, n in enumerate(units)
    }
    numbers = {owner: owner_changes.appended(conn, owner, rid) for owner, rid in owners.items()}
    embedded = [(first + i, n.unit.scope, n.vector) for i, n in enumerate(units) if n.vector is not None]
    blobs = vector_codec.encode_all([vector for _, _, vector in embedded])
    conn.executemany(
        "INSERT INTO vectors VALUES (?, ?, ?)",
        [
            (numbers[Scope(user_id=scope.user_id, tenant=scope.tenant)], rid, blob)
            for (rid, scope, _), blob in zip(embedded, blobs, strict=True)
        ],
    )
    # A deleted unit (an import of an export brings them) is kept out of the index, as a deletion does.
    fts_index.add(
        conn,
        [
            (first + i, n.unit.scope, n.lexical_text, n.lexical_context)
            for i, n in enumerate(units)
            if n.unit.status != "deleted"
        ],
    )
    _record(conn, [r for n in units for r in versions.added(n.unit, n.history)], now)


def _put_vectors(conn: sqlite3.Connection, owner: Scope, vectors: Mapping[int, Vectors]) -> None:
    """Store (or replace) vectors of the owner's units by row id: a change, not an append."""
    blobs = vector_codec.encode_all(list(vectors.values()))
    number = owner_changes.changed(conn, owner)
    conn.executemany(
        "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
        [(number, rid, blob) for rid, blob in zip(vectors, blobs, strict=True)],
    )


def _drop_vectors(conn: sqlite3.Connection, owner: Scope, rids: Sequence[int]) -> None:
    """Remove the vectors of the owner's units (deleted or erased ones) by row id."""
    number = owner_changes.changed(conn, owner)
    conn.executemany("DELETE FROM vectors WHERE owner = ? AND rid = ?", [(number, rid) for rid in rids])


def _distinct(conn: sqlite3.Connection, column: str, params: Sequence[Any], narrower: str) -> list[Any]:
    """Distinct non-null values of ``column`` among a user's active turns, by index seeks."""
    base = (
        f"SELECT min({column}) FROM units WHERE tenant = ? AND user_id = ? AND kind = 'turn' "
        f"AND status = 'active'{narrower}"
    )
    values: list[Any] = []
    value = conn.execute(base, params).fetchone()[0]
    while value is not None:
        values.append(value)
        value = conn.execute(f"{base} AND {column} > ?", (*params, value)).fetchone()[0]
    return values


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def _from_epoch(value: float | None) -> datetime | None:
    """The stored time as a UTC datetime; a time past what datetime holds (written before times
    were bounded) reads as the nearest one it holds, so its user stays readable."""
    if value is None:
        return None
    return datetime.fromtimestamp(min(max(value, _EARLIEST_EPOCH), _LATEST_EPOCH), tz=UTC)


_EARLIEST_EPOCH = datetime(1, 1, 2, tzinfo=UTC).timestamp()
_LATEST_EPOCH = datetime(9999, 12, 30, tzinfo=UTC).timestamp()


def _epoch0() -> datetime:
    return datetime.fromtimestamp(0, tz=UTC)


def _revise(conn: sqlite3.Connection, revisions: Sequence[Revision], now: float) -> None:
    """Apply changes to stored units, their index entries, and record each in ``history``."""
    if not revisions:
        return
    update = revision_update("units", "?")
    plain, guarded = versions.split_guarded(revisions)
    conn.executemany(update, [revision_row(r, _epoch) for r in plain])
    revisions = plain + [
        r
        for r, before in guarded
        if conn.execute(
            f"{update} AND version = ? AND status = ?", (*revision_row(r, _epoch), *before)
        ).rowcount
    ]
    faded = {(r.unit.scope.tenant, r.unit.scope.user_id) for r in revisions if r.op in ("archive", "restore")}
    for tenant, user_id in faded:  # the caches read which units are archived again
        owner_changes.changed(conn, Scope(user_id=user_id, tenant=tenant))
    for r in revisions:
        if r.unit.status == "deleted" or r.lexical is not None:
            row = conn.execute(
                "SELECT rid FROM units WHERE id = ? AND tenant = ?", (r.unit.id, r.unit.scope.tenant)
            ).fetchone()
            if row is None:
                continue
            fts_index.remove(conn, [row[0]])
            if r.unit.status == "deleted":
                _drop_vectors(conn, r.unit.scope, [row[0]])
            else:
                owner_changes.changed(conn, r.unit.scope)
            if r.unit.status != "deleted" and r.lexical is not None:
                fts_index.add(conn, [(row[0], r.unit.scope, *r.lexical)])
    _record(conn, versions.revised(revisions), now)


def _record(conn: sqlite3.Connection, records: Sequence[versions.HistoryRecord], at: float) -> None:
    """Write history entries; one that left the unit's text as it was stores none (SAME_TEXT)."""
    conn.executemany(
        # Entries are numbered per unit: the table is clustered by (unit_id, seq), so a unit's
        # history is one range and needs no index of its own.
        "INSERT INTO history (unit_id, seq, version, op, text, at, metadata) VALUES "
        "(?1, (SELECT coalesce(max(seq), 0) + 1 FROM history WHERE unit_id = ?1), ?2, ?3, ?4, ?5, ?6)",
        [
            (
                r.unit_id,
                r.version,
                r.op,
                r.text if r.sets_text else SAME_TEXT,
                at if r.at is None else r.at.timestamp(),
                dump_json(r.metadata),
            )
            for r in records
        ],
    )


def _scrub_files(conn: sqlite3.Connection, path: str, *, vacuum: bool) -> None:
    """Rewrite the file if asked (VACUUM), then fold the WAL into it and truncate the WAL to 0 bytes.

    The WAL keeps earlier images of the pages a forget zeroed. A reader in another connection may
    still need them, so the checkpoint waits for readers as writes wait for writers (the busy
    timeout); if one holds its transaction longer, the rows are gone but those bytes are not, and
    the StoreError says so.
    """
    try:
        if vacuum:
            conn.execute("VACUUM")
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    except sqlite3.Error as exc:
        raise StoreError(
            f"the rows are deleted from {path}, but scrubbing the file failed ({exc}); "
            "call forget again to retry"
        ) from exc
    if busy:
        raise StoreError(
            f"the rows are deleted from {path}, but another connection held a read transaction "
            f"open for over {BUSY_TIMEOUT_MS / 1000:g} s, so earlier copies of their pages remain in "
            f"{path}-wal; call forget again once that reader has finished (it erases them then)"
        )
