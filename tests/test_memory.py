"""The Memory API as the README shows it, against a real SQLite file and the real embedder."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from eidetica import Hit, Memory, NotFoundError, UsageError
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.errors import LLMError
from eidetica.ingest.base import TurnInput
from eidetica.ingest.extract import ExtractionReport, RuleExtractor
from eidetica.retrieve.pack import pack, render

CAROLINE = [
    {
        "role": "user",
        "name": "Caroline",
        "content": "I went to the support group yesterday",
        "id": "D1:3",
    }
]


def test_add_keeps_the_turn_verbatim_and_derives_a_dated_event(memory: Memory) -> None:
    result = memory.add(CAROLINE, user_id="caroline", session_id="s1", timestamp="2023-05-08T13:56:00")
    assert [t.text for t in result.turns] == ["I went to the support group yesterday"]
    assert result.turns[0].kind == "turn"
    assert result.turns[0].sources == ("D1:3",)
    [event] = result.derived
    assert event.kind == "event"
    assert event.text == "Caroline went to the support group on 7 May 2023."
    assert event.occurred_at is not None and event.occurred_at.date().isoformat() == "2023-05-07"
    assert event.sources == ("D1:3",)
    assert event.derived_from == (result.turns[0].id,)
    assert "caroline" in event.entities


def test_search_returns_the_evidence_with_sources_and_score_breakdown(memory: Memory) -> None:
    memory.add(CAROLINE, user_id="caroline", session_id="s1", timestamp="2023-05-08T13:56:00")
    memory.add(
        [
            {
                "role": "user",
                "name": "Caroline",
                "content": "My cat knocked over a plant this morning",
            }
        ],
        user_id="caroline",
        session_id="s2",
        timestamp="2023-06-01T10:00:00",
    )
    hits = memory.search("When did Caroline go to the support group?", user_id="caroline", k=10)
    assert hits[0].sources == ("D1:3",)
    assert hits[0].score > 0
    assert hits[0].kind in ("turn", "event")
    assert {"lexical", "dense"} <= set(hits[0].scores)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_context_fits_the_budget_without_a_fact_beside_its_turn(memory: Memory) -> None:
    memory.add(CAROLINE, user_id="caroline", session_id="s1", timestamp="2023-05-08T13:56:00")
    for i in range(40):
        memory.add(f"Filler note number {i} about gardening and tomatoes", user_id="caroline")
    ctx = memory.context("When did Caroline go to the support group?", user_id="caroline", budget_tokens=60)
    assert 0 < ctx.tokens <= 60
    assert memory.tokens.count(ctx.text) == ctx.tokens
    assert "support group" in ctx.text
    covered = [s for h in ctx.hits if "D1:3" in h.sources for s in h.sources]
    assert covered == ["D1:3"], "the turn and the event derived from it both took budget"


def test_small_history_is_returned_whole(memory: Memory) -> None:
    memory.add(CAROLINE, user_id="caroline", session_id="s1", timestamp="2023-05-08T13:56:00")
    memory.add("I adopted a kitten called Miso", user_id="caroline", timestamp="2023-05-09T10:00:00")
    ctx = memory.context("What pets does Caroline have?", user_id="caroline", budget_tokens=400)
    assert [h.kind for h in ctx.hits] == ["turn", "turn"]
    assert ctx.text.index("support group") < ctx.text.index("kitten")


def test_history_fitting_only_with_one_date_per_day_is_still_returned_whole(memory: Memory) -> None:
    notes = [f"Note {i}: water the tomatoes and basil" for i in range(10)]
    for i, note in enumerate(notes):
        memory.add(note, user_id="gus", timestamp=f"2024-06-01T09:{i:02d}:00")
    turns = memory.list(user_id="gus", kinds=["turn"])
    grouped = pack([Hit(u, 0.0, {}) for u in turns], memory.tokens, 10_000).tokens
    dated_lines = sum(memory.tokens.count(render(u)) + 1 for u in turns)
    assert grouped < dated_lines  # the day header is paid once, not on every line
    ctx = memory.context("What needs watering?", user_id="gus", budget_tokens=grouped + 2)
    assert sorted(h.text for h in ctx.hits) == sorted(notes)
    assert ctx.tokens <= grouped + 2


def test_users_never_see_each_other(memory: Memory) -> None:
    memory.add("I love sailing on the lake", user_id="alice")
    memory.add("I love sailing on the lake", user_id="bob")
    hits = memory.search("sailing", user_id="alice")
    assert hits and all(h.unit.scope.user_id == "alice" for h in hits)
    bob_unit = memory.search("sailing", user_id="bob")[0]
    with pytest.raises(NotFoundError):
        memory.get(bob_unit.id, user_id="alice")


def test_update_keeps_the_old_version_in_history(memory: Memory) -> None:
    result = memory.add("I work at the bakery on Main Street", user_id="dan")
    fact = result.derived[0]
    updated = memory.update(fact.id, "Dan works at the library.", user_id="dan")
    assert updated.version == 2 and updated.text == "Dan works at the library."
    assert memory.get(fact.id).text == "Dan works at the library."
    ops = [(e.op, e.text) for e in memory.history(fact.id)]
    assert ops == [("add", fact.text), ("update", "Dan works at the library.")]
    hits = memory.search("library", user_id="dan", kinds=["fact"])
    assert hits[0].id == fact.id


def test_turns_are_never_updated(memory: Memory) -> None:
    turn = memory.add("I work at the bakery", user_id="dan").turns[0]
    with pytest.raises(UsageError, match="verbatim"):
        memory.update(turn.id, "something else")


def test_delete_is_soft_recorded_and_hidden_from_search(memory: Memory) -> None:
    result = memory.add("I am allergic to peanuts", user_id="eve")
    turn = result.turns[0]
    memory.delete(turn.id)
    assert memory.get(turn.id).status == "deleted"
    assert [e.op for e in memory.history(turn.id)] == ["add", "delete"]
    assert turn.id not in {h.id for h in memory.search("peanuts allergy", user_id="eve")}
    assert turn.id not in {u.id for u in memory.list(user_id="eve")}


def test_forget_removes_everything_of_one_user_and_counts_it(memory: Memory) -> None:
    result = memory.add("I am allergic to peanuts and I live in Oslo", user_id="eve")
    memory.add("I live in Rome", user_id="frank")
    assert memory.forget(user_id="eve") == len(result.units)
    assert memory.search("peanuts", user_id="eve") == []
    assert memory.stats(user_id="eve").units == 0
    with pytest.raises(NotFoundError):
        memory.history(result.turns[0].id)
    assert memory.stats(user_id="frank").units > 0


def test_unknown_ids_raise_not_found(memory: Memory) -> None:
    for call in (memory.get, memory.delete, memory.history):
        with pytest.raises(NotFoundError, match="no memory unit"):
            call("01NOPE")
    with pytest.raises(NotFoundError):
        memory.update("01NOPE", "text")


def test_same_ids_are_not_stored_twice(memory: Memory) -> None:
    first = memory.add(CAROLINE, user_id="caroline")
    again = memory.add(CAROLINE, user_id="caroline")
    assert len(first.turns) == 1 and again.turns == [] and again.skipped_refs == ["D1:3"]
    assert memory.stats(user_id="caroline").units_by_kind["turn"] == 1


def test_stats_count_kinds_users_and_sessions(memory: Memory) -> None:
    memory.add(CAROLINE, user_id="caroline", session_id="s1", timestamp="2023-05-08T13:56:00")
    memory.add("I like tea", user_id="bob", session_id="b1")
    stats = memory.stats()
    assert stats.users == 2 and stats.sessions == 2
    assert stats.units_by_kind["turn"] == 2
    assert stats.bytes_on_disk and stats.bytes_on_disk > 0


def test_rebuild_derives_the_same_units_again(memory: Memory) -> None:
    memory.add(CAROLINE, user_id="caroline", session_id="s1", timestamp="2023-05-08T13:56:00")
    before = sorted(u.text for u in memory.list(user_id="caroline", kinds=["event", "fact"]))
    assert memory.rebuild(user_id="caroline") == len(before)
    after = sorted(u.text for u in memory.list(user_id="caroline", kinds=["event", "fact"]))
    assert after == before


class FailingOnSecondSession(RuleExtractor):
    """The rule extractor, until armed: then it fails on the second session it is given."""

    armed = False
    calls = 0

    def extract_report(self, turns: Sequence[TurnInput]) -> ExtractionReport:
        self.calls += 1
        if self.armed and self.calls == 2:
            raise LLMError("endpoint went away")
        return super().extract_report(turns)


def test_rebuild_that_fails_half_way_leaves_the_derived_units_as_they_were(
    db_path: Path, embedder: WordLlamaEmbedder
) -> None:
    extractor = FailingOnSecondSession()
    with Memory(db_path, embedder=embedder, extractor=extractor) as memory:
        memory.add(CAROLINE, user_id="caroline", session_id="s1", timestamp="2023-05-08T13:56:00")
        memory.add("I adopted a cat last week", user_id="caroline", session_id="s2", timestamp="2023-06-01")
        before = memory.list(user_id="caroline", kinds=["event", "fact"])
        assert len(before) >= 2
        extractor.armed, extractor.calls = True, 0
        with pytest.raises(LLMError):
            memory.rebuild(user_id="caroline")
        assert memory.list(user_id="caroline", kinds=["event", "fact"]) == before
        assert [h.op for h in memory.history(before[0].id)] == ["add"]


def test_time_filters_and_agent_scope(memory: Memory) -> None:
    memory.add("We hiked Mount Tam", user_id="g", agent_id="travel", timestamp="2022-03-01T10:00:00")
    memory.add("We hiked Mount Tam again", user_id="g", agent_id="coach", timestamp="2024-03-01T10:00:00")
    recent = memory.search("hiked", user_id="g", since="2023-01-01")
    assert recent and all(h.unit.occurred_at and h.unit.occurred_at.year == 2024 for h in recent)
    travel = memory.search("hiked", user_id="g", agent_id="travel")
    assert travel and all(h.unit.scope.agent_id == "travel" for h in travel)


def test_data_survives_reopening(db_path: Path, embedder: WordLlamaEmbedder) -> None:
    with Memory(db_path, embedder=embedder) as m:
        turn = m.add("I keep bees in the back garden", user_id="h").turns[0]
    with Memory(db_path, embedder=embedder) as m:
        assert m.get(turn.id).text == "I keep bees in the back garden"
        assert m.search("bees", user_id="h")[0].sources == (turn.id,)


def test_default_location_is_a_per_user_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    with Memory() as m:
        m.add("remember me", user_id="i")
    assert (tmp_path / "eidetica" / "memory.db").exists()


def test_recorded_at_is_aware_utc(memory: Memory) -> None:
    unit = memory.add("hello there, this is a note", user_id="j").turns[0]
    assert unit.recorded_at.tzinfo is not None
    assert abs((datetime.now(UTC) - unit.recorded_at).total_seconds()) < 600


def test_list_pages_and_refuses_negative_bounds(memory: Memory) -> None:
    for i in range(5):
        memory.add(f"note number {i} about the garden", user_id="k", infer=False)
    turns = memory.list(user_id="k", kinds=["turn"])
    assert memory.list(user_id="k", kinds=["turn"], limit=2, offset=1) == turns[1:3]
    with pytest.raises(UsageError, match="negative"):
        memory.list(user_id="k", limit=-1)
