"""The SQLite store's in-memory vectors and postings stay true to the file, whoever writes it.

Two ``SQLiteStore`` objects on one file stand for two processes: each has its own connection and
caches, and sees the other's writes only through the file.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from eidetica.model import MemoryUnit, Scope
from eidetica.storage import NewUnit, NewVersion, Revision, UnitFilter
from eidetica.storage.sqlite import SQLiteStore
from eidetica.storage.sqlite_schema import MIGRATIONS

from .test_contract import DIM, unit, vec

#: How far a cosine read back from a store may be off: SQLite keeps 4 bits a component.
QUANTISED = 2e-2

USER = UnitFilter(Scope(user_id="u1"))


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[tuple[SQLiteStore, SQLiteStore]]:
    reader, writer = SQLiteStore(tmp_path / "shared.db"), SQLiteStore(tmp_path / "shared.db")
    writer.check_embedder("test/8", DIM)
    yield reader, writer
    reader.close()
    writer.close()


def test_a_reader_sees_units_another_connection_appends(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    reader, writer = pair
    first = unit("the lighthouse keeper paints boats")
    writer.add([NewUnit(first, vec(1), first.text)])
    assert [i for i, _ in reader.search_vector(USER, vec(1), 5)] == [first.id]
    assert [i for i, _ in reader.search_lexical(USER, ["lighthouse"], 5)] == [first.id]
    second = unit("a second lighthouse on the cliff")
    writer.add([NewUnit(second, vec(2), second.text)])
    assert reader.search_vector(USER, vec(2), 1)[0][0] == second.id
    assert {i for i, _ in reader.search_lexical(USER, ["lighthouse"], 5)} == {first.id, second.id}


def test_a_reader_sees_deletions_edits_and_late_vectors(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    reader, writer = pair
    kept, gone, late = unit("kept words here"), unit("gone words here"), unit("late words here")
    writer.add(
        [NewUnit(kept, vec(1), kept.text), NewUnit(gone, vec(2), gone.text), NewUnit(late, None, late.text)]
    )
    assert {i for i, _ in reader.search_vector(USER, vec(2), 5)} == {kept.id, gone.id}
    assert {i for i, _ in reader.search_lexical(USER, ["words"], 5)} == {kept.id, gone.id, late.id}

    writer.delete(gone.id, tenant="default")
    writer.update(NewVersion(kept.id, "edited", vec(5), "edited"), tenant="default")
    writer.set_vectors("default", {late.id: vec(3)})

    assert {i for i, _ in reader.search_vector(USER, vec(5), 5)} == {kept.id, late.id}
    assert reader.search_vector(USER, vec(5), 1)[0] == (kept.id, pytest.approx(1.0, abs=QUANTISED))
    assert reader.search_vector(USER, vec(3), 1)[0][0] == late.id
    assert [i for i, _ in reader.search_lexical(USER, ["words"], 5)] == [late.id]
    assert [i for i, _ in reader.search_lexical(USER, ["edited"], 5)] == [kept.id]


def test_a_reader_sees_a_forgotten_user_go_and_come_back(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    reader, writer = pair
    old = unit("old history of the user")
    writer.add([NewUnit(old, vec(1), old.text)])
    assert reader.search_vector(USER, vec(1), 5)
    writer.forget("default", "u1")
    assert reader.search_vector(USER, vec(1), 5) == []
    assert reader.search_lexical(USER, ["history"], 5) == []
    new = unit("new history after forget")
    writer.add([NewUnit(new, vec(2), new.text)])
    assert [i for i, _ in reader.search_vector(USER, vec(1), 5)] == [new.id]
    assert [i for i, _ in reader.search_lexical(USER, ["history"], 5)] == [new.id]


def test_a_retired_unit_leaves_both_channels(pair: tuple[SQLiteStore, SQLiteStore]) -> None:
    reader, writer = pair
    fact = unit("Sam lives in Porto", kind="fact")
    writer.add([NewUnit(fact, vec(1), fact.text)])
    assert reader.search_lexical(USER, ["porto"], 5) and reader.search_vector(USER, vec(1), 5)
    retired = Revision(dataclasses.replace(fact, status="deleted"), "source_deleted")
    writer.add([], revisions=[retired])
    assert reader.search_lexical(USER, ["porto"], 5) == []
    assert reader.search_vector(USER, vec(1), 5) == []


def test_narrow_filters_give_the_exact_best_even_when_the_overall_best_all_fail(tmp_path: Path) -> None:
    """Forty strong matches in one session, two weak ones in another: a search of the second
    session finds its two, ranked as a scan of that session alone would rank them."""
    store = SQLiteStore(tmp_path / "filters.db")
    store.check_embedder("test/8", DIM)
    target = vec(0)
    strong = [in_session(unit("harbour harbour boats"), "a") for _ in range(40)]
    store.add([NewUnit(u, target, u.text) for u in strong])
    weak = [in_session(unit(text), "b") for text in ("harbour at dusk", "a harbour")]
    store.add([NewUnit(u, vec(i + 1), u.text) for i, u in enumerate(weak)])
    session_b = UnitFilter(Scope(user_id="u1", session_id="b"))
    assert {i for i, _ in store.search_vector(session_b, target, 2)} == {u.id for u in weak}
    assert {i for i, _ in store.search_lexical(session_b, ["harbour"], 2)} == {u.id for u in weak}
    scores = dict(store.search_vector(session_b, target, 2))
    assert [i for i, _ in store.search_vector(session_b, target, 2)] == sorted(
        scores, key=lambda i: -scores[i]
    )
    store.close()


def test_a_small_cache_still_answers_every_user_right(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "small.db", vector_cache_bytes=1)
    store.check_embedder("test/8", DIM)
    units = {user: unit(f"note of {user}", user=user) for user in ("u1", "u2", "u3")}
    store.add([NewUnit(u, vec(i), u.text) for i, u in enumerate(units.values())])
    for _ in range(2):
        for i, (user, u) in enumerate(units.items()):
            assert store.search_vector(UnitFilter(Scope(user_id=user)), vec(i), 3) == [
                (u.id, pytest.approx(1.0, abs=QUANTISED))
            ]
    store.close()


def test_a_file_written_before_vectors_moved_out_is_migrated(tmp_path: Path) -> None:
    """A store of the release before: float32 vectors inline in the units rows, one unembedded."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)")
    for name, step in MIGRATIONS[:3]:
        assert isinstance(step, str)
        for statement in step.split(";"):
            if statement.strip():
                conn.execute(statement)
        conn.execute("INSERT INTO migrations VALUES (?, 0)", (name,))
    conn.execute("INSERT INTO meta VALUES ('embedder', ?)", (json.dumps({"name": "test/8", "dim": DIM}),))
    rows = [("a", "ferry timetable", vec(1).tobytes()), ("b", "ferry tickets", b"")]
    for rid, (uid, text, blob) in enumerate(rows, start=1):
        conn.execute(
            "INSERT INTO units (rid, id, tenant, user_id, kind, text, recorded_at, embedding) "
            "VALUES (?, ?, 'default', 'u1', 'turn', ?, 0, ?)",
            (rid, uid, text, blob),
        )
        conn.execute("INSERT INTO units_fts (rowid, body, context) VALUES (?, ?, '')", (rid, _owned(text)))
    conn.close()

    store = SQLiteStore(path)
    assert store.search_vector(USER, vec(1), 5) == [("a", pytest.approx(1.0, abs=QUANTISED))]
    assert [u.id for u in store.unembedded("default", "u1", 5)] == ["b"]
    assert {i for i, _ in store.search_lexical(USER, ["ferry"], 5)} == {"a", "b"}
    store.set_vectors("default", {"b": vec(2)})
    assert store.search_vector(USER, vec(2), 1)[0][0] == "b"
    columns = [r[1] for r in store._conn.execute("PRAGMA table_info(units)")]
    assert "embedding" not in columns
    store.close()


