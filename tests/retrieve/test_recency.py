"""Current first where the rules cannot tell: the newer of two matching statements by one speaker
ranks first for a question about now, and both stay findable; a question about the past is left
alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from eidetica import Hit, Memory
from eidetica.model import MemoryUnit, Scope
from eidetica.retrieve.recency import newer_first, rivals


def _said_then_asked(memory: Memory, name: str, old: str, new: str, question: str) -> list[Hit]:
    """``name`` says ``old``, then a year or so later ``new``; the hits for ``question``."""
    user = name.lower()
    memory.add([{"role": "user", "name": name, "content": old}], user_id=user, timestamp="2022-01-10")
    memory.add([{"role": "user", "name": name, "content": new}], user_id=user, timestamp="2023-04-03")
    return memory.search(question, user_id=user, k=6)


def _first(texts: list[str], word: str) -> int:
    return next(i for i, text in enumerate(texts) if word in text)


def test_the_newer_rival_ranks_first_for_a_present_question(memory: Memory) -> None:
    hits = _said_then_asked(
        memory,
        "Helga",
        "I do my grocery shopping at Lidl on Saturdays.",
        "Switched my grocery shopping to Ocado deliveries on Saturdays.",
        "Where does Helga do her grocery shopping?",
    )
    texts = [h.text for h in hits]
    assert _first(texts, "Ocado") < _first(texts, "Lidl"), texts
    past = memory.search("Where did Helga do her grocery shopping in January 2022?", user_id="helga", k=6)
    assert not any("newer" in h.scores for h in past)


@pytest.mark.parametrize(
    ("name", "old", "new", "question", "older", "newer"),
    [
        # No word in common, but both are about where Kasia lives ("flat", "lease", "apartment").
        (
            "Kasia",
            "My flat in Krakow is tiny but five minutes from the Planty.",
            "Signed the lease on an apartment in Gdansk last week.",
            "Where does Kasia live?",
            "Krakow",
            "Gdansk",
        ),
        # A car is named by its make.
        (
            "Lars",
            "My Volvo V70 is making a grinding noise when I brake.",
            "Picked up the Tesla from the dealer in Gothenburg.",
            "What car does Lars drive?",
            "Volvo",
            "Tesla",
        ),
    ],
    ids=["in other words", "by a car's make"],
)
def test_two_statements_naming_what_the_question_asks_in_lexicon_words_are_rivals(
    memory: Memory, name: str, old: str, new: str, question: str, older: str, newer: str
) -> None:
    hits = _said_then_asked(memory, name, old, new, question)
    texts = [h.text for h in hits]
    assert _first(texts, newer) < _first(texts, older), texts
    # A statement derived from the newer turn was lifted above the older statement's.
    assert any("newer" in h.scores for h in hits if newer in h.text)


def test_two_facts_or_events_naming_a_word_of_the_question_are_rivals(memory: Memory) -> None:
    # One word in common, the one the question asks about: short statements about one thing.
    hits = _said_then_asked(
        memory,
        "Zoe",
        "Biscuit gets Acana kibble twice a day.",
        "The vet put Biscuit on a hydrolysed diet from Hill's.",
        "What food does Biscuit get?",
    )
    lifted = [h for h in hits if "newer" in h.scores]
    assert [h.unit.kind for h in lifted] == ["event"] and "Hill's" in lifted[0].text
    texts = [h.text for h in hits]
    assert texts.index(lifted[0].text) < _first(texts, "Acana"), texts


def _statement(uid: str, text: str, year: int) -> MemoryUnit:
    said = datetime(year, 3, 1, tzinfo=UTC)
    return MemoryUnit(uid, "fact", text, Scope(user_id="nils"), said, speaker="Nils", valid_from=said)


def test_a_chain_of_three_values_ranks_newest_first_even_where_one_link_is_unsaid() -> None:
    # The second names the manager in other words, the third shares the first's plan; the second
    # and third share nothing, but each is a rival of the first, so of each other too.
    first = _statement("a", "Marta, Nils's manager, wants the plan on Mondays.", 2021)
    second = _statement("b", "Nils reports to Jonas after the reorg.", 2022)
    third = _statement("c", "Priya wants the plan on Fridays.", 2023)
    fused = {"a": 0.05, "b": 0.03, "c": 0.02}
    stems = frozenset({"manag", "plan"})
    pairs = rivals("Who is Nils's manager and what plan?", [first, second, third], fused, stems, None)
    assert {(old.id, new.id) for old, new in pairs} == {("a", "b"), ("a", "c"), ("b", "c")}
    lifted = {uid: score + newer_first(pairs, fused).get(uid, 0.0) for uid, score in fused.items()}
    assert sorted(lifted, key=lifted.__getitem__, reverse=True) == ["c", "b", "a"]


def test_a_language_named_only_by_its_name_is_found_beside_the_first(memory: Memory) -> None:
    """The lexicon knows languages by name, so "Tagalog as well" answers a question about
    languages learnt, and the first stays beside it: neither is shown as past."""
    hits = _said_then_asked(
        memory,
        "Solveig",
        "I've been learning Icelandic for two years and I've plateaued. How do I get past intermediate?",
        "I picked up Tagalog as well, for a trip to the Philippines next year. Any good podcasts?",
        "Which languages is Solveig learning?",
    )
    top = [h.text for h in hits[:3]]
    assert any("Tagalog" in t for t in top) and any("Icelandic" in t for t in top), top
    assert not any(h.overtaken_by for h in hits)
