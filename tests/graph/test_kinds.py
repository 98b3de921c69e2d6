"""What kind of thing a name is, by the name itself and by how its mentions speak of it."""

from __future__ import annotations

import pytest

from eidetica.graph.kinds import kind_of


@pytest.mark.parametrize(
    ("name", "sentences", "kind"),
    [
        ("Ana", ["Sam's sister Ana works at Nubank."], "person"),
        ("Jean", ["One of the residents, Jean, wrote us a letter."], "person"),
        ("Patrick Rothfuss", ["Tim loves a novel by Patrick Rothfuss."], "person"),
        ("Max", ["Sam's dog Max loves the beach."], "pet"),
        ("Biscuit", ["Maya adopted a scruffy terrier mix named Biscuit."], "pet"),
        ("Oslo", ["Sam moved to Oslo last week."], "place"),
        ("Grand Canyon", ["The view was amazing."], "place"),  # the name says it
        ("Nubank", ["Ana works at Nubank."], "organisation"),
        ("Hope Shelter", ["We cooked dinner there."], "organisation"),
        ("Nike", ["John is wearing Nike shoes now."], "organisation"),
        ("Home Alone", ["We watched Home Alone last night."], "other"),
        ("Portuguese", ["Maya is learning Portuguese in Lisbon."], "other"),  # a language
        ("Zorblat", ["Zorblat is interesting."], "other"),  # nothing speaks for a kind
    ],
)
def test_a_kind_from_the_name_or_its_mentions(name: str, sentences: list[str], kind: str) -> None:
    assert kind_of(name, sentences) == kind


def test_whoever_speaks_is_a_person_and_most_votes_win() -> None:
    assert kind_of("Mel", ["Mel moved to Oslo."], speakers=["Mel"]) == "person"
    votes = ["Sam moved to Lisbon.", "Sam flew to Lisbon.", "Sam's friend Lisbon said hi."]
    assert kind_of("Lisbon", votes) == "place"


def test_a_turn_names_a_pet_its_statements_do_not() -> None:
    said = ["Her name's Coco and she's adorable."]
    turn = ["We adopted a puppy last week! Her name's Coco and she's adorable."]
    assert kind_of("Coco", said) == "other"
    assert kind_of("Coco", said, turns=turn) == "pet"
    # A statement that speaks of a kind wins over what the turn says of a pet.
    assert (
        kind_of("Jean", ["Sam's friend Jean called."], turns=["My dog named Jean? No, my friend Jean."])
        == "person"
    )
