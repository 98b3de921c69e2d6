"""Forget erases a user's words from the files themselves, not only from query results.

Each test stores invented words for two users, forgets one and reads the raw bytes of the database
files: none of the forgotten user's words may be left, in any form the stores write them (as said,
lowercased, porter-stemmed, and as the owner-prefixed index terms of ``storage.terms``), while the
other user's words are still found, which proves the scan sees words where they are. What each
backend guarantees, and what it cannot, is in docs/forget.md.
"""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

from eidetica import Memory, StoreError
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.model import Lesson, Scope
from eidetica.storage import sqlite as sqlite_store
from eidetica.storage.terms import index_terms, owned_words

TENANT = "default"
#: Invented words, so that a hit can only be the user's own text. They start with letters no other
#: word of their user starts with: FTS5 stores a term after the one before it on its page as the
#: suffix they do not share ("march" then "marzipan" leaves "zipan"), which a scan would miss.
WORDS = {
    "alice": [
        "Quokkaplexes",
        "Velociraptoring",
        "Hornswoggled",
        "Kerfufflement",
        "Gazpachorium",
        "Pterodactyloid",
    ],
    "bob": ["Brontosaurial", "Cantankerish", "Rhubarbarian", "Yodelitude", "Xylophonists", "Ebullientish"],
}


def _fill(memory: Memory) -> None:
    """Give both users turns, derived units, an update and a deletion, interleaved, one add at a
    time (so FTS5 writes and merges many segments)."""
    for i in range(12):
        for user, w in WORDS.items():
            memory.add(f"We talked about the weather on day {i} and about {w[i % 5]}.", user_id=user)
    for user, w in WORDS.items():
        memory.add(f"I adopted a {w[0]} named {w[1]} last spring.", user_id=user)
        memory.add(f"My favourite dessert is {w[2]}.", user_id=user)
        memory.add(f"I am allergic to {w[3]} and I love {w[4]}.", user_id=user)
    for user, w in WORDS.items():
        derived = [u for u in memory.list(user_id=user) if u.kind != "turn"]
        assert len(derived) >= 2, "the rule extractor derived too little to update and delete"
        memory.update(derived[0].id, f"The user is no longer fond of {w[5]} or {w[0]}.", user_id=user)
        memory.update(derived[0].id, f"The user {w[5]} again.", user_id=user)
        memory.delete(derived[1].id, user_id=user)
    for user, w in WORDS.items():  # a lesson from an attack written into the user's memory
        words = tuple(sorted(word.lower() for word in w))
        memory.store.add_lesson(TENANT, Lesson(words, "tool", user, f"{user}-attack", datetime.now(UTC)))


def _forms(user: str) -> set[str]:
    """Every form in which a store may write the user's words."""
    scope = Scope(user, TENANT)
    words = WORDS[user]
    forms = set(words) | {w.lower() for w in words}
    forms |= {t for ts in index_terms([w.lower() for w in words]) for t in ts}  # porter stems
    forms |= {owned_words(scope, w) for w in words}  # as the SQLite content table holds them
    forms |= {t for ts in index_terms([owned_words(scope, w) for w in words]) for t in ts}
    forms.add(owned_words(scope, "w")[:-1])  # the owner prefix alone
    return forms


def _found(data: bytes, forms: set[str]) -> set[str]:
    return {f for f in forms if f.encode() in data}


# -- SQLite ----------------------------------------------------------------------------------------


