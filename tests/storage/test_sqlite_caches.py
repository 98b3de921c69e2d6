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
from eidetica.storage import NewUnit, Revision, UnitFilter
from eidetica.storage.sqlite import SQLiteStore
from eidetica.storage.sqlite_schema import MIGRATIONS

from .test_contract import DIM, unit, vec

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
    writer.update(
        kept.id, tenant="default", text="edited", vector=vec(5), lexical_text="edited", metadata=None
    )
    writer.set_vectors("default", {late.id: vec(3)})

    assert {i for i, _ in reader.search_vector(USER, vec(5), 5)} == {kept.id, late.id}
    assert reader.search_vector(USER, vec(5), 1)[0] == (kept.id, pytest.approx(1.0, abs=5e-3))
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
                (u.id, pytest.approx(1.0, abs=5e-3))
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
    assert store.search_vector(USER, vec(1), 5) == [("a", pytest.approx(1.0, abs=5e-3))]
    assert [u.id for u in store.unembedded("default", "u1", 5)] == ["b"]
    assert {i for i, _ in store.search_lexical(USER, ["ferry"], 5)} == {"a", "b"}
    store.set_vectors("default", {"b": vec(2)})
    assert store.search_vector(USER, vec(2), 1)[0][0] == "b"
    columns = [r[1] for r in store._conn.execute("PRAGMA table_info(units)")]
    assert "embedding" not in columns
    store.close()


def in_session(u: MemoryUnit, session: str) -> MemoryUnit:
    return dataclasses.replace(u, scope=Scope(user_id="u1", session_id=session))


def _owned(text: str) -> str:
    from eidetica.storage.terms import owned_words

    return owned_words(Scope(user_id="u1"), text)


def test_vectors_are_stored_in_a_quarter_of_float32() -> None:
    from eidetica.storage import vector_codec

    v = vec(7)
    (blob,) = vector_codec.encode_all([v])
    assert len(blob) == DIM + 4
    decoded = vector_codec.decode([blob])[0]
    assert float(decoded @ v / np.linalg.norm(decoded)) > 0.99


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
