"""The graph channel: a unit that shares no word with the question, but rare words with a unit
that answers it, is reached through that unit and ranks below it; switched off, it is not."""

from __future__ import annotations

import itertools

from eidetica import Hit, Memory
from eidetica.model import Scope
from eidetica.retrieve.hybrid import FusionWeights, HybridRetriever
from eidetica.retrieve.query import lexical_terms
from eidetica.retrieve.spread import MIN_RANKED, linked
from eidetica.storage.base import UnitFilter

QUESTION = "Who volunteers at the shelter?"
ANSWER = "I volunteer every Saturday at the Brightwater shelter."
#: Shares no word with the question, one rare word with the answer.
LINKED = "The roof at Brightwater leaks again, they need donations before winter."
THINGS = ["kettle", "lamp", "rug", "bike helmet", "backpack", "toaster", "umbrella", "desk chair"]
PLACES = ["market", "mall", "corner shop", "flea market", "outlet"]
FILLER = [
    f"I bought a new {thing} at the {place} on Tuesday." for thing, place in itertools.product(THINGS, PLACES)
]


def _remember(memory: Memory) -> None:
    for day, text in enumerate([ANSWER, *FILLER[:20], LINKED, *FILLER[20:]]):
        memory.add(
            [{"role": "user", "name": "Ana", "content": text}],
            user_id="ana",
            session_id=f"s{day}",
            timestamp=f"2023-03-01T{day // 60:02d}:{day % 60:02d}:00",
        )


def _search(memory: Memory, graph: float, k: int = MIN_RANKED) -> list[Hit]:
    """Words only (no dense channel, no boosts): what is found beyond the question's words is
    what the graph channel reached."""
    weights = FusionWeights(dense=0.0, time=0.0, speaker=0.0, session=0.0, graph=graph)
    full = memory.retriever
    memory.retriever = HybridRetriever(weights=weights)
    try:
        return memory.search(QUESTION, user_id="ana", k=k)
    finally:
        memory.retriever = full


def test_a_unit_sharing_rare_words_with_a_direct_hit_is_reached_through_it(memory: Memory) -> None:
    _remember(memory)
    off = _search(memory, graph=0.0)
    assert off and all("volunteer" in h.text for h in off), [h.text for h in off]
    on = _search(memory, graph=0.5)
    assert [h.id for h in on[: len(off)]] == [h.id for h in off], "links come below the direct hits"
    reached = on[len(off) :]
    assert reached and all("roof" in h.text for h in reached), [h.text for h in on]
    # With the share of the best seed's score each inherited.
    assert all(0 < h.scores["graph"] < 0.5 and h.score < off[-1].score for h in reached)


def test_a_short_ranking_is_left_to_the_direct_channels(memory: Memory) -> None:
    _remember(memory)
    assert not any("graph" in h.scores for h in _search(memory, graph=0.5, k=MIN_RANKED - 1))


def test_links_follow_the_seeds_own_words_not_the_questions_or_speakers(memory: Memory) -> None:
    _remember(memory)
    where = UnitFilter(Scope(user_id="ana"))
    turns = {u.text: u for u in memory.store.list_units(UnitFilter(Scope(user_id="ana"), kinds=("turn",)))}
    seed = turns[ANSWER]
    inherited = linked(memory.store, where, {seed.id: 1.0}, {seed.id: seed}, {"ana", "volunteer"}, 0.5)
    assert turns[LINKED].id in inherited and seed.id not in inherited
    assert 0 < inherited[turns[LINKED].id] < 0.5
    # No filler line shares a word the seed says.
    assert not {turns[line].id for line in FILLER} & set(inherited)
    # Every word followed is one the question or a speaker already says: no link.
    assert not linked(
        memory.store, where, {seed.id: 1.0}, {seed.id: seed}, set(lexical_terms(seed.text)), 0.5
    )
