"""Decay that archives (``lifecycle.decay``, ``Memory.maintain``, ``Memory.restore``), over SQLite
and PostgreSQL: what faded leaves every default read and stays whole; what is used, said again,
pinned, young or held for review stays; a restore, by a call or by saying it again, brings a unit
back; every archive and restore is a version in ``history``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from eidetica import Memory, UsageError
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.lifecycle.decay import Decay, fading, last_used, retention, uses
from eidetica.model import MemoryUnit, Scope
from eidetica.storage import Revision

from ..postgres_server import BACKENDS, store_location

NOW = datetime(2026, 6, 1, tzinfo=UTC)
USER = "sam"


def unit(kind: str = "turn", said: datetime = NOW, **changes: object) -> MemoryUnit:
    base = MemoryUnit(
        id="u1", kind=kind, text="Sam adopted a greyhound.", scope=Scope(user_id=USER), recorded_at=said,
        occurred_at=said,
    )  # fmt: skip
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# -- the curve ----------------------------------------------------------------------------------


def test_retention_follows_the_forgetting_curve_and_each_use_slows_it() -> None:
    decay = Decay(stability_days=90)
    once = unit(said=NOW - timedelta(days=90))
    assert retention(once, NOW, decay) == pytest.approx(0.3679, abs=1e-4)  # e^-1
    twice = unit(said=NOW - timedelta(days=90), metadata={"mentions": 2})
    assert uses(twice) == 2
    assert retention(twice, NOW, decay) == pytest.approx(0.6065, abs=1e-4)  # e^-0.5
    recalled = unit(
        said=NOW - timedelta(days=400), metadata={"recalled": {"times": 1, "last": NOW.isoformat()}}
    )
    assert last_used(recalled) == NOW
    assert retention(recalled, NOW, decay) == pytest.approx(1.0)


def test_a_current_fact_lasts_longer_than_what_happened_and_a_closed_one_does_not() -> None:
    decay = Decay(stability_days=90, fact_weight=4)
    said = NOW - timedelta(days=360)
    assert retention(unit("fact", said), NOW, decay) == pytest.approx(0.3679, abs=1e-4)
    assert retention(unit("event", said), NOW, decay) == pytest.approx(0.0183, abs=1e-4)
    closed = unit("fact", said, valid_to=said + timedelta(days=1))
    assert retention(closed, NOW, decay) == pytest.approx(0.0183, abs=1e-4)


def test_what_is_young_pinned_held_or_gone_never_fades() -> None:
    decay = Decay(stability_days=1, min_age_days=30)
    old = NOW - timedelta(days=400)
    candidates = [
        unit(said=old, id="old"),
        unit(said=NOW - timedelta(days=20), id="young"),
        unit(said=old, id="pinned", metadata={"pinned": True}),
        unit(said=old, id="held", metadata={"quarantine": {"reasons": ["x"], "at": old.isoformat()}}),
        unit(said=old, id="gone", status="deleted"),
        unit(said=old, id="faded", status="archived"),
    ]
    assert [(u.id, round(r, 3)) for u, r in fading(candidates, NOW, decay)] == [("old", 0.0)]


@pytest.mark.parametrize(
    "settings", [{"stability_days": 0}, {"threshold": 1.0}, {"threshold": 0}, {"min_age_days": -1}]
)
def test_a_decay_that_cannot_work_is_refused(settings: dict[str, float]) -> None:
    with pytest.raises(UsageError, match="decay"):
        Decay(**settings)


# -- through Memory, on both backends -------------------------------------------------------------

OLD = "2021-03-01T10:00:00Z"


@pytest.fixture(params=BACKENDS)
def memory(request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Memory]:
    with Memory(store_location(request, tmp_path / "decay.db"), embedder=embedder) as mem:
        yield mem


def say(memory: Memory, text: str, at: str, session: str, **extra: object) -> list[MemoryUnit]:
    result = memory.add(
        [{"role": "user", "name": "Sam", "content": text, "timestamp": at}],
        user_id=USER,
        session_id=session,
        **extra,  # type: ignore[arg-type]
    )
    return result.turns + result.derived


def test_maintain_archives_what_faded_and_default_reads_leave_it_out(memory: Memory) -> None:
    gone = say(memory, "I adopted a greyhound called Pixel.", OLD, "s1")
    now = datetime.now(UTC).isoformat()
    kept = say(memory, "I went running by the river this morning.", now, "s2")
    pinned = say(memory, "My blood type is O negative.", OLD, "s3", metadata={"pinned": True})

    dry = memory.maintain(dry_run=True)
    assert dry.dry_run and set(dry.sample) == {u.id for u in gone}
    assert memory.stats(user_id=USER).archived == 0

    report = memory.maintain()
    assert (
        report.users == 1
        and report.archived_total == len(gone)
        and set(report.sample) == {u.id for u in gone}
    )
    assert report.examined == len(gone) + len(kept) + len(pinned)
    assert memory.stats(user_id=USER).archived == len(gone)

    found = {h.id for h in memory.search("greyhound called Pixel", user_id=USER)}
    assert found.isdisjoint(u.id for u in gone)
    assert {u.id for u in memory.list(user_id=USER)} == {u.id for u in kept + pinned}
    context = memory.context("Which greyhound did Sam adopt?", user_id=USER)
    assert "Pixel" not in context.text

    archived = memory.list(user_id=USER, include_archived=True)
    assert {u.id: u.status for u in archived if u.status == "archived"} == {u.id: "archived" for u in gone}
    assert {h.id for h in memory.search("greyhound called Pixel", user_id=USER, include_archived=True)} >= {
        u.id for u in gone
    }
    assert (
        "Pixel" in memory.context("Which greyhound did Sam adopt?", user_id=USER, include_archived=True).text
    )
    for u in gone:
        entries = memory.history(u.id)
        assert [e.op for e in entries] == ["add", "archive"] and entries[-1].text == u.text
        assert memory.get(u.id).text == u.text  # kept whole


def test_restore_brings_a_unit_back_and_refuses_one_that_is_not_archived(memory: Memory) -> None:
    turn = say(memory, "I adopted a greyhound called Pixel.", OLD, "s1")[0]
    memory.maintain()
    back = memory.restore(turn.id)
    assert back.status == "active" and [e.op for e in memory.history(turn.id)] == [
        "add",
        "archive",
        "restore",
    ]
    assert turn.id in {h.id for h in memory.search("greyhound called Pixel", user_id=USER)}
    with pytest.raises(UsageError, match="not archived"):
        memory.restore(turn.id)


def test_saying_it_again_restores_an_archived_statement(memory: Memory) -> None:
    event = next(u for u in say(memory, "I adopted a greyhound called Pixel.", OLD, "s1") if u.kind != "turn")
    memory.maintain()
    assert memory.get(event.id).status == "archived"
    result = memory.add(
        [{"role": "user", "name": "Sam", "content": "I adopted a greyhound called Pixel.", "timestamp": OLD}],
        user_id=USER,
        session_id="s9",
    )
    assert event.id in {u.id for u in result.revised}
    again = memory.get(event.id)
    assert again.status == "active" and again.metadata["mentions"] == 2
    assert [e.op for e in memory.history(event.id)][-1] == "restore"


def test_what_reads_return_is_recalled_and_does_not_fade(memory: Memory) -> None:
    used = say(memory, "I adopted a greyhound called Pixel.", OLD, "s1")
    unused = say(memory, "My first car was a red Fiat Panda.", OLD, "s2")
    hits = memory.search("greyhound called Pixel", user_id=USER, k=2)
    assert {h.id for h in hits} <= {u.id for u in used}
    report = memory.maintain()  # writes the recalls first
    recalled = memory.get(hits[0].id).metadata["recalled"]
    assert recalled["times"] == 1 and datetime.fromisoformat(recalled["last"]) > datetime.now(
        UTC
    ) - timedelta(hours=1)
    assert set(report.sample) == {u.id for u in unused} | ({u.id for u in used} - {h.id for h in hits})


def test_an_archive_yields_to_a_write_that_came_between(memory: Memory) -> None:
    event = say(memory, "I adopted a greyhound called Pixel.", OLD, "s1")[-1]
    read = memory.get(event.id)
    memory.update(event.id, "Sam adopted a greyhound called Pixel in 2021.")
    stale = Revision(dataclasses.replace(read, status="archived", version=read.version + 1), "archive")
    memory.store.add([], revisions=[stale])
    assert memory.get(event.id).status == "active"
    assert [e.op for e in memory.history(event.id)] == ["add", "update"]


def test_rebuild_and_forget_treat_archived_units_as_stored(memory: Memory) -> None:
    units = say(memory, "I adopted a greyhound called Pixel.", OLD, "s1")
    memory.maintain()
    memory.rebuild(user_id=USER)
    assert {memory.get(u.id).status for u in units} == {"archived"}
    assert memory.forget(user_id=USER) == len(units)
    assert memory.stats(user_id=USER).archived == 0


# -- configuration -----------------------------------------------------------------------------


def test_the_servers_and_the_cli_read_decay_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from eidetica.config import decay

    monkeypatch.delenv("EIDETICA_DECAY", raising=False)
    assert decay() == Decay()
    monkeypatch.setenv("EIDETICA_DECAY", "stability_days=30, threshold=0.1")
    assert decay() == Decay(stability_days=30, threshold=0.1)
    wrong_settings = [
        ("half_life=3", "unknown setting 'half_life'"),
        ("threshold=lots", "must be a number"),
        ("threshold=2", "between 0 and 1"),
    ]
    for wrong, said in wrong_settings:
        monkeypatch.setenv("EIDETICA_DECAY", wrong)
        with pytest.raises(UsageError, match=f"EIDETICA_DECAY: .*{said}"):
            decay()
