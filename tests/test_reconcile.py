"""Reconciliation through the public API, on SQLite and PostgreSQL: duplicates merge, changed
facts supersede (both kept), and searches put the current statement first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eidetica import Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.ingest.claims import analyse
from eidetica.ingest.keys import dedupe_key
from eidetica.ingest.reconcile import MAX_SOURCES
from eidetica.storage import open_store

from .postgres_server import BACKENDS, store_location

FACTS = [
    "Alice's manager is Carol.",
    "Bob's favourite colour is green.",
    "Dana works at Acme Robotics.",
    "Evan lives in Lisbon.",
    "Fiona's dog is called Biscuit.",
]


@pytest.fixture(params=BACKENDS)
def mem(request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Memory]:
    with Memory(store=open_store(store_location(request, tmp_path / "m.db")), embedder=embedder) as memory:
        yield memory


def test_restatements_are_keys_of_one_fact() -> None:
    assert dedupe_key("Alice's manager is Carol.") == dedupe_key("alice's  manager is  carol")
    assert dedupe_key("Alice's manager is Carol.") != dedupe_key("Alice's manager is Bob.")
    assert analyse("Alice's manager is Bob.").claims == analyse("Alice's manager is Bob").claims
    assert not any(c.functional for c in analyse("Bob likes jazz.").claims)


def test_five_facts_said_fifteen_times_stay_five_units(mem: Memory) -> None:
    for round_ in range(15):
        for i, fact in enumerate(FACTS):
            mem.add(fact, user_id="u", timestamp=f"2024-01-{1 + round_:02d}T10:{i:02d}:00Z")
    facts = mem.list(user_id="u", kinds=["fact"], limit=None)
    assert sorted(u.text for u in facts) == sorted(FACTS)
    turns = mem.list(user_id="u", kinds=["turn"], limit=None)
    assert len(turns) == 75  # every turn is still kept verbatim
    for unit in facts:
        # The first and the newest sources stay on the unit; the history names the others.
        said = [t.id for t in turns if t.text == unit.text]
        assert len(said) == 15 and unit.metadata["mentions"] == 15
        assert unit.sources == (said[0], *said[-(MAX_SOURCES - 1) :])
        assert unit.derived_from == unit.sources
        history = mem.history(unit.id, user_id="u")
        assert [entry.op for entry in history] == ["add"] + ["mention"] * 14
        set_aside = [t for entry in history for t in entry.metadata.get("earlier_turns", [])]
        assert sorted(set_aside + list(unit.derived_from)) == sorted(said)


def test_a_repeat_inside_one_add_is_merged_too(mem: Memory) -> None:
    result = mem.add([{"role": "user", "content": FACTS[0]}] * 3, user_id="u")
    assert len(result.turns) == 3
    assert [u.text for u in result.derived] == [FACTS[0]]
    assert len(result.derived[0].sources) == 3


def test_a_changed_fact_closes_the_old_one_and_both_stay(mem: Memory) -> None:
    old = mem.add("Alice's manager is Carol.", user_id="u", timestamp="2024-01-10T09:00:00Z").derived[0]
    result = mem.add("Alice's manager is Bob.", user_id="u", timestamp="2024-06-01T09:00:00Z")
    new = result.derived[0]
    [closed] = [u for u in result.revised if u.kind == "fact"]
    assert closed.id == old.id
    # The turn that said it is closed with it: its words are past, not current.
    [turn] = [u for u in result.revised if u.kind == "turn"]
    assert turn.id in old.derived_from and turn.valid_to == closed.valid_to
    assert closed.valid_to is not None and closed.valid_to.isoformat().startswith("2024-06-01")
    assert mem.get(old.id, user_id="u").metadata["superseded_by"] == new.id
    assert new.metadata["supersedes"] == old.id and new.valid_to is None
    assert [e.op for e in mem.history(old.id, user_id="u")] == ["add", "supersede"]
    facts = {u.text for u in mem.list(user_id="u", kinds=["fact"])}
    assert facts == {"Alice's manager is Carol.", "Alice's manager is Bob."}

    hits = mem.search("Who is Alice's manager?", user_id="u", k=4)
    assert hits[0].text == new.text  # the current statement first: its fact or its turn
    assert old.id in [h.id for h in hits]  # still findable, below the current one
    then = mem.search("Who is Alice's manager?", user_id="u", k=4, as_of="2024-03-01")
    assert old.id in [h.id for h in then] and new.id not in [h.id for h in then]


def test_an_older_statement_arriving_late_is_stored_closed(mem: Memory) -> None:
    current = mem.add("Evan lives in Porto.", user_id="u", timestamp="2024-05-01T09:00:00Z").derived[0]
    late = mem.add("Evan lives in Lisbon.", user_id="u", timestamp="2023-01-01T09:00:00Z").derived[0]
    assert late.valid_to is not None and late.metadata["superseded_by"] == current.id
    assert mem.get(current.id, user_id="u").valid_to is None
    assert mem.search("Where does Evan live?", user_id="u", k=3)[0].id == current.id


def test_reconciliation_stays_inside_one_user(mem: Memory) -> None:
    mine = mem.add("Alice's manager is Carol.", user_id="u1").derived[0]
    theirs = mem.add("Alice's manager is Bob.", user_id="u2").derived[0]
    again = mem.add("Alice's manager is Carol.", user_id="u2").derived
    assert mem.get(mine.id, user_id="u1").valid_to is None
    assert mem.get(mine.id, user_id="u1").sources == mine.sources
    assert mem.get(theirs.id, user_id="u2").valid_to is not None  # u2's own Carol superseded it
    assert again and again[0].id != mine.id


def test_a_change_said_in_other_words_closes_what_it_changed(mem: Memory) -> None:
    mem.add("I've been living in Valencia for six years.", user_id="u", user_name="Tomás",
            timestamp="2023-02-11T10:00:00Z")  # fmt: skip
    mem.add(
        "I prefer aisle seats on flights.", user_id="u", user_name="Tomás", timestamp="2023-02-11T10:01:00Z"
    )
    mem.add("Since March, home has been a little apartment in Bilbao.", user_id="u", user_name="Tomás",
            timestamp="2023-04-02T10:00:00Z")  # fmt: skip
    facts = {u.text: u for u in mem.list(user_id="u", kinds=["fact", "event"], limit=None)}
    valencia = next(u for text, u in facts.items() if "Valencia" in text)
    bilbao = next(u for text, u in facts.items() if "Bilbao" in text)
    assert valencia.valid_to is not None and valencia.metadata["superseded_by"] == bilbao.id
    assert [e.op for e in mem.history(valencia.id, user_id="u")] == ["add", "supersede"]
    assert all(u.valid_to is None for text, u in facts.items() if "aisle" in text)  # another topic
    context = mem.context("Where does Tomás live?", user_id="u").text
    assert any(line.startswith("(past") for line in context.splitlines() if "Valencia" in line)
    cities = [
        h.text
        for h in mem.search("Where does Tomás live?", user_id="u")
        if "Bilbao" in h.text or "Valencia" in h.text
    ]
    assert "Bilbao" in cities[0]
    before = mem.search("Where does Tomás live?", user_id="u", as_of="2023-03-01T00:00:00Z", k=3)
    assert any("Valencia" in h.text for h in before) and not any("Bilbao" in h.text for h in before)


def test_the_statement_of_a_message_that_tells_the_change_is_what_replaces(mem: Memory) -> None:
    mem.add("I take lisinopril every morning for my blood pressure.", user_id="u", user_name="Olu",
            timestamp="2022-03-14T10:00:00Z")  # fmt: skip
    mem.add(
        "Planning a trek in the Atlas mountains, we're a group of six and I'm the one organising it. "
        "Also my doctor changed my tablets in June because of a dry cough, so I'm on losartan now.",
        user_id="u", user_name="Olu", timestamp="2022-08-09T10:00:00Z",
    )  # fmt: skip
    units = mem.list(user_id="u", kinds=["fact", "event"], limit=None)
    lisinopril = next(u for u in units if "lisinopril" in u.text)
    successor = next(u for u in units if u.id == lisinopril.metadata.get("superseded_by"))
    assert "losartan" in successor.text  # not "Planning a trek ...", which says no change
    top = mem.search("What blood pressure medication does Olu take?", user_id="u", k=3)
    assert "losartan" in top[0].text


@pytest.mark.parametrize(
    ("old", "new", "stale"),
    [
        (
            "Tessaly is a landlocked republic. Its capital city is Dorvik, on the river Sel.",
            "Korrin has been the capital of Tessaly since the 2022 constitutional reform.",
            "Dorvik",
        ),
        (
            "Product: Lumen X2 desk lamp. Finish: brushed aluminium. List price: 89 USD.",
            "The Lumen X2 desk lamp retails at 74 USD.",
            "89",
        ),
        (
            "Customer delivery address on file: Kastanienallee 48, 10435 Berlin.",
            "Customer delivery address: Calle Mayor 7, 28013 Madrid.",
            "Kastanienallee",
        ),
    ],
)
def test_facts_from_documents_and_records_are_replaced_by_their_new_value(
    mem: Memory, old: str, new: str, stale: str
) -> None:
    mem.add([{"role": "user", "content": old}], user_id="kb", timestamp="2022-01-01T00:00:00Z")
    mem.add([{"role": "user", "content": new}], user_id="kb", timestamp="2023-01-01T00:00:00Z")
    derived = mem.list(user_id="kb", kinds=["fact", "event"], limit=None)
    assert [u.valid_to is not None for u in derived if stale in u.text] == [True]
    assert all(u.valid_to is None for u in derived if stale not in u.text)


def test_sharing_a_topic_in_chat_closes_nothing(mem: Memory) -> None:
    said = [
        "Jon is passionate about dancing and his studio.",
        "Dancing makes Jon so happy now.",
        "Jon won't quit the studio, no matter what.",
        "We also opened a second dance studio downtown.",
        "Jon is currently teaching a dance class at the studio.",
    ]
    for i, text in enumerate(said):
        mem.add(text, user_id="jon", timestamp=f"2023-0{i + 1}-01T10:00:00Z")
    units = mem.list(user_id="jon", limit=None)
    assert [u.text for u in units if u.valid_to is not None] == []