def _sqlite_bytes(path: Path) -> bytes:
    """The database file, its WAL and its shared-memory index, as on disk."""
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def _rows(path: Path, sql: str) -> list[Any]:
    """Run a query on a connection of its own (it reads what the store committed)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def filled(tmp_path: Path, embedder: WordLlamaEmbedder) -> Path:
    path = tmp_path / "memory.db"
    with Memory(path, embedder=embedder) as memory:
        _fill(memory)
    return path


def test_sqlite_forget_leaves_no_trace_in_db_wal_or_shm(filled: Path, embedder: WordLlamaEmbedder) -> None:
    with Memory(filled, embedder=embedder) as memory:
        stems = {t for ts in index_terms([w.lower() for w in WORDS["alice"]]) for t in ts}
        fts = b"".join(r[0] for r in _rows(filled, "SELECT block FROM units_fts_data"))
        assert _found(fts, stems) == stems, "the FTS5 pages must hold the stems to look for"
        versions = _rows(
            filled, "SELECT count(*) FROM history JOIN units ON units.id = unit_id AND user_id = 'alice'"
        )
        units = memory.stats(user_id="alice")
        assert versions[0][0] > sum(units.units_by_kind.values()), "history must hold several versions"

        forgotten = memory.forget(user_id="alice")

        assert forgotten == sum(units.units_by_kind.values()) + units.deleted
        assert _found(_sqlite_bytes(filled), _forms("alice")) == set()
        assert Path(f"{filled}-wal").stat().st_size == 0  # truncated, not just checkpointed
        assert set(WORDS["bob"]) <= _found(_sqlite_bytes(filled), _forms("bob"))
        assert _rows(filled, "SELECT count(*) FROM history WHERE unit_id NOT IN (SELECT id FROM units)") == [
            (0,)
        ]
        audit = _rows(filled, "SELECT op, user_id, detail FROM audit")
        assert audit == [("forget", "alice", f'{{"units": {forgotten}}}')]
        assert memory.list(user_id="alice") == []
        hits = memory.search("Which dessert do I like?", user_id="bob")
        assert any("Rhubarbarian" in h.unit.text for h in hits)
    assert _found(_sqlite_bytes(filled), _forms("alice")) == set()


def test_sqlite_compact_scrubs_a_file_written_without_secure_delete(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    """A file written before secure_delete was switched on keeps freed bytes; VACUUM drops them."""
    path = tmp_path / "old.db"
    with Memory(path, embedder=embedder) as memory:
        memory.store._conn.execute("PRAGMA secure_delete = OFF")  # as files written before it was on
        _fill(memory)
    with Memory(path, embedder=embedder) as memory:
        memory.store.forget(TENANT, "alice", compact=True)
        assert _found(_sqlite_bytes(path), _forms("alice")) == set()
        assert set(WORDS["bob"]) <= _found(_sqlite_bytes(path), _forms("bob"))
        assert memory.search("Which dessert do I like?", user_id="bob")


@pytest.fixture
def reader(filled: Path) -> Iterator[sqlite3.Connection]:
    """Another connection inside a read transaction that has read the user's rows."""
    conn = sqlite3.connect(filled, isolation_level=None, check_same_thread=False)
    conn.execute("BEGIN")
    assert conn.execute("SELECT count(*) FROM units WHERE user_id = 'alice'").fetchone()[0] > 0
    yield conn
    conn.close()


@contextmanager
def _commits_after(seconds: float, conn: Any) -> Iterator[None]:
    """Let ``conn`` end its transaction from another thread while the block runs."""
    timer = threading.Timer(seconds, conn.execute, ("COMMIT",))
    timer.start()
    try:
        yield
    finally:
        timer.join()


def test_sqlite_forget_waits_for_a_reader_then_erases(
    filled: Path, reader: sqlite3.Connection, embedder: WordLlamaEmbedder
) -> None:
    with Memory(filled, embedder=embedder) as memory, _commits_after(0.5, reader):
        start = time.monotonic()
        memory.forget(user_id="alice")
        assert time.monotonic() - start >= 0.4
        assert _found(_sqlite_bytes(filled), _forms("alice")) == set()


def test_sqlite_forget_reports_a_reader_that_outlasts_the_wait(
    filled: Path, reader: sqlite3.Connection, embedder: WordLlamaEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_store, "BUSY_TIMEOUT_MS", 300)
    with Memory(filled, embedder=embedder) as memory:
        with pytest.raises(StoreError, match=r"read transaction.*call forget again"):
            memory.forget(user_id="alice")
        assert memory.list(user_id="alice") == []  # the rows went; their old pages did not
        assert _found(_sqlite_bytes(filled), _forms("alice"))
        reader.execute("COMMIT")
        assert memory.forget(user_id="alice") == 0
        assert _found(_sqlite_bytes(filled), _forms("alice")) == set()


