"""Entities, entity cards and related units, read from what memory holds, over SQLite and
PostgreSQL: who and what is mentioned, of what kind, under which names; what memory holds about
each (current facts first, relations with their validity); and how they follow edits, deletions,
``forget`` and other users."""

from __future__ import annotations

import pytest

from eidetica import Memory, NotFoundError, UsageError

U = "sam"


@pytest.fixture
def told(mem: Memory) -> Memory:
    """Sam talks to Mel about a sister, a dog, a job and a move, over two sessions."""
    mem.add(
        [
            {"role": "user", "name": "Sam", "content": "I live in Lisbon. My sister Ana works at Nubank."},
            {"role": "assistant", "name": "Mel", "content": "How is Ana doing these days?"},
            {"role": "user", "name": "Sam", "content": "My dog Max loves the beach near Cascais."},
            {"role": "user", "name": "Sam", "content": "Hey Mel, I met Jean at the shelter yesterday."},
            {"role": "user", "name": "Sam", "content": "You helped me a lot with the boxes last weekend."},
        ],
        user_id=U,
        session_id="march",
        timestamp="2024-03-01T10:00:00Z",
    )
    mem.add(
        [
            {"role": "user", "name": "Sam", "content": "I moved from Lisbon to Oslo last week."},
            {"role": "assistant", "name": "Melanie", "content": "Oslo is lovely in the autumn."},
            {"role": "user", "name": "Sam", "content": "Thanks Melanie! Ana visited me in Oslo."},
        ],
        user_id=U,
        session_id="september",
        timestamp="2024-09-01T10:00:00Z",
    )
    return mem


def kinds(memory: Memory) -> dict[str, str]:
    return {e.name: e.kind for e in memory.entities(user_id=U)}


def test_entities_name_people_pets_places_and_organisations(told: Memory) -> None:
    found = kinds(told)
    assert found["Sam"] == "person"
    assert found["Ana"] == "person"
    assert found["Jean"] == "person"
    assert found["Max"] == "pet"
    assert found["Lisbon"] == "place" and found["Oslo"] == "place" and found["Cascais"] == "place"
    assert found["Nubank"] == "organisation"
    assert not {"Hey", "Thanks", "March", "My", "I"} & set(found)


def test_most_mentioned_first_with_when_first_and_last(told: Memory) -> None:
    listed = told.entities(user_id=U)
    assert listed[0].name == "Sam"
    assert [e.mentions for e in listed] == sorted((e.mentions for e in listed), reverse=True)
    ana = next(e for e in listed if e.key == "ana")
    assert ana.mentions == 2
    assert ana.first_mentioned.isoformat() == "2024-03-01T10:00:00+00:00"
    assert ana.last_mentioned.isoformat() == "2024-09-01T10:00:00+00:00"


def test_a_short_name_is_an_alias_of_the_one_full_name_it_begins(told: Memory) -> None:
    melanie = told.entity("mel", user_id=U).entity
    assert melanie.name == "Melanie"
    assert melanie.aliases == ("mel",)
    assert "mel" not in {e.key for e in told.entities(user_id=U)}


def test_kind_and_limit_narrow_the_list(told: Memory) -> None:
    places = told.entities(user_id=U, kind="place")
    assert {e.name for e in places} == {"Lisbon", "Oslo", "Cascais"}
    assert len(told.entities(user_id=U, limit=2)) == 2
    with pytest.raises(UsageError, match="unknown entity kind 'robot'"):
        told.entities(user_id=U, kind="robot")  # type: ignore[arg-type]


def test_the_card_holds_current_facts_first_and_what_changed_as_past(told: Memory) -> None:
    card = told.entity("SAM", user_id=U)
    assert card.entity.key == "sam"
    current = [u for u in card.units if u.valid_to is None]
    past = [u for u in card.units if u.valid_to is not None]
    assert any("Lisbon" in u.text for u in past)  # "lives in Lisbon" ended with the move
    assert card.units[-len(past) :] == past  # what no longer holds comes last
    facts = [u for u in current if u.kind == "fact"]
    assert card.units[: len(facts)] == facts
    lives = {(r.object, r.valid_to is None) for r in card.relations if r.relation == "location"}
    assert ("lisbon", False) in lives and ("oslo", True) in lives
    assert all(r.sources for r in card.relations)


def test_the_card_of_another_entity_names_who_is_mentioned_with_it(told: Memory) -> None:
    card = told.entity("Ana", user_id=U)
    assert {"Sam's sister Ana works at Nubank.", "Ana visited Sam in Oslo."} <= {u.text for u in card.units}
    assert ("ana", "works at", "nubank") in {(r.subject, r.relation, r.object) for r in card.relations}
    assert {"Nubank", "Oslo"} <= set(card.related)


def test_an_unknown_entity_is_not_found_with_a_hint(told: Memory) -> None:
    with pytest.raises(NotFoundError, match=r"no entity 'Zorro'.*entities"):
        told.entity("Zorro", user_id=U)
    with pytest.raises(UsageError, match="name"):
        told.entity("   ", user_id=U)


def test_entities_follow_deletes_edits_and_stay_within_one_user(told: Memory) -> None:
    nubank = told.entity("Nubank", user_id=U).units[0]
    told.update(nubank.id, "Sam's sister Ana works at a bakery.", user_id=U)
    told.add("My friend Carla lives in Berlin.", user_id="someone-else")
    assert "Nubank" not in kinds(told)  # the edited text no longer names it ...
    with pytest.raises(NotFoundError):
        told.entity("Carla", user_id=U)  # ... and another user's entities are not Sam's
    cascais = told.entity("Cascais", user_id=U).units[0]
    told.delete(cascais.id, user_id=U)
    assert "Cascais" not in kinds(told)
    assert told.forget(user_id=U) > 0
    assert told.entities(user_id=U) == []


def test_related_links_a_unit_to_its_turn_its_successor_and_its_entities(told: Memory) -> None:
    lived = next(u for u in told.entity("Lisbon", user_id=U).units if u.text == "Sam lives in Lisbon.")
    links = {(link.kind, link.unit.id) for link in told.related(lived.id, user_id=U)}
    assert ("derived_from", lived.derived_from[0]) in links
    assert ("superseded_by", lived.metadata["superseded_by"]) in links
    moved = told.get(lived.metadata["superseded_by"], user_id=U)
    back = {(link.kind, link.unit.id) for link in told.related(moved.id, user_id=U)}
    assert ("supersedes", lived.id) in back
    turn = told.get(lived.derived_from[0], user_id=U)
    drawn = {link.unit.id for link in told.related(turn.id, user_id=U) if link.kind == "derived"}
    assert lived.id in drawn
    ana = next(u for u in told.entity("Ana", user_id=U).units if "Oslo" in u.text)
    via = {link.via for link in told.related(ana.id, user_id=U) if link.kind == "same_entity"}
    assert "ana" in via and "sam" not in via  # the speaker links everything, so never through them


def test_related_of_an_unknown_unit_is_not_found(told: Memory) -> None:
    with pytest.raises(NotFoundError):
        told.related("01NOSUCHUNIT0000000000000", user_id=U)