def test_a_file_with_8_bit_vectors_and_indexed_history_is_migrated(tmp_path: Path) -> None:
    """A store of the release before: int8 vectors (a float32 scale after them), history a rowid
    table with its own index, and the size trigger of 8-bit vectors."""
    path = tmp_path / "eight.db"
    store = SQLiteStore(path)
    store.check_embedder("test/8", DIM)
    notes = [unit(f"ferry note {i}") for i in range(3)]
    store.add([NewUnit(u, vec(i), u.text) for i, u in enumerate(notes)])
    store.update(
        NewVersion(notes[0].id, "ferry note, corrected", vec(0), "ferry note corrected"), tenant="default"
    )
    before = store.history(notes[0].id, tenant="default")
    store.close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(
        """
        CREATE TABLE named_vectors (tenant TEXT NOT NULL, user_id TEXT NOT NULL, rid INTEGER NOT NULL,
            vector BLOB NOT NULL, PRIMARY KEY (tenant, user_id, rid)) WITHOUT ROWID;
        INSERT INTO named_vectors SELECT o.tenant, o.user_id, v.rid, v.vector
            FROM vectors v JOIN owners o ON o.id = v.owner;
        DROP TABLE vectors;
        ALTER TABLE named_vectors RENAME TO vectors;
        CREATE TABLE unnumbered (tenant TEXT NOT NULL, user_id TEXT NOT NULL, changes INTEGER NOT NULL,
            last_rid INTEGER NOT NULL, PRIMARY KEY (tenant, user_id)) WITHOUT ROWID;
        INSERT INTO unnumbered SELECT tenant, user_id, changes, last_rid FROM owners;
        DROP TABLE owners;
        ALTER TABLE unnumbered RENAME TO owners;
        """
    )
    for (rid,) in conn.execute("SELECT rid FROM vectors").fetchall():
        scale = np.float32(1 / 127)
        old = np.clip(np.rint(vec(rid - 1) / scale), -127, 127).astype(np.int8).tobytes() + scale.tobytes()
        conn.execute("UPDATE vectors SET vector = ? WHERE rid = ?", (old, rid))
    conn.executescript(
        """
        CREATE TABLE old_history (seq INTEGER PRIMARY KEY, unit_id TEXT NOT NULL, version INTEGER NOT NULL,
            op TEXT NOT NULL, text TEXT NOT NULL, at REAL NOT NULL, metadata TEXT NOT NULL DEFAULT '{}');
        INSERT INTO old_history (unit_id, version, op, text, at, metadata)
            SELECT unit_id, version, op, text, at, metadata FROM history ORDER BY unit_id, seq;
        DROP TABLE history;
        ALTER TABLE old_history RENAME TO history;
        CREATE INDEX history_unit ON history (unit_id, seq);
        DROP TRIGGER IF EXISTS vectors_of_the_embedder;
        CREATE TRIGGER vectors_of_the_embedder BEFORE INSERT ON vectors
            WHEN length(NEW.vector) - 4 <> 8 BEGIN SELECT RAISE(ABORT, 'wrong size'); END;
        DELETE FROM migrations WHERE name = 'm008_smaller_rows';
        """
    )
    conn.close()

    store = SQLiteStore(path)
    sizes = {r[0] for r in store._conn.execute("SELECT length(vector) FROM vectors")}
    assert sizes == {9 + DIM // 2}
    for i, u in enumerate(notes):
        assert store.search_vector(USER, vec(i), 1) == [(u.id, pytest.approx(1.0, abs=QUANTISED))]
    assert store.history(notes[0].id, tenant="default") == before
    store.delete(notes[0].id, tenant="default")
    assert [e.op for e in store.history(notes[0].id, tenant="default")] == ["add", "update", "delete"]
    assert (
        store._conn.execute("SELECT count(*) FROM sqlite_schema WHERE name = 'history_unit'").fetchone()[0]
        == 0
    )
    with pytest.raises(sqlite3.IntegrityError, match="re-embedded for another embedder"):
        store._conn.execute("INSERT INTO vectors VALUES (1, 99, ?)", (bytes(DIM + 4),))
    store.close()


def in_session(u: MemoryUnit, session: str) -> MemoryUnit:
    return dataclasses.replace(u, scope=Scope(user_id="u1", session_id=session))


def _owned(text: str) -> str:
    from eidetica.storage.terms import owned_words

    return owned_words(Scope(user_id="u1"), text)


def test_vectors_are_stored_in_4_bits_a_component() -> None:
    from eidetica.storage import vector_codec

    rng = np.random.default_rng(7)
    for dim in (256, 255, 384):
        matrix = rng.standard_normal((200, dim)).astype(np.float32)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        blobs = vector_codec.encode_all(list(matrix))
        assert {len(blob) for blob in blobs} == {vector_codec.stored_size(dim)} == {9 + (dim + 1) // 2}
        decoded = vector_codec.decode(blobs)
        assert decoded.shape == matrix.shape
        cosines = (decoded * matrix).sum(axis=1) / np.linalg.norm(decoded, axis=1)
        assert cosines.min() > 0.98 and cosines.mean() > 0.99
    flat = vector_codec.decode(vector_codec.encode_all([np.full(4, 0.5, dtype=np.float32)]))
    assert np.allclose(flat, 0.5)


def test_postings_evicted_for_room_are_read_again(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "tiny.db")
    store.check_embedder("test/8", DIM)
    store._postings.max_bytes = 1  # every read evicts all but the user just asked about
    notes = {user: unit(f"harbour note of {user} with ferry", user=user) for user in ("u1", "u2", "u3")}
    store.add([NewUnit(u, vec(i), u.text) for i, u in enumerate(notes.values())])
    for _ in range(2):
        for user, u in notes.items():
            for words in (["harbour"], ["ferry", "note"]):
                assert [i for i, _ in store.search_lexical(UnitFilter(Scope(user_id=user)), words, 3)] == [
                    u.id
                ]
    store.close()


def test_the_postings_cache_keeps_its_size_as_words_come_and_go(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "size.db")
    store.check_embedder("test/8", DIM)
    where = UnitFilter(Scope(user_id="u1"))

    def cached() -> tuple[int, int]:
        user = store._postings._users[("default", "u1")]
        return user.words_nbytes, sum(p.nbytes for p in user.words.values())

    first = [unit(f"harbour ferry note {i}") for i in range(5)]
    store.add([NewUnit(u, vec(i), u.text) for i, u in enumerate(first)])
    store.search_lexical(where, ["harbour", "ferry"], 3)
    later = unit("harbour lighthouse")
    store.add([NewUnit(later, vec(9), later.text)])
    store.search_lexical(where, ["harbour", "lighthouse"], 3)  # "harbour" catches up, one word is new
    kept, held = cached()
    assert kept == held > 0
    store._postings.max_bytes = store._postings._users[("default", "u1")].nbytes  # full: the next read evicts
    store.search_lexical(where, ["note"], 3)
    kept, held = cached()
    assert kept == held
    assert len(store._postings._users[("default", "u1")].words) < 4
    store.close()
