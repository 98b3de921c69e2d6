"""The contract every Store backend must pass; parametrise ``store`` to add a backend."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eidetica.errors import NotFoundError, StoreError
from eidetica.ids import new_id
from eidetica.model import MemoryUnit, Scope
from eidetica.storage import NewUnit, NewVersion, Replacement, Revision, Store, UnitFilter, open_store
from eidetica.storage.base import NEWEST_WALK

from ..postgres_server import BACKENDS, store_location

#: How far a cosine read back from a store may be off: SQLite keeps 4 bits a component.
QUANTISED = 2e-2

DIM = 8
T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    backend = open_store(store_location(request, tmp_path / "contract.db"))
    backend.check_embedder("test/8", DIM)
    yield backend
    backend.close()


def unit(
    text: str,
    user: str = "u1",
    *,
    kind: str = "turn",
    tenant: str = "default",
    ref: str | None = None,
    when: datetime = T0,
    **extra: object,
) -> MemoryUnit:
    return MemoryUnit(
        id=new_id(),
        kind=kind,
        text=text,
        scope=Scope(user_id=user, tenant=tenant),  # type: ignore[arg-type]
        recorded_at=T0,
        occurred_at=when,
        ref=ref,
        sources=(ref or "x",),
        **extra,  # type: ignore[arg-type]
    )


def vec(seed: int) -> np.ndarray:
    v = np.random.default_rng(seed).normal(size=DIM).astype(np.float32)
    return v / np.linalg.norm(v)


def put(store: Store, *units: MemoryUnit) -> None:
    store.add([NewUnit(u, vec(i), u.text) for i, u in enumerate(units)])


def test_round_trip_keeps_every_field(store: Store) -> None:
    original = unit(
        "Alice likes tea",
        kind="fact",
        ref=None,
        entities=("alice",),
        derived_from=("01X",),
        metadata={"k": [1, 2]},
        valid_from=T0,
        speaker="Alice",
    )
    put(store, original)
    assert store.get(original.id, tenant="default") == original


def test_add_is_all_or_nothing(store: Store) -> None:
    a = unit("first", ref="r1")
    clash = unit("second", ref="r1")  # the same caller ref twice violates uniqueness
    with pytest.raises(StoreError):
        put(store, a, clash)
    with pytest.raises(NotFoundError):
        store.get(a.id, tenant="default")


def test_lexical_and_vector_search_stay_inside_one_user(store: Store) -> None:
    put(
        store,
        unit("sailing on the lake", "u1"),
        unit("sailing on the lake", "u2"),
        unit("sailing on the lake", "u1", tenant="other"),
    )
    where = UnitFilter(Scope(user_id="u1"))
    for ranked in (
        store.search_lexical(where, ["sailing"], 10),
        store.search_vector(where, vec(0), 10),
    ):
        assert len(ranked) == 1
        assert store.get(ranked[0][0], tenant="default").scope == Scope(user_id="u1")


def test_lexical_ranks_better_matches_first(store: Store) -> None:
    put(store, unit("tea"), unit("green tea is my favourite tea"), unit("coffee"))
    ranked = store.search_lexical(UnitFilter(Scope(user_id="u1")), ["green", "tea"], 10)
    texts = [store.get(uid, tenant="default").text for uid, _ in ranked]
    assert texts == ["green tea is my favourite tea", "tea"]
    assert ranked[0][1] > ranked[1][1]


def test_vector_search_orders_by_cosine(store: Store) -> None:
    units = [unit(f"u{i}") for i in range(5)]
    store.add([NewUnit(u, vec(i), u.text) for i, u in enumerate(units)])
    ranked = store.search_vector(UnitFilter(Scope(user_id="u1")), vec(3), 3)
    # Stores may keep vectors quantised (SQLite: 4 bits a component), so a cosine of 1 comes back
    # within 0.02 (0.99 for 256-dimensional unit vectors, tests/storage/test_vector_codec.py).
    assert ranked[0][0] == units[3].id and ranked[0][1] == pytest.approx(1.0, abs=2e-2)
    assert [s for _, s in ranked] == sorted((s for _, s in ranked), reverse=True)


def test_filters_by_kind_and_time(store: Store) -> None:
    old, new = unit("hike", when=T0), unit("hike", kind="event", when=T0 + timedelta(days=30))
    put(store, old, new)
    scope = Scope(user_id="u1")
    later = UnitFilter(scope, since=T0 + timedelta(days=1))
    assert [i for i, _ in store.search_lexical(later, ["hike"], 10)] == [new.id]
    events = UnitFilter(scope, kinds=("event",))
    assert [i for i, _ in store.search_vector(events, vec(0), 10)] == [new.id]


def test_update_delete_history(store: Store) -> None:
    fact = unit("Dan works at the bakery", kind="fact")
    put(store, fact)
    store.update(
        NewVersion(fact.id, "Dan works at the library", vec(9), "Dan works at the library"), tenant="default"
    )
    where = UnitFilter(Scope(user_id="u1"))
    assert store.search_lexical(where, ["bakery"], 10) == []
    assert store.search_lexical(where, ["library"], 10)[0][0] == fact.id
    store.delete(fact.id, tenant="default")
    assert store.search_lexical(where, ["library"], 10) == []
    assert store.search_vector(where, vec(9), 10) == []
    assert [e.op for e in store.history(fact.id, tenant="default")] == ["add", "update", "delete"]
    assert store.get(fact.id, tenant="default").status == "deleted"


def test_scope_checked_reads(store: Store) -> None:
    mine = unit("mine", "u1")
    put(store, mine)
    with pytest.raises(NotFoundError):
        store.get(mine.id, tenant="default", user_id="u2")
    with pytest.raises(NotFoundError):
        store.delete(mine.id, tenant="default", user_id="u2")
    assert store.get(mine.id, tenant="default", user_id="u1").status == "active"


def test_by_id_operations_stay_inside_one_tenant(store: Store) -> None:
    theirs = unit("their fact", "u1", kind="fact", tenant="acme")
    put(store, theirs)
    for user in (None, "u1"):
        with pytest.raises(NotFoundError):
            store.get(theirs.id, tenant="default", user_id=user)
        with pytest.raises(NotFoundError):
            store.history(theirs.id, tenant="default", user_id=user)
        with pytest.raises(NotFoundError):
            store.update(NewVersion(theirs.id, "x", vec(1), "x"), tenant="default", user_id=user)
        with pytest.raises(NotFoundError):
            store.delete(theirs.id, tenant="default", user_id=user)
    assert store.get_many([theirs.id], tenant="default") == {}
    assert store.get_many([theirs.id], tenant="acme", user_id="u2") == {}
    assert store.get_many([theirs.id], tenant="acme") == {theirs.id: theirs}
    assert [e.op for e in store.history(theirs.id, tenant="acme")] == ["add"]


def test_revisions_change_provenance_and_validity_in_the_same_transaction(store: Store) -> None:
    fact = unit("Dan works at the bakery", kind="fact", derived_from=("t1",))
    put(store, fact)
    later = T0 + timedelta(days=3)
    revised = dataclasses.replace(
        fact,
        sources=("x", "t2"),
        derived_from=("t1", "t2"),
        valid_to=later,
        metadata={"mentions": 2},
        version=2,
    )
    newer = unit("Dan works at the library", kind="fact")
    store.add([NewUnit(newer, vec(5), newer.text)], revisions=[Revision(revised, "supersede")])
    assert store.get(fact.id, tenant="default") == revised
    assert [(e.op, e.version) for e in store.history(fact.id, tenant="default")] == [
        ("add", 1),
        ("supersede", 2),
    ]
    # The text and its index entries stay: the revised unit is still found by its words.
    where = UnitFilter(Scope(user_id="u1"))
    assert [i for i, _ in store.search_lexical(where, ["bakery"], 10)] == [fact.id]
    # A failing batch rolls its revisions back too.
    with pytest.raises(StoreError):
        store.add(
            [NewUnit(newer, vec(5), newer.text)],  # already stored
            revisions=[Revision(dataclasses.replace(revised, version=3), "mention")],
        )
    assert store.get(fact.id, tenant="default").version == 2


def test_forget_erases_one_user_only(store: Store) -> None:
    put(store, unit("a", "u1"), unit("b", "u1", kind="fact"), unit("c", "u2"))
    assert store.forget("default", "u1") == 2
    assert store.stats("default", "u1").units == 0
    assert store.stats("default", "u2").units == 1


def test_replace_derived_swaps_one_users_derived_units(store: Store) -> None:
    turn, old = unit("I moved to Lisbon", ref="D1:1"), unit("u1 moved to Lisbon", kind="fact")
    others = unit("u2 moved to Porto", "u2", kind="fact"), unit("moved", tenant="other", kind="fact")
    spared = unit("u1 likes tea", kind="fact")
    put(store, turn, old, spared, *others)
    new = unit("u1 lives in Lisbon", kind="fact", derived_from=(turn.id,))
    named = [old.id, turn.id, *(o.id for o in others)]  # turns and other owners' units never go
    assert (
        store.replace_derived(Scope(user_id="u1"), Replacement([NewUnit(new, vec(5), new.text)], drop=named))
        == 1
    )
    with pytest.raises(NotFoundError):
        store.get(old.id, tenant="default")
    assert store.get(spared.id, tenant="default") == spared
    assert store.get(turn.id, tenant="default") == turn
    assert store.get(new.id, tenant="default") == new
    assert [h.op for h in store.history(new.id, tenant="default")] == ["add"]
    where = UnitFilter(Scope(user_id="u1"))
    assert [uid for uid, _ in store.search_lexical(where, ["lives"], 10)] == [new.id]
    assert [uid for uid, _ in store.search_vector(where, vec(5), 1)] == [new.id]
    for other in others:
        assert store.get(other.id, tenant=other.scope.tenant) == other


def test_replace_derived_is_all_or_nothing(store: Store) -> None:
    old = unit("u1 moved to Lisbon", kind="fact")
    put(store, old)
    new = unit("u1 lives in Lisbon", kind="fact")
    with pytest.raises(StoreError):  # the same id twice: the second insert fails
        store.replace_derived(
            Scope(user_id="u1"), Replacement([NewUnit(new, vec(1), new.text)] * 2, drop=[old.id])
        )
    assert store.get(old.id, tenant="default") == old
    with pytest.raises(NotFoundError):
        store.get(new.id, tenant="default")


def test_a_unit_stored_without_a_vector_is_found_by_words_until_it_gets_one(store: Store) -> None:
    plain, pending, deleted = unit("tea"), unit("green tea"), unit("tea again")
    store.add(
        [NewUnit(plain, vec(0), "tea"), NewUnit(pending, None, "green tea"), NewUnit(deleted, None, "x")]
    )
    store.delete(deleted.id, tenant="default")
    where = UnitFilter(Scope(user_id="u1"))
    assert [uid for uid, _ in store.search_vector(where, vec(1), 10)] == [plain.id]
    assert pending.id in {uid for uid, _ in store.search_lexical(where, ["green"], 10)}
    assert store.unembedded("default", "u1", 10) == [pending]
    assert store.unembedded("default", "u2", 10) == []
    assert store.stats("default", "u1").unembedded == 1  # the deleted one is not waiting
    store.set_vectors("default", {pending.id: vec(1), plain.id: vec(2)})  # plain keeps its vector
    assert store.unembedded("default", "u1", 10) == []
    assert store.stats("default", "u1").unembedded == 0
    ranked = store.search_vector(where, vec(1), 10)
    assert ranked[0] == (pending.id, pytest.approx(1.0, abs=QUANTISED))
    assert dict(ranked)[plain.id] == pytest.approx(float(vec(0) @ vec(1)), abs=QUANTISED)


def test_existing_refs(store: Store) -> None:
    put(store, unit("a", ref="D1:1"), unit("b", "u2", ref="D1:2"))
    assert store.existing_refs(Scope(user_id="u1"), ["D1:1", "D1:2", "D9:9"]) == {"D1:1"}


def test_list_units_in_time_order(store: Store) -> None:
    late, early = unit("late", when=T0 + timedelta(hours=1)), unit("early", when=T0)
    put(store, late, early)
    assert [u.text for u in store.list_units(UnitFilter(Scope(user_id="u1")))] == ["early", "late"]


def test_embedder_mismatch_is_refused(store: Store) -> None:
    with pytest.raises(StoreError, match="same embedder"):
        store.check_embedder("another/384", 384)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(
    text=st.text(min_size=1, max_size=300).filter(lambda s: "\x00" not in s),
    user=st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s),
    meta=st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10), max_size=4),
)
def test_any_text_round_trips(store: Store, text: str, user: str, meta: dict[str, object]) -> None:
    original = unit(text, user, metadata=meta)
    put(store, original)
    assert store.get(original.id, tenant="default", user_id=user) == original


def test_newest_with_words_reads_the_newest_holders_of_each_word(store: Store) -> None:
    old = [unit(f"zqmarker tea note {i}", kind="fact") for i in range(5)]
    for u in old:  # one add each: stored one after another
        put(store, u)
    other = unit("zqother coffee", kind="fact")
    turn = unit("zqmarker said in a turn")
    put(store, other, turn)
    derived = UnitFilter(Scope(user_id="u1"), kinds=("fact",))
    found = store.newest_with_words(derived, ["zqmarker", "zqother"], per_word=2)
    assert set(found) == {old[4].id, old[3].id, other.id}
    assert store.newest_with_words(UnitFilter(Scope(user_id="u2")), ["zqmarker"], per_word=2) == []


def test_newest_with_words_reads_a_bounded_number_of_a_words_newest_units(store: Store) -> None:
    buried = unit("zqword in an old fact", kind="fact")
    put(store, buried)
    put(store, *[unit(f"zqword said in turn {i}") for i in range(NEWEST_WALK + 10)])
    facts = UnitFilter(Scope(user_id="u1"), kinds=("fact",))
    # Past the walk, a word's older holders are not read: the cost stays bounded by it.
    assert store.newest_with_words(facts, ["zqword"], per_word=1) == []
    assert store.newest_with_words(facts, ["zqword"], per_word=2) == [buried.id]
    recent = unit("zqword in a new fact", kind="fact")
    put(store, recent)
    assert store.newest_with_words(facts, ["zqword"], per_word=1) == [recent.id]


def test_word_counts_say_how_many_of_the_users_units_hold_each_word(store: Store) -> None:
    put(store, unit("zqalpha zqbeta"), unit("zqalpha again"), unit("zqalpha zqbeta", user="u2"))
    counts = store.word_counts(UnitFilter(Scope(user_id="u1")), ["zqalpha", "zqbetas", "zqnever"])
    assert counts.units == 2
    # Words count as the index stems them ("zqbetas" is "zqbeta"); another user's are not counted.
    assert counts.holding == {"zqalpha": 2, "zqbetas": 1, "zqnever": 0}
    assert store.word_counts(UnitFilter(Scope(user_id="u3")), ["zqalpha"]).holding == {"zqalpha": 0}


def test_flagged_keeps_the_units_whose_metadata_holds_the_key(store: Store) -> None:
    held = unit("held", metadata={"quarantine": {"reasons": ["x"]}})
    held_null = unit("held with no value", metadata={"quarantine": None})
    others = [
        unit("plain"),
        unit("another key", metadata={"quarantined": True}),
        unit("nested", metadata={"project": {"quarantine": 1}}),
    ]
    put(store, held, held_null, *others)
    found = store.list_units(UnitFilter(Scope(user_id="u1"), flagged="quarantine"))
    assert sorted(u.id for u in found) == sorted([held.id, held_null.id])
    assert store.list_units(UnitFilter(Scope(user_id="u2"), flagged="quarantine")) == []


def test_count_can_stop_early(store: Store) -> None:
    put(store, *[unit(f"turn {i}") for i in range(7)])
    where = UnitFilter(Scope(user_id="u1"))
    assert store.count(where) == 7
    assert store.count(where, at_most=3) == 3
    assert store.count(where, at_most=10) == 7


def test_history_gives_each_version_its_text_through_edits(store: Store) -> None:
    fact = unit("Sam plays the violin", kind="fact")
    put(store, fact)
    store.add([], revisions=[Revision(dataclasses.replace(fact, version=2), "mention")])
    store.update(NewVersion(fact.id, "Sam plays the viola", vec(1), "Sam plays the viola"), tenant="default")
    now = store.get(fact.id, tenant="default")
    store.add([], revisions=[Revision(dataclasses.replace(now, version=4), "mention")])
    store.update(NewVersion(fact.id, "Sam plays the cello", vec(2), "Sam plays the cello"), tenant="default")
    store.delete(fact.id, tenant="default")
    entries = [(e.op, e.text) for e in store.history(fact.id, tenant="default")]
    assert entries == [
        ("add", "Sam plays the violin"),
        ("mention", "Sam plays the violin"),
        ("update", "Sam plays the viola"),
        ("mention", "Sam plays the viola"),
        ("update", "Sam plays the cello"),
        ("delete", "Sam plays the cello"),
    ]


def test_speakers_are_the_distinct_speakers_of_active_turns(store: Store) -> None:
    said = [
        unit("hi", speaker="Caroline", role="user"),
        unit("hello", speaker="Caroline", role="user"),
        unit("hey there", speaker="Melanie", role="assistant"),
        unit("no role", speaker="Zed"),
        unit("no speaker"),
        unit("a fact about Omar", kind="fact", speaker="Omar"),
        unit("another user's turn", user="u2", speaker="Nobody"),
    ]
    gone = unit("deleted turn", speaker="Ghost", role="user")
    put(store, *said, gone)
    store.delete(gone.id, tenant="default")
    where = UnitFilter(Scope(user_id="u1"))
    assert sorted(store.speakers(where)) == ["Caroline", "Melanie", "Zed"]
    assert store.speakers(dataclasses.replace(where, roles=("user",))) == ["Caroline"]
    assert sorted(store.speakers(dataclasses.replace(where, roles=("user", "assistant")))) == [
        "Caroline",
        "Melanie",
    ]


def test_a_tenants_stats_do_not_move_when_another_tenant_writes(store: Store) -> None:
    put(store, unit("I like green tea", tenant="acme"))
    before = store.stats("acme", None)
    assert before.bytes_on_disk and before.bytes_on_disk > len("I like green tea")
    put(store, *(unit(f"globex note {i} " + "x" * 500, tenant="globex") for i in range(50)))
    assert store.stats("acme", None) == before
    assert store.stats("globex", None).bytes_on_disk > 50 * 500  # type: ignore[operator]


def test_users_lists_the_tenants_users_in_order(store: Store) -> None:
    put(store, unit("a", "zoe"), unit("b", "ana"), unit("c", "ana"), unit("d", "max", tenant="other"))
    gone = unit("e", "bob")
    put(store, gone)
    store.forget("default", "bob")
    assert store.users("default") == ["ana", "zoe"]
    assert store.users("other") == ["max"]
    assert store.users("nobody") == []


def test_stored_embedder_names_the_embedder_of_the_vectors(store: Store, tmp_path: Path) -> None:
    assert store.stored_embedder() == "test/8"
    fresh = open_store(tmp_path / "fresh.db")
    try:
        assert fresh.stored_embedder() is None
        fresh.check_embedder("test/8", DIM)
        assert fresh.stored_embedder() == "test/8"
    finally:
        fresh.close()
