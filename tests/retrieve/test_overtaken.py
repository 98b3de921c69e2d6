"""Overtaken at read time: of two rival statements the rules could not reconcile, a question asking
for one value shows the older as probably past, leaves it out of ``as_of`` searches once the newer
was said, and never closes it in storage."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from eidetica import Memory
from eidetica.model import MemoryUnit, Scope
from eidetica.retrieve.overtaken import asks_for_a_value, asks_for_several, overtaken
from eidetica.retrieve.pack import PROBABLY_PAST_MARKER

_OLD_DAY, _NEW_DAY = "2022-01-10", "2023-04-03"


def _said(memory: Memory, name: str, old: str, new: str) -> str:
    """``name`` says ``old``, then over a year later ``new``; returns the user id."""
    user = name.lower()
    memory.add([{"role": "user", "name": name, "content": old}], user_id=user, timestamp=_OLD_DAY)
    memory.add([{"role": "user", "name": name, "content": new}], user_id=user, timestamp=_NEW_DAY)
    return user


def _lines(memory: Memory, question: str, user: str) -> list[str]:
    return memory.context(question, user_id=user).text.splitlines()


def test_a_change_said_in_passing_shows_the_older_value_as_probably_past(memory: Memory) -> None:
    user = _said(
        memory,
        "Kemal",
        "My morning drink is a strong black Turkish coffee.",
        "Morning ritual lately is a big mug of rooibos with honey.",
    )
    question = "What does Kemal drink in the morning?"
    lines = _lines(memory, question, user)
    coffee = [line for line in lines if "coffee" in line]
    assert coffee and all(line.startswith(f"{PROBABLY_PAST_MARKER} 3 April 2023)") for line in coffee), lines
    assert any("rooibos" in line and not line.startswith("(") for line in lines), lines

    # Both stay findable, the newer first; the older names what overtook it.
    hits = memory.search(question, user_id=user, k=6)
    texts = [h.text for h in hits]
    overtaken = [h for h in hits if "coffee" in h.text]
    assert overtaken and all(h.overtaken_by for h in overtaken), texts
    successors = {h.id: h for h in hits}
    assert all("rooibos" in successors[h.overtaken_by].text for h in overtaken if h.overtaken_by)
    assert min(texts.index(h.text) for h in hits if "rooibos" in h.text) < texts.index(overtaken[0].text)

    # Nothing is closed in storage: it is a reading of this question, not a supersession.
    assert all(memory.get(h.id, user_id=user).valid_to is None for h in overtaken)

    # As of a day after the newer statement, the older is left out; before it, it is the answer.
    after = memory.search(question, user_id=user, k=6, as_of="2023-06-01")
    assert after and not any("coffee" in h.text for h in after), [h.text for h in after]
    before = memory.search(question, user_id=user, k=6, as_of="2022-06-01")
    assert any("coffee" in h.text for h in before) and not any("rooibos" in h.text for h in before)


def test_a_name_of_the_question_may_be_said_otherwise_later(memory: Memory) -> None:
    # "Ruth" is "Mum" in the newer statement: the two still answer one question.
    user = _said(
        memory,
        "Helen",
        "My mum Ruth was put on metformin 500 mg twice a day.",
        "Mum's GP raised her metformin to 1000 mg twice a day at her last review.",
    )
    lines = _lines(memory, "What dose of metformin does Ruth take?", user)
    assert [line.startswith(PROBABLY_PAST_MARKER) for line in lines if "mg" in line] == [True, False], lines


def _unit(uid: str, text: str, year: int, role: str = "user") -> MemoryUnit:
    said = datetime(year, 5, 1, tzinfo=UTC)
    return MemoryUnit(
        uid, "fact", text, Scope(user_id="ola"), said, speaker="Ola", role=role, valid_from=said
    )


@pytest.mark.parametrize(
    ("role", "old", "expected"),
    [
        ("user", "Ola drinks a glass of water every morning.", {"old"}),
        # Advice holds no value of the user's.
        ("assistant", "Ola drinks a glass of water every morning.", set()),
        # Nor does a question.
        ("user", "What does Ola drink every morning?", set()),
    ],
)
def test_only_statements_by_the_user_side_are_overtaken(role: str, old: str, expected: set[str]) -> None:
    older = _unit("old", old, 2022, role)
    newer = _unit("new", "Ola drinks rooibos with honey every morning.", 2023)
    pair, units = (older, newer), {"old": older, "new": newer}
    found = overtaken("What does Ola drink in the morning?", [pair], frozenset({"drink", "morn"}), units)
    assert set(found) == expected


@pytest.mark.parametrize(
    ("name", "old", "new", "question"),
    [
        # The question asks for several values.
        (
            "Ana",
            "I speak Portuguese at home with my grandmother.",
            "Started speaking Japanese at my weekly class, slowly.",
            "Which languages does Ana speak?",
        ),
        # The newer statement says it adds one, by a cue or by counting what is asked.
        (
            "Elif",
            "I work as a nurse on a cardiology ward, twelve hour shifts.",
            "Picked up weekend shifts as a barista too, for extra cash.",
            "Where does Elif work?",
        ),
        (
            "Elif",
            "I work as a nurse on a cardiology ward, twelve hour shifts.",
            "Picked up weekend shifts as a barista at a café. Is it a problem to have two jobs?",
            "Where does Elif work?",
        ),
        # One relation of two subjects.
        (
            "Tolu",
            "My parents live in Lagos.",
            "My aunt lives in Abuja and runs a pharmacy.",
            "Where does Tolu's family live?",
        ),
        # Only one of the two names the thing the question asks about.
        (
            "Mira",
            "The Alto desk costs 610 euros.",
            "The Alto shelf costs 130 euros.",
            "How much is the Alto desk?",
        ),
        # The question is about the past.
        (
            "Kemal",
            "My morning drink is a strong black Turkish coffee.",
            "Morning ritual lately is a big mug of rooibos with honey.",
            "What did Kemal drink in the morning in 2022?",
        ),
        # Going somewhere new adds a destination.
        (
            "Iona",
            "Skylark Air flies from Glasgow to Reykjavik.",
            "Skylark Air launched a Glasgow to Vagar route in the Faroes.",
            "Where does Skylark Air fly from Glasgow?",
        ),
        # "too" that ends the clause naming what is asked adds.
        (
            "Wren",
            "I play the cello in a quartet.",
            "I play the banjo too, at a folk session, not too seriously.",
            "What instrument does Wren play?",
        ),
        # People play several instruments at once: a new one adds, with no word saying so.
        (
            "Owen",
            "I've played cello in a community orchestra for ten years.",
            "Picked up a banjo at a flea market and I'm hooked.",
            "What instrument does Owen play?",
        ),
    ],
    ids=[
        "several values",
        "adds",
        "counts two",
        "other subjects",
        "other thing",
        "about the past",
        "goes to another place",
        "too ends the clause",
        "several held at once",
    ],
)
def test_statements_that_may_both_hold_are_never_shown_as_past(
    memory: Memory, name: str, old: str, new: str, question: str
) -> None:
    user = _said(memory, name, old, new)
    lines = _lines(memory, question, user)
    assert lines and not any(line.startswith("(past") for line in lines), lines
    assert not any(h.overtaken_by for h in memory.search(question, user_id=user, k=6))


@pytest.mark.parametrize(
    ("question", "several"),
    [
        ("What pets does Rosa have?", True),
        ("Who are Imani's close friends?", True),
        ("Where are the company's campuses?", True),
        ("What cars do Ahmed and Layla drive?", True),
        ("Which city does Amélie live in?", False),
        ("Who is Fatima's personal trainer?", False),
        ("What does Biscuit eat these days?", False),
        ("How much is the Alto chair?", False),
        # By the noun asked for, not a plural elsewhere, nor the verb after "who".
        ("Which room is the Thursday sagas seminar in?", False),
        ("Who owns the Kestrel Inn?", False),
        ("Which languages is Solveig learning?", True),
    ],
)
def test_a_question_asks_for_several_values_when_it_says_so(question: str, several: bool) -> None:
    assert asks_for_several(question) is several


@pytest.mark.parametrize(
    ("name", "old", "new", "question", "past"),
    [
        # An addition in a clause that does not name the diet changes nothing about it.
        (
            "Priya",
            "I'm vegetarian but I still eat paneer a lot.",
            "I've cut out dairy and eggs too, fully vegan since April.",
            "What diet does Priya follow?",
            "vegetarian",
        ),
        # A singular thing asked for, with no word of the lexicon.
        (
            "Walter",
            "The chess club meets at the Carnegie Library on Wednesdays.",
            "The chess club meets at the Brewhouse Tavern on Wednesdays.",
            "What is the venue of Walter's chess club?",
            "Carnegie",
        ),
        # The word beside a name may be left out later ("daughter Freya", then "Freya").
        (
            "Ingrid",
            "My daughter Freya has just started second grade at Lindholm School.",
            "After our move, Freya is enrolled at Bergvik Skole.",
            "Which school does Ingrid's daughter Freya attend?",
            "Lindholm",
        ),
        # How someone gets to work asks how they travel.
        (
            "Tunde",
            "I commute by bus, the 47, and it takes forever. Any podcasts for the ride?",
            "My scooter needs a service soon. How often should I change the oil if I ride it to work?",
            "How does Tunde get to work?",
            "bus",
        ),
    ],
    ids=["too in another clause", "one thing asked", "beside a name", "how one travels"],
)
def test_a_newer_value_overtakes_where_only_wording_looked_additive(
    memory: Memory, name: str, old: str, new: str, question: str, past: str
) -> None:
    user = _said(memory, name, old, new)
    lines = _lines(memory, question, user)
    naming = [line for line in lines if past in line]
    assert naming and all(line.startswith("(past") for line in naming), lines


@pytest.mark.parametrize(
    ("newer", "expected"),
    [
        # "too" before a word is an intensifier ...
        ("Rooibos every morning now, not too sweet.", {"old"}),
        # ... ending a clause that names the drink, it adds one.
        ("Rooibos every morning now, and green tea too.", set()),
        ("Ola also has rooibos every morning.", set()),
    ],
)
def test_too_adds_where_it_ends_a_clause(newer: str, expected: set[str]) -> None:
    older = _unit("old", "Ola drinks a glass of water every morning.", 2022)
    new = _unit("new", newer, 2023)
    units = {"old": older, "new": new}
    found = overtaken(
        "What does Ola drink in the morning?", [(older, new)], frozenset({"drink", "morn"}), units
    )
    assert set(found) == expected


def test_statements_said_together_are_two_facts_not_a_change() -> None:
    older = _unit("old", "Liam leads the data platform team.", 2023)
    question, stems = "Who leads the data platform team?", frozenset({"lead", "data", "platform", "team"})
    for gap, expected in ((timedelta(minutes=2), set()), (timedelta(days=200), {"old"})):
        newer = dataclasses.replace(
            older,
            id="new",
            text="The data platform team owns the event pipeline.",
            valid_from=older.holds_from + gap,
        )
        found = overtaken(question, [(older, newer)], stems, {"old": older, "new": newer})
        assert set(found) == expected, gap


def test_words_of_when_say_nothing_of_what_is_asked() -> None:
    older = _unit("old", "Ola drinks five cans of cola a day.", 2022)
    newer = _unit("new", "Ola is on sparkling water these days.", 2023)
    units = {"old": older, "new": newer}
    stems = frozenset({"drink", "dur", "day"})
    assert set(overtaken("What does Ola drink during the day?", [(older, newer)], stems, units)) == {"old"}


@pytest.mark.parametrize(
    ("question", "one"),
    [
        ("Which project management tool does Nadia's team use?", True),
        ("What is the venue of Arthur's chess club?", True),
        ("Where does the Northside Chess Club meet?", True),
        ("Who is Amara's emergency contact?", True),
        ("Who owns the Kestrel Inn?", True),
        ("When is Paper Harbors released?", True),
        ("Where does Fenella's son go to school?", True),
        ("Where does Sam go on holiday?", False),
        ("In which city does Oskar live?", True),
        ("What is Sofia reading?", False),
        ("Where does Skylark Air fly from Glasgow?", False),
        ("What would Sam like for his birthday?", False),
        ("Why did Sam leave?", False),
    ],
)
def test_a_question_asks_for_one_value_by_a_singular_thing(question: str, one: bool) -> None:
    assert asks_for_a_value(question) is one


def test_what_overtook_a_statement_ranks_above_it_and_its_turn(memory: Memory) -> None:
    """The newest of a chain ranks first, above the overtaken turns too; "the side" is a team,
    not a side job."""
    for day, text in [
        ("2016-05-01", "The captain of the Veldor national hockey team is Anna Berg."),
        ("2019-11-01", "Veldor's hockey captaincy passed to Mia Lund ahead of the winter tour."),
        ("2023-07-01", "Veldor hockey: Sara Holm leads the side as captain."),
    ]:
        memory.add([{"role": "user", "content": text}], user_id="kb", timestamp=day)
    hits = memory.search("Who captains the Veldor national hockey team?", user_id="kb", k=4)
    assert "Holm" in hits[0].text, [h.text for h in hits]
    assert all(h.overtaken_by or h.unit.valid_to for h in hits if "Berg" in h.text), [h.text for h in hits]
