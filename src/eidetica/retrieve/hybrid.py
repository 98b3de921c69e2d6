"""Hybrid search: lexical and dense candidates fused by weighted reciprocal rank, then boosted by
who the question names, when it points at, and which conversation sessions its evidence clusters in.

Channels, each counted as a reciprocal-rank contribution ``weight / (RRF_K + rank)``:

- **lexical**: BM25 over each unit's words, plus (at ``context`` weight) the words said just before
  it, so an answer is found by the words of the question it answers;
- **dense**: cosine similarity, with the names of speakers the question mentions left out of the
  query (the speaker channel carries them);
- **speaker**: units said by a speaker the question names rank as if first in a channel;
- **time**: units inside a period the question names ("in May 2023") likewise;
- **session**: every candidate gets a prior proportional to its session's score (its two best
  candidates), since the evidence for one question sits in the few sessions where the topic came up;
- **graph**: for a long ranking (a large context), units linked to the best lexical and dense hits
  by the rare words they share inherit part of their score (``retrieve.spread``), so evidence
  that shares no word with the question is reached through evidence that does.

Reciprocal-rank fusion needs no score calibration between channels (BM25 is unbounded, cosine is
not); the weights stay near 1 on purpose, since constants tuned on one dataset do not carry over.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from datetime import datetime

from ..embedders.base import Embedder
from ..errors import EmbedderError
from ..guard.quarantine import quarantined
from ..metadata import matches
from ..model import Hit, MemoryUnit
from ..storage.base import Store, UnitFilter
from .confidence import confident, question_stems
from .overtaken import asked_attributes, overtaken
from .query import (
    TimeWindow,
    first_person,
    lexical_terms,
    named_speakers,
    query_terms,
    time_window,
    without_names,
)
from .recency import attributes_named, content_stems, newer_first, rivals
from .spread import MIN_RANKED, SEEDS, linked

log = logging.getLogger("eidetica")

RRF_K = 60
#: How many of a session's best candidates make its score (see ``_session_priors``).
SESSION_TOP = 2
#: Superseded units keep this share of their score: found, but after the current statement.
SUPERSEDED_WEIGHT = 0.5


@dataclass(frozen=True)
class FusionWeights:
    """Weight of each channel in the fused score; 0 switches a channel off."""

    lexical: float = 1.0
    dense: float = 1.0
    time: float = 0.5
    speaker: float = 1.0
    session: float = 1.0
    #: Share of a seed's score a unit linked to it inherits at most (``retrieve.spread``).
    graph: float = 0.5
    #: BM25 weight of the preceding turn's words relative to the unit's own.
    context: float = 0.8
    #: Boost of a short statement naming the attribute a question asks the value of, in any words
    #: of the lexicon: "What diet does Nina follow?" lifts "Nina is vegan." (``asked_attributes``).
    attribute: float = 0.5


@dataclass(frozen=True)
class HybridRetriever:
    """The default retriever over turns and (with ``derived``) the facts and events drawn from them."""

    weights: FusionWeights = FusionWeights()
    candidates: int = 50
    derived: bool = True
    name: str = "eidetica"
    packs_whole_history: bool = True

    def retrieve(self, store: Store, embedder: Embedder, query: str, where: UnitFilter, k: int) -> list[Hit]:
        """Rank the user's units for ``query``."""
        if not self.derived:
            where = dataclasses.replace(where, kinds=("turn",))
        return hybrid_search(
            store, embedder, query, where, k=k, candidates=self.candidates, weights=self.weights
        )


def hybrid_search(
    store: Store,
    embedder: Embedder,
    query: str,
    where: UnitFilter,
    *,
    k: int = 10,
    candidates: int = 50,
    weights: FusionWeights = FusionWeights(),
) -> list[Hit]:
    """Return the ``k`` best units for ``query`` within ``where``, each with a score breakdown."""
    depth = max(candidates, k)
    tenant, user_id = where.scope.tenant, where.scope.user_id
    spreads = weights.graph > 0 and k >= MIN_RANKED  # the graph channel runs for long rankings
    speakers = store.speakers(where) if weights.speaker or spreads else []
    named = named_speakers(query, speakers) if weights.speaker else set()
    if weights.speaker and not named and first_person(query):
        # "Where do I live?" asks about the user: whoever speaks in the user's role.
        named = set(store.speakers(dataclasses.replace(where, roles=("user",))))
    fusion = _Fusion()
    if weights.lexical:
        ranked = store.search_lexical(where, query_terms(query), depth, context_weight=weights.context)
        for rank, (unit_id, score) in enumerate(ranked):
            fusion.add("lexical", unit_id, weights.lexical / (RRF_K + rank + 1), score)
    if weights.dense:
        for rank, (unit_id, score) in enumerate(_dense(store, embedder, where, query, named, depth)):
            fusion.add("dense", unit_id, weights.dense / (RRF_K + rank + 1), score)
    if spreads:
        _spread(store, where, query, speakers, fusion, weights.graph)

    window = time_window(query) if weights.time else None
    asked = asked_attributes(query) if weights.attribute else frozenset()
    if window is None and not named and not asked and not weights.session:
        # Without a boosting channel the fused order is final: load only the units returned.
        units = store.get_many(fusion.best(k), tenant=tenant, user_id=user_id)
    else:
        units = store.get_many(list(fusion.scores), tenant=tenant, user_id=user_id)
        _boost(fusion, units, window, named, asked, where.as_of, weights)
    # Quarantined units wait for review, out of every ranking (``guard.quarantine``).
    units = {uid: unit for uid, unit in units.items() if not quarantined(unit)}
    stems = question_stems(query, named)
    replaced, overtaking = _current_first(store, where, query, units, fusion, stems, asked)
    # Sorting the fused scores (not the loaded units) keeps ties in channel order: lexical first.
    ranked_ids = [uid for uid in fusion.best() if uid in units][:k]

    def sure(uid: str) -> bool:
        # "Sam moved to Oslo" answers "Where does Sam live?" as surely as the "Sam lives in
        # Lisbon" it replaced, whose words matched the question.
        earlier = replaced.get(uid)
        return confident(stems, units[uid], fusion.breakdown[uid]) or (
            earlier is not None and confident(stems, units[earlier], fusion.breakdown[earlier])
        )

    return [
        Hit(
            units[uid],
            round(fusion.scores[uid], 6),
            fusion.breakdown[uid],
            sure(uid),
            overtaking[uid].id if uid in overtaking else None,
        )
        for uid in ranked_ids
    ]


