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
from .query import lexical_terms, time_window

RRF_K = 60


@dataclass(frozen=True)
class FusionWeights:
    """Weight of each channel in the fused score."""

    lexical: float = 1.0
    dense: float = 1.0
    time: float = 0.5


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
    lexical = store.search_lexical(where, lexical_terms(query), depth)
    dense = store.search_vector(where, embedder.embed([query])[0], depth)

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
    if window is None:
        # Without a time channel the fused order is final: load only the units returned.
        top = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        units = store.get_many(top)
    else:
        units = store.get_many(list(fused))
        for unit_id, unit in units.items():
            if window.contains(unit.occurred_at):
                # Counted as if the time channel ranked every in-window unit first.
                fused[unit_id] += weights.time / (RRF_K + 1)
                breakdown[unit_id]["time"] = 1.0

    ranked_ids = sorted(units, key=lambda uid: fused[uid], reverse=True)[:k]
    return [Hit(units[uid], round(fused[uid], 6), breakdown[uid]) for uid in ranked_ids]
