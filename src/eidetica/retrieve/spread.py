"""The graph channel: activation spreads from the best direct hits to the units linked to them.

Evidence for one question is often split over units that do not share the question's words:
"What causes is John passionate about?" finds "I'm passionate about improving education and
infrastructure", and the turn that answers it too, "Recently, education reform and infrastructure
development", names no word of the question. It shares rare words with the first. Memory is a
graph of units and the words they hold (people, places and things are words too); from each of the
best direct hits (the *seeds*, ranked by the lexical and dense channels alone) one hop goes out
through the seed's own words, leaving aside the question's (the direct channels follow those) and
the speakers' names (every turn of a speaker would be linked), and back to the units holding them.

A linked unit *inherits* part of its seed's score rather than adding to it (personalised
spreading activation, one hop, with the fused scores as the personalisation)::

    inherited(u) = strength · max over seeds s of  fused(s) · BM25_s(u) / BM25_s(s)

where ``BM25_s`` ranks by the seed's words: the share of the seed's word weight (rare words
weigh most) that ``u`` holds. A unit is raised to what it inherits, never above it: a link never
puts a unit above the seed that reached it, and the order of the direct hits, which a small budget
packs, barely moves; what is linked fills the ranks below them, which a large budget packs.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from ..model import MemoryUnit
from ..storage.base import Store, UnitFilter
from .query import lexical_terms

#: The channel runs for a ranking at least this long (a context of 1,000 tokens or more): what it
#: links fills the ranks below the direct hits, which a short list never reaches, and its
#: lookups would cost a search for the best ten of a 100,000-unit history about half again.
MIN_RANKED = 100
#: How many of the best direct hits activation spreads from.
SEEDS = 6
#: How many linked units each seed reaches, best linked first.
LINKS_PER_SEED = 30
#: A seed links through its rarest few words: they weigh most in what it shares with another unit.
WORDS_PER_SEED = 8
#: A word held by more than this share of the user's units (or ``COMMON_FLOOR`` of them, for a
#: short history) links nothing: it says little about what a unit is about, and a word in
#: thousands of a long history's units would cost a search more than all the rest.
COMMON_SHARE = 0.03
COMMON_FLOOR = 10


def linked(
    store: Store,
    where: UnitFilter,
    seeds: Mapping[str, float],
    units: Mapping[str, MemoryUnit],
    unfollowed: Collection[str],
    strength: float,
) -> dict[str, float]:
    """What each unit linked to a seed inherits (see the module docstring): ``seeds`` maps each
    seed's id to its fused score, ``units`` holds the seeds, and ``unfollowed`` is the words no
    link goes through. Seeds themselves are left out."""
    said = {
        seed_id: [w for w in lexical_terms(units[seed_id].text) if w not in unfollowed and not w.isdigit()]
        for seed_id in seeds
        if seed_id in units
    }
    counts = store.word_counts(where, list({w for words in said.values() for w in words}))
    common = max(COMMON_FLOOR, COMMON_SHARE * counts.units)
    holding = counts.holding
    inherited: dict[str, float] = {}
    for seed_id, words in said.items():
        # A word no other unit holds links nothing either.
        shared = sorted((w for w in words if 1 < holding.get(w, 0) <= common), key=holding.__getitem__)
        if not shared:
            continue
        ranked = store.search_lexical(where, shared[:WORDS_PER_SEED], LINKS_PER_SEED)
        # The seed holds all of its words, so it normally ranks first; the best score stands
        # for it whenever it does not (a filter that leaves it out).
        whole = max((found for _, found in ranked), default=0.0)
        for unit_id, found in ranked:
            share = strength * seeds[seed_id] * found / whole
            if unit_id not in seeds and share > inherited.get(unit_id, 0.0):
                inherited[unit_id] = share
    return inherited