@dataclass
class _Fusion:
    """Reciprocal-rank fusion: each unit's summed score, and what each channel gave it."""

    scores: dict[str, float] = dataclasses.field(default_factory=dict)
    breakdown: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)

    def add(self, channel: str, unit_id: str, contribution: float, raw: float) -> None:
        self.scores[unit_id] = self.scores.get(unit_id, 0.0) + contribution
        self.breakdown.setdefault(unit_id, {})[channel] = raw

    def best(self, k: int | None = None) -> list[str]:
        return sorted(self.scores, key=self.scores.__getitem__, reverse=True)[:k]


def _spread(
    store: Store, where: UnitFilter, query: str, speakers: list[str], fusion: _Fusion, strength: float
) -> None:
    """Raise the units linked to the best direct hits to what they inherit from them; the raw
    score kept is the share of the best hit's score inherited."""
    seeds = {uid: fusion.scores[uid] for uid in fusion.best(SEEDS)}
    if not seeds:
        return
    units = store.get_many(list(seeds), tenant=where.scope.tenant, user_id=where.scope.user_id)
    # The question's words are the direct channels' to follow; every turn of a speaker holds
    # the speaker's name.
    unfollowed = {*lexical_terms(query), *(w.lower() for name in speakers for w in name.split())}
    best = max(seeds.values())
    for unit_id, share in linked(store, where, seeds, units, unfollowed, strength).items():
        raised = share - fusion.scores.get(unit_id, 0.0)
        if raised > 0:
            fusion.add("graph", unit_id, raised, round(share / best, 4))


def _boost(
    fusion: _Fusion,
    units: dict[str, MemoryUnit],
    window: TimeWindow | None,
    named: set[str],
    asked: frozenset[str],
    as_of: datetime | None,
    weights: FusionWeights,
) -> None:
    """Boosts count as if a channel had ranked every matching unit first: the time the question
    names, the speakers it names, the attribute it asks the value of, and the session of the
    best hits. A statement is lifted for the attribute it names only when short (a few words
    hold little a question shares) and held then: a longer one, or a replaced "relocated to
    Malmo", may name it in the lexicon's words where its successor does not."""
    first = 1.0 / (RRF_K + 1)
    for unit_id, unit in units.items():
        if window is not None and window.contains(unit.occurred_at):
            fusion.add("time", unit_id, weights.time * first, 1.0)
        if unit.speaker in named:
            fusion.add("speaker", unit_id, weights.speaker * first, 1.0)
        if asked and _short_and_held(unit, as_of) and attributes_named(content_stems(unit)) & asked:
            fusion.add("attribute", unit_id, weights.attribute * first, 1.0)
    if weights.session:
        for unit_id, prior in _session_priors(units, fusion.scores).items():
            fusion.add("session", unit_id, weights.session * prior * first, round(prior, 4))


#: Words of a statement short enough to be lifted for the attribute it names ("Nina is vegan.").
SHORT_STATEMENT_WORDS = 8


def _short_and_held(unit: MemoryUnit, as_of: datetime | None) -> bool:
    return (
        _holds(unit, as_of)
        and unit.kind in ("fact", "event")
        and len(unit.text.split()) <= SHORT_STATEMENT_WORDS
    )


