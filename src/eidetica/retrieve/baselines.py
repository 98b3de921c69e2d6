"""Single-channel and plain-fusion retrievers over verbatim turns: the baselines every report shows."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ..embedders.base import Embedder
from ..model import Hit
from ..storage.base import Store, UnitFilter
from .hybrid import RRF_K
from .query import lexical_terms


@dataclass(frozen=True)
class TurnBaseline:
    """BM25, dense, or their unweighted reciprocal-rank fusion, over turns only."""

    channels: tuple[str, ...] = ("lexical",)
    packs_whole_history: bool = False

    @property
    def name(self) -> str:
        return {"lexical": "bm25-turns", "dense": "dense-turns"}.get("+".join(self.channels), "rrf-turns")

    def retrieve(self, store: Store, embedder: Embedder, query: str, where: UnitFilter, k: int) -> list[Hit]:
        """Rank turns by each channel and fuse by reciprocal rank (one channel: its own order)."""
        turns = dataclasses.replace(where, kinds=("turn",))
        fused: dict[str, float] = {}
        raw: dict[str, dict[str, float]] = {}
        for channel in self.channels:
            if channel == "lexical":
                ranked = store.search_lexical(turns, lexical_terms(query), k)
            else:
                ranked = store.search_vector(turns, embedder.embed([query])[0], k)
            for rank, (unit_id, score) in enumerate(ranked):
                fused[unit_id] = fused.get(unit_id, 0.0) + 1.0 / (RRF_K + rank + 1)
                raw.setdefault(unit_id, {})[channel] = score
        top = sorted(fused, key=fused.__getitem__, reverse=True)[:k]
        units = store.get_many(top)
        return [Hit(units[u], round(fused[u], 6), raw[u]) for u in top if u in units]


BASELINES = (
    TurnBaseline(("lexical",)),
    TurnBaseline(("dense",)),
    TurnBaseline(("lexical", "dense")),
)
