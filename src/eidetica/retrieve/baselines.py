"""Single-channel and plain-fusion retrievers over verbatim turns: the baselines every report shows.

They are the hybrid retriever with every extra switched off (no derived units, no preceding-turn
words, no speaker, time or session channel), so ours and the baselines share one code path.
"""

from __future__ import annotations

from .hybrid import FusionWeights, HybridRetriever

_NAMES = {("lexical",): "bm25-turns", ("dense",): "dense-turns", ("lexical", "dense"): "rrf-turns"}


def turn_baseline(*channels: str) -> HybridRetriever:
    """BM25 (``"lexical"``), ``"dense"``, or both fused by reciprocal rank, over turns only."""
    weights = FusionWeights(
        lexical=float("lexical" in channels),
        dense=float("dense" in channels),
        time=0.0,
        speaker=0.0,
        session=0.0,
        context=0.0,
        attribute=0.0,
    )
    return HybridRetriever(
        weights=weights,
        candidates=0,  # each channel ranks exactly the k units asked for
        derived=False,
        name=_NAMES[channels],
        packs_whole_history=False,
    )


BASELINES = (turn_baseline("lexical"), turn_baseline("dense"), turn_baseline("lexical", "dense"))
