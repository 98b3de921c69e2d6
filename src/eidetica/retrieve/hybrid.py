"""Hybrid search: lexical (BM25) and dense candidates fused by weighted reciprocal rank, with a
time channel that favours units inside a period the question names.

Reciprocal-rank fusion needs no score calibration between channels (BM25 is unbounded, cosine is
not), which is why it is the default; the weights stay close to 1 on purpose, since constants tuned
on one dataset do not carry to the next.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..embedders.base import Embedder
from ..model import Hit
from ..storage.base import Store, UnitFilter
from .query import lexical_terms, named_speakers, time_window, without_names

RRF_K = 60


@dataclass(frozen=True)
class FusionWeights:
    """Weight of each channel in the fused score."""

    lexical: float = 1.0
    dense: float = 1.0
    time: float = 0.5
    speaker: float = 1.0


@dataclass(frozen=True)
class HybridRetriever:
    """The default retriever: lexical + dense over turns and derived units, with a time channel."""

    weights: FusionWeights = FusionWeights()
    candidates: int = 50
    name: str = "eidetica"
    packs_whole_history: bool = True

    def retrieve(self, store: Store, embedder: Embedder, query: str, where: UnitFilter, k: int) -> list[Hit]:
        """Rank the user's units for ``query``."""
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
    named = named_speakers(query, store.speakers(where))
    lexical = store.search_lexical(where, lexical_terms(query), depth)
    # The speaker channel carries who the question is about; left in, a name would pull the dense
    # query towards everything that person said.
    dense_query = without_names(query, named) or query
    dense = store.search_vector(where, embedder.embed([dense_query])[0], depth)

    fused: dict[str, float] = {}
    breakdown: dict[str, dict[str, float]] = {}
    for channel, weight, ranked in (
        ("lexical", weights.lexical, lexical),
        ("dense", weights.dense, dense),
    ):
        for rank, (unit_id, raw) in enumerate(ranked):
            fused[unit_id] = fused.get(unit_id, 0.0) + weight / (RRF_K + rank + 1)
            breakdown.setdefault(unit_id, {})[channel] = raw

    window = time_window(query)
    if window is None and not named:
        # Without a boosting channel the fused order is final: load only the units returned.
        units = store.get_many(sorted(fused, key=fused.__getitem__, reverse=True)[:k])
    else:
        units = store.get_many(list(fused))
        for unit_id, unit in units.items():
            # Boosts count as if the channel ranked every matching unit first.
            if window is not None and window.contains(unit.occurred_at):
                fused[unit_id] += weights.time / (RRF_K + 1)
                breakdown[unit_id]["time"] = 1.0
            if unit.speaker in named:
                fused[unit_id] += weights.speaker / (RRF_K + 1)
                breakdown[unit_id]["speaker"] = 1.0

    ranked_ids = sorted(units, key=lambda uid: fused[uid], reverse=True)[:k]
    return [Hit(units[uid], round(fused[uid], 6), breakdown[uid]) for uid in ranked_ids]