# -- PostgreSQL ------------------------------------------------------------------------------------

#: Every relation of the store's schema and ``pg_statistic``, with their TOAST tables and indexes.
_RELATIONS = """
WITH own AS (
    SELECT oid FROM pg_class
    WHERE relnamespace = 'eidetica'::regnamespace OR oid = 'pg_catalog.pg_statistic'::regclass
), heaps AS (
    SELECT oid FROM own
    UNION SELECT reltoastrelid FROM pg_class WHERE oid IN (SELECT oid FROM own) AND reltoastrelid <> 0
), rels AS (
    SELECT oid FROM heaps UNION SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM heaps)
)
SELECT oid::regclass::text, pg_relation_filepath(oid) FROM rels WHERE pg_relation_filepath(oid) IS NOT NULL
"""


def _admin(url: str) -> Any:
    psycopg = pytest.importorskip("psycopg")
    return psycopg.connect(url, autocommit=True)


def _pg_files(url: str) -> dict[str, list[Path]]:
    """The files of each relation (every fork and segment) after a CHECKPOINT wrote them out."""
    with _admin(url) as conn:
        conn.execute("CHECKPOINT")
        datadir = Path(conn.execute("SHOW data_directory").fetchone()[0])
        if not datadir.is_dir():
            pytest.skip(f"the server's data directory {datadir} is not on this machine")
        out = {}
        for name, rel in conn.execute(_RELATIONS).fetchall():
            base = datadir / rel
            out[name] = [base, *base.parent.glob(base.name + ".*"), *base.parent.glob(base.name + "_*")]
        return out


def _pg_bytes(url: str) -> dict[str, bytes]:
    return {
        name: b"".join(f.read_bytes() for f in files if f.is_file()) for name, files in _pg_files(url).items()
    }


def _pg_found(url: str, user: str) -> dict[str, set[str]]:
    return {name: hits for name, data in _pg_bytes(url).items() if (hits := _found(data, _forms(user)))}


@pytest.fixture
def pg_filled(postgres_url: str, embedder: WordLlamaEmbedder) -> str:
    with Memory(postgres_url, embedder=embedder) as memory:
        _fill(memory)
    with _admin(postgres_url) as conn:
        conn.execute("ANALYZE")  # as autovacuum would: the statistics now sample the users' words
    return postgres_url


def test_postgres_compact_forget_leaves_no_trace_in_table_files(
    pg_filled: str, embedder: WordLlamaEmbedder
) -> None:
    before = _pg_found(pg_filled, "alice")
    for table in ("units", "history", "postings", "postings_pkey", "lessons", "pg_statistic"):
        assert any(name.endswith(table) for name in before), f"alice's words must be in {table} first"
    old_files = {f for files in _pg_files(pg_filled).values() for f in files}
    with Memory(pg_filled, embedder=embedder) as memory:
        assert memory.store.forget(TENANT, "alice", compact=True) > 0
        assert _pg_found(pg_filled, "alice") == {}
        current = {f for files in _pg_files(pg_filled).values() for f in files}
        replaced = old_files - current
        assert replaced, "VACUUM FULL writes new files"
        assert all(not f.exists() or f.stat().st_size == 0 for f in replaced)  # emptied, then unlinked
        bob = _pg_found(pg_filled, "bob")
        assert set(WORDS["bob"]) <= bob["eidetica.units"] and set(WORDS["bob"]) <= bob["eidetica.history"]
        assert bob["eidetica.postings_pkey"], "the scan must find index terms too"
        hits = memory.search("Which dessert do I like?", user_id="bob")
        assert any("Rhubarbarian" in h.unit.text for h in hits)


