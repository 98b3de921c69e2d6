"""Memory that stays true over time, through the public API on SQLite and PostgreSQL: changed
facts, additions, corrections, deletions, time travel and rebuilds behave as a user expects."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eidetica import Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.retrieve.pack import PAST_MARKER
from eidetica.storage import open_store

from .postgres_server import BACKENDS, store_location


@pytest.fixture(params=BACKENDS)
def mem(request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Memory]:
    with Memory(store=open_store(store_location(request, tmp_path / "m.db")), embedder=embedder) as memory:
        yield memory


def say(mem: Memory, text: str, when: str, *, name: str = "Sam", session: str = "s1") -> None:
    mem.add(
        [{"role": "user", "name": name, "content": text}], user_id="u", session_id=session, timestamp=when
    )


def current_and_past(text: str) -> tuple[list[str], list[str]]:
    lines = [line for line in text.splitlines() if not line.startswith("[")]
    return [x for x in lines if not x.startswith(PAST_MARKER)], [
        x for x in lines if x.startswith(PAST_MARKER)
    ]


CHANGES = [
    ("I live in Lisbon.", "I moved from Lisbon to Oslo last week.", "Where do I live now?", "Oslo", "Lisbon"),
    ("I work at the hospital as a nurse.", "I quit the hospital, I now work at a bakery.",
     "Where does Sam work?", "bakery", "hospital"),
    ("I drink coffee every morning.", "I gave up coffee; these days it's tea.", "What does Sam drink?",
     "tea", "coffee"),
    ("My budget is 1200 euros.", "My budget is now 1400 euros.", "What is Sam's budget?", "1400", "1200"),
    ("Our team is in the Adler building.", "They relocated our team to the Tower building.",
     "Which building is our team in?", "Tower", "Adler"),
    ("I drive a Honda.", "Now I drive a Tesla.", "What car does Sam drive?", "Tesla", "Honda"),
    ("The CEO of Acme is Ann Lee.", "The CEO of Acme is Bo Park.", "Who is the CEO of Acme?", "Bo", "Ann"),
    ("I work as a junior copywriter at an agency.",
     "Since my promotion to creative director I manage four people.",
     "What is Sam's job title?", "director", "copywriter"),
    ("My hamster Biscuit loves his wheel.", "After the hamster died we adopted a budgie called Kiwi.",
     "What pet does Sam have?", "Kiwi", "Biscuit"),
    ("I've been keto for a year.", "My doctor put me on a low-FODMAP plan since the spring.",
     "What diet does Sam follow?", "FODMAP", "keto"),
    ("I bought an electric scooter for the commute.", "Sold the scooter and bought a used Fiat.",
     "What does Sam use to get to work?", "Fiat", "scooter"),
]  # fmt: skip


@pytest.mark.parametrize(("old", "new", "question", "value", "stale"), CHANGES)
def test_a_changed_fact_is_current_and_the_old_one_past(
    mem: Memory, old: str, new: str, question: str, value: str, stale: str
) -> None:
    say(mem, "I went hiking with my cousin near the coast.", "2024-01-05T09:00:00Z", session="s0")
    say(mem, old, "2024-01-10T10:00:00Z", session="s1")
    say(mem, new, "2024-06-10T10:00:00Z", session="s2")

    hits = mem.search(question, user_id="u", k=5)
    assert value in hits[0].text, [h.text for h in hits]
    assert any(stale in h.text for h in hits)  # still findable, below the current statement

    current, past = current_and_past(mem.context(question, user_id="u", budget_tokens=400).text)
    assert any(value in line for line in current)
    assert not any(stale in line and value not in line for line in current), current
    assert any(stale in line for line in past)

    then = mem.search(question, user_id="u", k=3, as_of="2024-03-01")
    assert stale in then[0].text and not any(value in h.text for h in then)


def test_additions_keep_both_values_current(mem: Memory) -> None:
    say(mem, "I have a dog called Rex.", "2024-01-10T10:00:00Z")
    say(mem, "We also adopted a cat called Mog.", "2024-04-10T10:00:00Z", session="s2")
    say(mem, "I speak French.", "2024-05-10T10:00:00Z", session="s3")
    say(mem, "I'm learning Spanish too.", "2024-06-10T10:00:00Z", session="s4")
    assert all(u.valid_to is None for u in mem.list(user_id="u", limit=None))
    text = mem.context("What pets does Sam have?", user_id="u", budget_tokens=400).text
    assert "Rex" in text and "Mog" in text and PAST_MARKER not in text


def test_a_misspoken_statement_is_taken_back_by_the_next_even_in_other_words(mem: Memory) -> None:
    say(mem, "My son Leo is turning six next month and wants a dinosaur party.", "2024-03-02T10:00:00Z")
    say(mem, "Sorry, I misspoke, it's his seventh birthday.", "2024-03-02T10:02:00Z")
    current, past = current_and_past(mem.context("How old is Leo turning?", user_id="u").text)
    assert any("seventh" in line for line in current), current
    assert not any("six" in line for line in current)
    assert any("six" in line for line in past)


def test_a_correction_that_names_the_wrong_value_takes_back_the_statement_naming_it(mem: Memory) -> None:
    say(
        mem,
        "I teach year 9 science at Hillcrest High and the class never does homework.",
        "2024-03-02T10:00:00Z",
    )
    say(mem, "Also my commute is 40 minutes by bus.", "2024-03-02T10:01:00Z")
    say(mem, "Sorry, autocorrect got me: the school is Hillside High, not Hillcrest.", "2024-03-02T10:02:00Z")
    current, past = current_and_past(mem.context("Which school does Sam teach at?", user_id="u").text)
    assert any("Hillside" in line for line in current), current
    assert not any("Hillcrest" in line and "Hillside" not in line for line in current), current
    assert any("Hillcrest" in line for line in past)
    # The statement said just before, which the correction does not name, still holds.
    assert any(
        "commute" in u.text and u.valid_to is None for u in mem.list(user_id="u", kinds=["fact", "event"])
    )


def test_a_preference_set_against_another_value_takes_back_nothing(mem: Memory) -> None:
    say(mem, "My brother supports Spurs and never stops talking about it.", "2024-03-02T10:00:00Z")
    say(mem, "I support Arsenal, not Spurs.", "2024-03-02T10:01:00Z")
    assert all(u.valid_to is None for u in mem.list(user_id="u", limit=None))


def test_a_correction_reaches_the_context_and_the_old_text_is_past(mem: Memory) -> None:
    say(mem, "I prefer green tea in the afternoon.", "2024-01-01T10:00:00Z", name="Alice")
    say(mem, "I have a dog named Rex.", "2024-01-01T10:01:00Z", name="Alice")
    [fact] = [u for u in mem.list(user_id="u", kinds=["fact"]) if "tea" in u.text]
    mem.update(fact.id, "Alice prefers oolong tea.", user_id="u")
    for budget in (400, 60):  # the whole small history, and a ranked one
        current, past = current_and_past(
            mem.context("what does alice drink", user_id="u", budget_tokens=budget).text
        )
        assert any("oolong" in line for line in current), (budget, current)
        assert not any("green" in line for line in current)
    assert mem.search("what does alice drink", user_id="u", k=3)[0].text == "Alice prefers oolong tea."
    assert any("green" in line for line in past)


def test_deleting_a_turn_retires_what_came_from_it_and_its_words(mem: Memory) -> None:
    added = mem.add(
        [
            {"role": "user", "name": "Bo", "content": "My locker code is 4417 at the zebragym."},
            {"role": "user", "name": "Bo", "content": "Yes that one, remember it for me."},
        ],
        user_id="u",
        session_id="s1",
        timestamp="2024-01-01T10:00:00Z",
    )
    secret = added.turns[0]
    derived = [u for u in added.derived if secret.id in u.derived_from]
    assert derived
    mem.delete(secret.id, user_id="u")
    for unit in derived:
        assert mem.get(unit.id, user_id="u").status == "deleted"
        assert [e.op for e in mem.history(unit.id, user_id="u")][-1] == "delete"
    assert not any("4417" in u.text for u in mem.list(user_id="u", limit=None))
    for hit in mem.search("zebragym locker code", user_id="u", k=10):
        assert "lexical" not in hit.scores, hit  # no index text holds the words any more
        assert "4417" not in hit.text
    assert "4417" not in mem.context("zebragym locker code", user_id="u").text


def test_deleting_a_fact_marks_the_turn_it_came_from_as_past(mem: Memory) -> None:
    say(mem, "I love durian smoothies.", "2024-01-01T10:00:00Z")
    [fact] = mem.list(user_id="u", kinds=["fact"])
    mem.delete(fact.id, user_id="u")
    current, past = current_and_past(mem.context("What smoothies does Sam love?", user_id="u").text)
    assert not any("durian" in line for line in current) and any("durian" in line for line in past)


def test_as_of_finds_the_value_held_then_however_it_ranks_today(mem: Memory) -> None:
    cities = ["Lisbon", "Porto", "Madrid", "Rome", "Vienna"]
    for month, city in enumerate(cities, start=1):
        say(mem, f"I moved to {city}.", f"2024-{2 * month:02d}-01T10:00:00Z", session=f"m{month}")
    for day in range(1, 29):  # today's ranking fills up with other moves
        say(mem, f"I moved the sofa to the living room again, time {day}.", f"2024-11-{day:02d}T10:00:00Z",
            session="sofa")  # fmt: skip
    for month, city in enumerate(cities, start=1):
        held = mem.search("Where did Sam move to?", user_id="u", k=2, as_of=f"2024-{2 * month:02d}-15")
        texts = " ".join(h.text for h in held)
        assert city in texts and not any(c in texts for c in cities if c != city), (city, texts)


def test_context_as_of_packs_what_memory_held_then_as_current(mem: Memory) -> None:
    say(mem, "I live in Lisbon.", "2024-01-10T10:00:00Z")
    say(mem, "I moved to Oslo.", "2024-06-10T10:00:00Z", session="s2")
    for day in range(1, 29):  # a history too long to be returned whole
        say(mem, f"The plumber came about the leaking tap, visit {day}.", f"2024-07-{day:02d}T10:00:00Z",
            session="tap")  # fmt: skip
    now, _ = current_and_past(mem.context("Where does Sam live?", user_id="u", budget_tokens=120).text)
    assert any("Oslo" in line for line in now) and not any("Lisbon" in line for line in now)
    then = mem.context("Where does Sam live?", user_id="u", budget_tokens=120, as_of="2024-03-01")
    held, gone = current_and_past(then.text)
    assert any("Lisbon" in line for line in held) and gone == []  # current as it was then
    assert "Oslo" not in then.text and "plumber" not in then.text  # not yet said
    small = mem.context("Where does Sam live?", user_id="u", budget_tokens=4000, as_of="2024-03-01")
    assert "Lisbon" in small.text and "Oslo" not in small.text and "(past" not in small.text


def test_rebuild_keeps_ids_edits_and_deletions(mem: Memory) -> None:
    say(mem, "I live in Lisbon.", "2024-01-10T10:00:00Z")
    say(mem, "I adopted a cat called Mog last week.", "2024-02-10T10:00:00Z", session="s2")
    say(mem, "I love durian smoothies.", "2024-03-10T10:00:00Z", session="s3")
    say(mem, "I moved to Oslo.", "2024-06-10T10:00:00Z", session="s4")
    units = {u.text: u for u in mem.list(user_id="u", kinds=["fact", "event"], limit=None)}
    cat = next(u for text, u in units.items() if "Mog" in text)
    durian = next(u for text, u in units.items() if "durian" in text)
    lisbon = units["Sam lives in Lisbon."]
    mem.update(cat.id, "Sam adopted a black cat called Mog.", user_id="u")
    mem.delete(durian.id, user_id="u")

    count = mem.rebuild(user_id="u")

    after = {u.id: u for u in mem.list(user_id="u", kinds=["fact", "event"], limit=None)}
    assert count == len(after)
    assert set(after) == {u.id for u in units.values()} - {
        durian.id
    }  # same ids, the deleted one stays deleted
    assert after[cat.id].text == "Sam adopted a black cat called Mog."
    assert mem.get(durian.id, user_id="u").status == "deleted"
    assert after[lisbon.id].valid_to is not None  # still superseded by the move
    assert [e.op for e in mem.history(cat.id, user_id="u")] == ["add", "update"]


def test_a_question_in_an_idiom_about_work_is_answered_from_the_users_own_words(mem: Memory) -> None:
    mem.add("Hi, I'm Tomek. I'm a sous-chef at a bistro in Lodz.", user_id="u", timestamp="2024-02-01")
    found = mem.context("what do I do for a living?", user_id="u")
    assert not found.abstained and "sous-chef" in found.text


def test_a_short_statement_is_found_by_the_attribute_a_question_asks_for(mem: Memory) -> None:
    for text in (
        "Can you suggest a dinner for Saturday?",
        "I'm vegan.",
        "My partner eats everything though.",
    ):
        say(mem, text, "2024-02-02T19:00:00Z", name="Nina")
    hits = mem.search("What diet does Nina follow?", user_id="u", k=3)
    assert any(h.unit.kind == "fact" and "vegan" in h.text for h in hits), [h.text for h in hits]
    assert any(h.scores.get("attribute") for h in hits if "vegan" in h.text)
