"""Names: role labels read as nouns; a user's name learned from "I'm Sam" and given to their turns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eidetica.ingest.extract import RuleExtractor
from eidetica.ingest.formats import from_messages
from eidetica.ingest.names import (
    introduced_name,
    is_role_label,
    listeners,
    name_user_turns,
    speaker_phrase,
)
from eidetica.model import TurnInput

TS = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


@pytest.mark.parametrize(
    ("speaker", "phrase"),
    [("user", "the user"), ("User", "the user"), ("ASSISTANT", "the assistant"), ("system", "the system")],
)
def test_role_labels_are_noun_phrases(speaker: str, phrase: str) -> None:
    assert is_role_label(speaker)
    assert speaker_phrase(speaker) == phrase


@pytest.mark.parametrize("speaker", ["Caroline", "Sam Lee", "Userton", "", None])
def test_names_are_not_role_labels(speaker: str | None) -> None:
    assert not is_role_label(speaker)
    if speaker:
        assert speaker_phrase(speaker) == speaker


# --- introduced_name ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("I'm Sam", "Sam"),
        ("I am Sam Lee", "Sam Lee"),
        ("my name is Sam", "Sam"),
        ("My name's Sam.", "Sam"),
        ("call me Sam", "Sam"),
        ("Sam here", "Sam"),
        ("This is Sam speaking", "Sam"),
        ("Hi, I'm Sam and I live in Paris.", "Sam"),
        ("Hello! I'm Ana de Souza, nice to meet you", "Ana de Souza"),
        ("hey im Priya from Leeds", "Priya"),
        ("i am Priya", "Priya"),
        ("my name is sam", "Sam"),  # after "my name is" a lower-case name is still a name
        ("you can call me sam.", "Sam"),
        ("Hi there, this is Sam.", "Sam"),
        ("Hey, it's Sam!", "Sam"),
        ("Sam here, quick question about my order.", "Sam"),
        ("Good morning everyone, Sam here.", "Sam"),
        ("Name's Bond.", "Bond"),
        ("I go by Alex.", "Alex"),
        ("I'm Mary-Jane O'Brien.", "Mary-Jane O'Brien"),
        ("I'm José from Madrid", "José"),
        ("Hello, my name is Li Wei and I work at a bank.", "Li Wei"),
        ("So yeah, I'm Tom. I need help with my taxes.", "Tom"),
        ("I'm tired today. Anyway, my name is Kim.", "Kim"),
    ],
)
def test_introductions(text: str, name: str) -> None:
    assert introduced_name(text) == name


@pytest.mark.parametrize(
    "text",
    [
        "I'm Tired",
        "I'm vegan",
        "I'm in Paris",
        "I'm Going home",
        "my name is on the list",
        "my name is written on the cup",
        "I'm Sam's dad",
        "I'm Excited!",
        "I'm So happy",
        "I'm Sorry.",
        "I'm Happy to help",
        "I'm Working on it",
        "I'm Interested in that",
        "I'm Canadian.",
        "I'm Jewish",
        "I'm Vietnamese",
        "I'm Hungry",
        "I'm Monday",
        "I'm not Sam",
        "I'm Sam Happy to help",  # unsure where the name ends: refused
        "I am Vegan and proud",
        "Everyone here.",
        "Same here!",
        "Over here!",
        "Tired here.",
        "Sam is here.",
        "This is Paris.",
        "This is Sam's car",
        "It's Sam's birthday",
        "call me back",
        "call me crazy",
        "call me later tonight",
        "I love Sam",
        "What's up, I'm Back!",
        "",
    ],
)
def test_non_introductions(text: str) -> None:
    assert introduced_name(text) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_introduced_name_never_raises_and_returns_a_stripped_name(text: str) -> None:
    name = introduced_name(text)
    assert name is None or (name and name == name.strip() and name.casefold() in text.casefold())


# --- name_user_turns ----------------------------------------------------------------------------


def user(content: str, speaker: str | None = "user", role: str | None = "user") -> TurnInput:
    return TurnInput(content, speaker=speaker, role=role, timestamp=TS, session_id="s")


def test_known_name_goes_to_unnamed_user_turns_only() -> None:
    turns = [
        user("I moved to Lisbon."),
        user("ok", speaker="USER"),
        user("plain text", speaker=None, role=None),
        user("Sure thing.", speaker="assistant", role="assistant"),
        user("Hi from Ana.", speaker="Ana"),
        user("No speaker, but the assistant's.", speaker=None, role="assistant"),
    ]
    renamed, name = name_user_turns(turns, "Sam")
    assert [t.speaker for t in renamed] == ["Sam", "Sam", "Sam", "assistant", "Ana", None]
    assert [t.role for t in renamed] == [t.role for t in turns]
    assert [t.content for t in renamed] == [t.content for t in turns]
    assert name == "Sam"
    assert turns[0].speaker == "user"  # the input is not modified


def test_an_introduction_names_its_turn_and_the_later_ones() -> None:
    turns = [user("I need help with my garden."), user("Hi, I'm Sam."), user("I grow tomatoes.")]
    renamed, name = name_user_turns(turns, None)
    assert [t.speaker for t in renamed] == ["user", "Sam", "Sam"]
    assert name == "Sam"


def test_an_introduction_replaces_the_name_given() -> None:
    renamed, name = name_user_turns([user("ok"), user("Call me Alex."), user("fine")], "Sam")
    assert [t.speaker for t in renamed] == ["Sam", "Alex", "Alex"]
    assert name == "Alex"


def test_only_unnamed_user_turns_can_introduce() -> None:
    turns = [
        user("I'm Max, your assistant.", speaker="assistant", role="assistant"),
        user("I'm Ana.", speaker="Caroline"),
        user("I grow tomatoes."),
    ]
    renamed, name = name_user_turns(turns, None)
    assert [t.speaker for t in renamed] == ["assistant", "Caroline", "user"]
    assert name is None


def test_no_turns_keeps_the_name() -> None:
    assert name_user_turns([], "Sam") == ([], "Sam")
    assert name_user_turns([], "  ") == ([], None)


def test_names_flow_into_extracted_statements() -> None:
    turns = from_messages(
        [
            {"role": "user", "content": "Hi, I'm Sam and I live in Paris."},
            {"role": "assistant", "content": "I can recommend some cafés near you."},
            {"role": "user", "content": "I work as a nurse and volunteer at the shelter."},
        ],
        session_id="s",
        timestamp=TS,
    )
    renamed, name = name_user_turns(turns, None)
    assert name == "Sam"
    assert [u.text for u in RuleExtractor().extract(renamed)] == [
        "The user's name is Sam and Sam lives in Paris.",
        "The assistant can recommend some cafés near Sam.",
        "Sam works as a nurse and volunteers at the shelter.",
    ]


def test_listeners_are_the_nearest_other_speaker_in_the_session() -> None:
    turns = [
        TurnInput("a", speaker="Ann", session_id="1"),
        TurnInput("b", speaker="Bob", session_id="1"),
        TurnInput("c", speaker="Ann", session_id="2"),
        TurnInput("d", speaker="Cy", session_id="2"),
        TurnInput("e", speaker=None, session_id="1"),
    ]
    assert listeners(turns) == ["Bob", "Ann", "Cy", "Ann", None]