def _current_first(
    store: Store,
    where: UnitFilter,
    query: str,
    units: dict[str, MemoryUnit],
    fusion: _Fusion,
    stems: frozenset[str],
    asked: frozenset[str],
) -> tuple[dict[str, str], dict[str, MemoryUnit]]:
    """Rank what holds now (or at ``as_of``) first: what replaced a matching statement at least as
    high as it, what no longer holds at half its score, the newer of two rivals above the older.
    Returns each successor's replaced unit, and each overtaken rival's successor."""
    closed = _superseded(units, where.as_of)
    replaced: dict[str, str] = {}
    scores = fusion.scores
    for unit_id, successor in _successors(store, where, units, closed).items():
        # What replaced a matching statement answers the question at least as well.
        if scores[unit_id] >= scores.get(successor, 0.0):
            fusion.add("succession", successor, scores[unit_id] - scores.get(successor, 0.0) + 1e-6, 1.0)
        replaced[successor] = unit_id
    for unit_id in closed:
        scores[unit_id] *= SUPERSEDED_WEIGHT
    pairs = rivals(query, units.values(), scores, stems, where.as_of, asked)
    for unit_id, lift in newer_first(pairs, scores).items():
        fusion.add("newer", unit_id, lift, 1.0)
    overtaking = overtaken(query, pairs, stems, units)
    # What overtook a statement ranks above it, and above the turns it was drawn from.
    for unit_id, lift in newer_first([(units[u], newer) for u, newer in overtaking.items()], scores).items():
        fusion.add("newer", unit_id, lift, 1.0)
    return replaced, overtaking


def _dense(
    store: Store, embedder: Embedder, where: UnitFilter, query: str, named: set[str], depth: int
) -> list[tuple[str, float]]:
    """Rank by cosine, with the names the speaker channel carries left out of the query. An
    embedder that fails (an endpoint that is down) leaves the other channels to answer."""
    try:
        vector = embedder.embed([without_names(query, named) or query])[0]
    except EmbedderError as exc:
        log.warning("dense search skipped, the embedder failed: %s", exc)
        return []
    return store.search_vector(where, vector, depth)


def _superseded(units: dict[str, MemoryUnit], as_of: datetime | None) -> set[str]:
    """Candidates that no longer hold (at ``as_of``, or now): closed by a newer statement, a
    correction or a deletion, turns included.

    "Alice's manager is Carol" (the turn and its fact) should not outrank "... is Bob" once Bob
    superseded Carol; both stay findable, below the current one.
    """
    return {uid for uid, u in units.items() if not _holds(u, as_of)}


def _holds(unit: MemoryUnit, as_of: datetime | None) -> bool:
    """Whether ``unit`` still holds at ``as_of`` (or now): not closed, or closed only later."""
    return unit.valid_to is None or (as_of is not None and unit.valid_to > as_of)


def _successors(
    store: Store, where: UnitFilter, units: dict[str, MemoryUnit], closed: set[str]
) -> dict[str, str]:
    """For each closed candidate, the unit holding now (or at ``as_of``) that replaced it, found
    along ``superseded_by`` links and loaded into ``units`` when it was no candidate."""
    frontier, visited = set(closed), set(closed)
    for _ in range(8):  # a value changed eight times over is followed no further
        wanted = {
            str(units[uid].metadata["superseded_by"])
            for uid in frontier
            if units[uid].metadata.get("superseded_by")
        }
        missing = [uid for uid in wanted if uid not in units]
        if missing:
            units.update(store.get_many(missing, tenant=where.scope.tenant, user_id=where.scope.user_id))
        frontier = {uid for uid in wanted - visited if uid in units and units[uid].valid_to is not None}
        visited |= frontier
        if not frontier:
            break
    successors: dict[str, str] = {}
    for uid in closed:
        seen = {uid}
        current = units[uid].metadata.get("superseded_by")
        while isinstance(current, str) and current in units and current not in seen:
            seen.add(current)
            unit = units[current]
            if unit.status != "active" or not _allowed(unit, where):
                break
            if current not in closed and (
                unit.valid_to is None or (where.as_of and unit.valid_to > where.as_of)
            ):
                successors[uid] = current
                break
            current = unit.metadata.get("superseded_by")
    return successors


def _allowed(unit: MemoryUnit, where: UnitFilter) -> bool:
    """Whether a unit loaded by id also passes the query's kind, agent, session and metadata
    filters and ``as_of``."""
    scope = where.scope
    if where.kinds and unit.kind not in where.kinds:
        return False
    if (scope.agent_id is not None and unit.scope.agent_id != scope.agent_id) or (
        scope.session_id is not None and unit.scope.session_id != scope.session_id
    ):
        return False
    if not matches(unit.metadata, where.metadata):
        return False
    return where.as_of is None or unit.holds_from <= where.as_of


def _session_priors(units: dict[str, MemoryUnit], fused: dict[str, float]) -> dict[str, float]:
    """Each unit's session score relative to the best session's.

    A session scores the sum of its ``SESSION_TOP`` best candidates: a topic discussed over a few
    turns outranks a lone match, and a long session cannot win by its size alone (with every unit
    a candidate, summing them all would favour whichever session is longest).
    """
    per_session: dict[str | None, list[float]] = {}
    for unit_id, unit in units.items():
        per_session.setdefault(unit.scope.session_id, []).append(fused[unit_id])
    scores = {s: sum(sorted(v, reverse=True)[:SESSION_TOP]) for s, v in per_session.items()}
    best = max(scores.values(), default=0.0)
    if best <= 0:
        return {}
    return {unit_id: scores[unit.scope.session_id] / best for unit_id, unit in units.items()}