def test_postgres_forget_vacuums_and_refreshes_statistics(
    pg_filled: str, embedder: WordLlamaEmbedder
) -> None:
    """Plain VACUUM removes the dead rows and ANALYZE resamples; no claim on the bytes left in the
    pages' free space (measured: many remain, see docs/forget.md)."""
    counts = (
        "SELECT sum(vacuum_count), sum(analyze_count) FROM pg_stat_user_tables WHERE schemaname = 'eidetica'"
    )
    with _admin(pg_filled) as conn:
        vacuums, analyzes = conn.execute(counts).fetchone()
    with Memory(pg_filled, embedder=embedder) as memory:
        memory.forget(user_id="alice")
    with _admin(pg_filled) as conn:
        assert conn.execute(counts).fetchone() == (
            vacuums + 4,
            analyzes + 4,
        )  # units, postings, history, lessons
        for table in ("units", "postings", "history"):
            rows = conn.execute(f"SELECT count(*) FROM eidetica.{table} WHERE user_id = 'alice'").fetchone()
            assert rows == (0,)
        stats = conn.execute("SELECT string_agg(s::text, ' ') FROM pg_stats s WHERE schemaname = 'eidetica'")
        assert _found(stats.fetchone()[0].encode(), _forms("alice")) == set()


@pytest.fixture
def pg_reader(pg_filled: str) -> Iterator[Any]:
    """Another connection holding a snapshot taken before the forget, which would still see the
    user's rows. It has read no table of the store, so it holds no lock that VACUUM FULL would wait
    for: only the forget's own check keeps VACUUM from running while the rows must stay."""
    with _admin(pg_filled) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        conn.execute("SELECT 1")  # takes the snapshot
        yield conn


def test_postgres_forget_waits_for_an_older_snapshot_then_erases(
    pg_filled: str, pg_reader: Any, embedder: WordLlamaEmbedder
) -> None:
    with Memory(pg_filled, embedder=embedder) as memory, _commits_after(1.0, pg_reader):
        start = time.monotonic()
        memory.store.forget(TENANT, "alice", compact=True)
        assert time.monotonic() - start >= 0.9
    assert _pg_found(pg_filled, "alice") == {}


def test_postgres_forget_reports_a_snapshot_that_outlasts_the_wait(
    pg_filled: str, pg_reader: Any, embedder: WordLlamaEmbedder
) -> None:
    from eidetica.storage.postgres import PostgresStore

    with Memory(store=PostgresStore(pg_filled, timeout=1.0), embedder=embedder) as memory:
        with pytest.raises(StoreError, match=r"began before the forget.*call forget again"):
            memory.store.forget(TENANT, "alice", compact=True)
        assert memory.list(user_id="alice") == []
        pg_reader.execute("COMMIT")
        assert memory.store.forget(TENANT, "alice", compact=True) == 0
    assert _pg_found(pg_filled, "alice") == {}


def test_postgres_forget_reports_a_role_that_may_not_vacuum(
    pg_filled: str, embedder: WordLlamaEmbedder
) -> None:
    """A connecting user that is neither the tables' owner nor the database's may delete, not VACUUM."""
    from eidetica.storage.postgres import PostgresStore
    from eidetica.storage.postgres_schema import APP_ROLE

    role = f"eidetica_forget_{uuid.uuid4().hex[:12]}"
    with _admin(pg_filled) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN IN ROLE {APP_ROLE}")
    parts = urlsplit(pg_filled)
    as_role = urlunsplit(parts._replace(netloc=f"{role}@{parts.hostname}:{parts.port}"))
    try:
        with Memory(store=PostgresStore(as_role), embedder=embedder) as memory:
            with pytest.raises(StoreError, match=r"refused to VACUUM.*owner"):
                memory.forget(user_id="alice")
            assert memory.list(user_id="alice") == []
    finally:
        with _admin(pg_filled) as conn:
            conn.execute(f"DROP ROLE {role}")
