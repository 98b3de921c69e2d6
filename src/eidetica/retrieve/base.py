"""The retriever seam: how candidate units are found and ranked for a question.

``Memory.search`` and ``Memory.context`` go through one ``Retriever``; the evaluation harness runs
baselines (BM25 or dense over turns) through the very same path by swapping it.
"""

from __future__ import annotations

from typing import Protocol

from ..embedders.base import Embedder
from ..model import Hit
from ..storage.base import Store, UnitFilter


class Retriever(Protocol):
    """Ranks a user's units for a query."""

    @property
    def name(self) -> str:
        """Short label used in reports."""
        ...

    @property
    def packs_whole_history(self) -> bool:
        """True when ``context`` may hand over a whole small history instead of ranked hits."""
        ...

    def retrieve(self, store: Store, embedder: Embedder, query: str, where: UnitFilter, k: int) -> list[Hit]:
        """Return up to ``k`` units best first, each with its per-channel scores."""
        ...
