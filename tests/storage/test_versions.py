"""The version, history and audit rules of ``storage.versions``, and both backends storing them."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from eidetica.errors import NotFoundError
from eidetica.ids import new_id
from eidetica.model import HistoryEntry, MemoryUnit, Scope
from eidetica.storage import NewUnit, NewVersion, Revision, Store, open_store
from eidetica.storage.versions import HistoryRecord, added, deleted, forgotten, revised, updated

from ..postgres_server import BACKENDS, store_location

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _fact(text: str = "Ana sings in a choir", **extra: object) -> MemoryUnit:
    return MemoryUnit(
        id=new_id(),
        kind="fact",
        text=text,
        scope=Scope(user_id="ana", tenant="acme"),
        recorded_at=T0,
        **extra,  # type: ignore[arg-type]
    )


def test_an_update_adds_one_to_the_version_and_records_the_new_text() -> None:
    current = _fact(metadata={"topic": "music"}, version=3)
    change = updated(current, text="Ana sings in two choirs", metadata=None)
    assert change.unit == dataclasses.replace(current, text="Ana sings in two choirs", version=4)
    assert change.record == HistoryRecord(
        current.id, "acme", "ana", 4, "update", "Ana sings in two choirs", {"topic": "music"}
    )
    assert change.record.sets_text


def test_an_update_replaces_the_metadata_when_given_even_by_an_empty_one() -> None:
    current = _fact(metadata={"topic": "music"})
    assert updated(current, text="x", metadata={}).unit.metadata == {}
    assert updated(current, text="x", metadata={"a": 1}).record.metadata == {"a": 1}


def test_a_deleted_unit_cannot_be_updated() -> None:
    with pytest.raises(NotFoundError, match="is deleted"):
        updated(_fact(status="deleted"), text="back again", metadata=None)


def test_a_delete_keeps_the_version_and_the_text_and_a_second_one_changes_nothing() -> None:
    current = _fact(metadata={"topic": "music"}, version=2)
    change = deleted(current)
    assert change is not None
    assert change.unit == dataclasses.replace(current, status="deleted")
    assert change.record == HistoryRecord(current.id, "acme", "ana", 2, "delete", current.text, {})
    assert not change.record.sets_text
    assert deleted(change.unit) is None


def test_an_add_records_the_first_version_as_it_was_stored() -> None:
    unit = _fact(metadata={"k": "v"})
    assert added(unit) == [HistoryRecord(unit.id, "acme", "ana", 1, "add", unit.text, {"k": "v"})]
    assert not added(unit)[0].sets_text


def test_an_imported_unit_brings_its_history_each_entry_at_its_time() -> None:
    unit = _fact("Ana sings in two choirs", version=2)
    said, edited = datetime(2024, 1, 2, tzinfo=UTC), datetime(2024, 3, 4, tzinfo=UTC)
    history = (
        HistoryEntry(unit.id, 1, "add", "Ana sings in a choir", said, {}),
        HistoryEntry(unit.id, 2, "update", unit.text, edited, {"k": "v"}),
    )
    records = added(unit, history)
    assert [(r.version, r.op, r.text, r.at) for r in records] == [
        (1, "add", "Ana sings in a choir", said),
        (2, "update", unit.text, edited),
    ]
    assert all(r.sets_text for r in records)  # an earlier text is kept as it was


def test_revisions_record_their_note_beside_the_metadata_and_silent_ones_nothing() -> None:
    unit = _fact(metadata={"mentions": 2, "why": "unit"}, version=5)
    noted = Revision(unit, "mention", note={"why": "note", "turns": ["t9"]})
    records = revised([noted, Revision(unit, None), Revision(unit, "supersede")])
    assert [(r.op, r.version) for r in records] == [("mention", 5), ("supersede", 5)]
    assert records[0].metadata == {"mentions": 2, "why": "note", "turns": ["t9"]}
    assert records[1].metadata == {"mentions": 2, "why": "unit"}
    assert unit.metadata == {"mentions": 2, "why": "unit"}, "the unit's own metadata is left alone"
    assert not any(r.sets_text for r in records)


def test_a_forget_audit_keeps_the_count_only() -> None:
    audit = forgotten("acme", "ana", 12)
    assert (audit.op, audit.tenant, audit.user_id, audit.detail) == ("forget", "acme", "ana", {"units": 12})


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend = open_store(store_location(request, tmp_path / "versions.db"))
    backend.check_embedder("test/4", 4)
    yield backend
    backend.close()


def test_every_backend_stores_the_history_the_rules_compute(store: Store) -> None:
    vector = np.array([1.0, 0.0, 0.0, 0.0], dtype=np.float32)
    first = _fact(metadata={"topic": "music"})
    store.add([NewUnit(first, vector, first.text)])
    expected = added(first)
    change = updated(first, text="Ana sings in two choirs", metadata={"topic": "song"})
    stored = store.update(
        NewVersion(first.id, change.unit.text, vector, change.unit.text, {"topic": "song"}), tenant="acme"
    )
    assert stored == change.unit
    expected.append(change.record)
    mention = Revision(dataclasses.replace(stored, version=3), "mention", note={"turns": ["t2"]})
    store.add([], revisions=[mention])
    expected += revised([mention])
    gone = deleted(store.get(first.id, tenant="acme"))
    assert gone is not None
    assert store.delete(first.id, tenant="acme") == gone.unit
    expected.append(gone.record)
    assert store.delete(first.id, tenant="acme") == gone.unit
    history = store.history(first.id, tenant="acme")
    assert [(e.unit_id, e.version, e.op, e.text, e.metadata) for e in history] == [
        (r.unit_id, r.version, r.op, r.text, r.metadata) for r in expected
    ]
    with pytest.raises(NotFoundError):
        store.update(NewVersion(first.id, "x", vector, "x"), tenant="acme")
