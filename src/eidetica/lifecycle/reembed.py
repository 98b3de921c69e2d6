"""Moving a store to another embedder: every unit embedded again, the old vectors in use until the
new ones are all in.

A store refuses an embedder other than the one that filled it, since vectors of two models
cannot be compared. ``reembed`` embeds every active (and archived) unit of every tenant with the new embedder,
a batch at a time, into a staging area the store keeps apart from the vectors searches use (see
``Store.reembed_begin``). Until the last batch, every search keeps using the old vectors and the
old embedder; the store then swaps the new vectors and the new embedder's record in, in one
transaction. So a crash, a failing embedder or Ctrl-C in between leaves the store as it was, and
running ``reembed`` again with the same embedder resumes from what was staged.

Units added or updated (by processes still running the old embedder) while it runs are embedded
in the swap transaction itself, so none is left with a vector of the old model. Processes that
still hold the old embedder after the swap must open the store again with the new one: where the
two dimensions differ their writes are refused, but vectors of two models of one dimension cannot
be told apart, so stop such processes before the swap.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from ..embedders.base import Embedder, Vectors
from ..errors import EmbedderError, UsageError
from ..ingest.index_texts import embed_text
from ..model import MemoryUnit
from ..storage import Store

#: Units embedded and staged per transaction: a run killed mid-way loses at most one batch.
REEMBED_BATCH = 256

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ReembedReport:
    """What a re-embedding did.

    ``embedded`` units were embedded by this run, ``at_swap`` of them in the swap transaction
    (added or changed while it ran); ``resumed`` had been staged by an earlier, interrupted run.
    ``changed`` is False when the store already held ``embedder``'s vectors: nothing was embedded
    then, and whatever an interrupted run had staged for another embedder was dropped.
    """

    previous: str | None
    embedder: str
    embedded: int
    resumed: int
    at_swap: int
    changed: bool


def reembed(
    store: Store,
    embedder: Embedder,
    *,
    progress: Progress | None = None,
    batch: int = REEMBED_BATCH,
) -> ReembedReport:
    """Re-embed every active and archived unit of the store (all tenants and users) with
    ``embedder``, and make it the store's embedder once all are embedded.

    ``progress(done, total)`` is called before the first batch (``done`` counts what an earlier run
    staged) and after each batch; an exception it raises stops the run, keeping what was staged.
    Open ``Memory`` objects over the store must be opened again with the new embedder afterwards.
    """
    if not isinstance(batch, int) or batch < 1:
        raise UsageError(f"batch must be a positive integer, got {batch!r}")
    previous = store.stored_embedder()
    if previous == embedder.name:
        store.reembed_discard()
        return ReembedReport(previous, embedder.name, 0, 0, 0, changed=False)
    state = store.reembed_begin(embedder.name, embedder.dim)
    done, total = state.staged, state.total
    if progress is not None:
        progress(done, total)
    embedded = 0
    for tenant in state.tenants:
        after: str | None = None
        while units := store.reembed_pending(tenant, batch, after=after):
            store.reembed_stage(units, _embed(embedder, units))
            embedded += len(units)
            done += len(units)
            after = units[-1].id
            if progress is not None:
                progress(done, max(total, done))

    def embed_rest(units: Sequence[MemoryUnit]) -> Vectors:
        parts = [_embed(embedder, units[i : i + batch]) for i in range(0, len(units), batch)]
        return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)

    at_swap = store.reembed_swap(embedder.name, embedder.dim, embed_rest)
    return ReembedReport(
        previous, embedder.name, embedded + at_swap, state.staged, at_swap=at_swap, changed=True
    )


def _embed(embedder: Embedder, units: Sequence[MemoryUnit]) -> Vectors:
    """The units' vectors, as an add embeds them; EmbedderError if they are not one per unit of
    the embedder's dimension (the store would refuse or mix them)."""
    vectors = embedder.embed([embed_text(u) for u in units])
    if vectors.shape != (len(units), embedder.dim):
        raise EmbedderError(
            f"embedder {embedder.name!r} returned vectors of shape {vectors.shape} for {len(units)} "
            f"texts, not ({len(units)}, {embedder.dim}); nothing was swapped in"
        )
    return vectors
