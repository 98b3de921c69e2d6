"""Units stored without a vector, embedded once the embedder works again.

An add whose embedder fails (an endpoint that is down) stores its units anyway, found by their
words; so does an add with deferred embedding, whose vectors a background worker adds. This module
embeds what is missing, a batch at a time, and sets aside the few texts an embedder refuses while
it works for everything else.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..embedders.base import Embedder, Vectors
from ..errors import EmbedderError
from ..ingest.index_texts import embed_text
from ..model import MemoryUnit, Scope
from ..storage import Store

log = logging.getLogger("eidetica")

#: Units embedded per call when catching up on units stored while the embedder failed.
CATCH_UP_BATCH = 256
#: Embedded to tell an embedder that is down from one that refuses only some texts.
EMBED_PROBE = "ok"


class MissingVectors:
    """Embeds one tenant's units stored without a vector."""

    def __init__(self, store: Store, embedder: Embedder, tenant: str) -> None:
        self.store = store
        self.embedder = embedder
        self.tenant = tenant
        #: Units the embedder refuses while it works: left without a vector (found by their words)
        #: instead of failing every batch after them; ``embed_missing`` tries them again.
        self.refused: set[str] = set()

    def catch_up(self, owners: Sequence[Scope]) -> None:
        """Embed a batch of what the embedder missed before, now that it works; the add this
        follows is stored already, so a failure here is only logged."""
        try:
            for scope in owners:
                self.embed_batch(scope.user_id)
        except EmbedderError as exc:
            log.warning("could not embed units stored without vectors yet: %s", exc)

    def embed_all(self, user_id: str | None) -> int:
        """Embed every unit of the user's (None: the tenant's) still without a vector."""
        done = 0
        while sum(settled := self.embed_batch(user_id)):
            done += settled[0]
        return done

    def embed_batch(self, user_id: str | None) -> tuple[int, int]:
        """Embed up to ``CATCH_UP_BATCH`` units stored without a vector (the user's, or with None
        the tenant's: the background worker's step); return how many were embedded and how many
        set aside (both 0: none is left).

        When the embedder fails the batch but still embeds a probe text, the batch is embedded
        unit by unit, and the units it refuses (a text its tokenizer cannot take) are logged and
        set aside, found by their words, instead of failing this batch and every later one. They
        are tried again by ``embed_missing`` and by the next process. An embedder that fails the
        probe is down: its error is raised, and every unit is tried again later.
        """
        found = self.store.unembedded(self.tenant, user_id, CATCH_UP_BATCH + len(self.refused))
        pending = [u for u in found if u.id not in self.refused][:CATCH_UP_BATCH]
        if not pending:
            return 0, 0
        try:
            vectors = self.embedder.embed([embed_text(u) for u in pending])
        except EmbedderError:
            self.embedder.embed([EMBED_PROBE])  # raises when the embedder is down
            return self._one_by_one(pending)
        self.store.set_vectors(self.tenant, {u.id: vectors[i] for i, u in enumerate(pending)})
        return len(pending), 0

    def _one_by_one(self, units: Sequence[MemoryUnit]) -> tuple[int, int]:
        """Embed ``units`` one at a time, store the vectors and set aside the units refused, as
        long as the embedder still embeds the probe after them (else it went down meanwhile)."""
        vectors: dict[str, Vectors] = {}
        refused: dict[str, EmbedderError] = {}
        for unit in units:
            try:
                vectors[unit.id] = self.embedder.embed([embed_text(unit)])[0]
            except EmbedderError as exc:
                refused[unit.id] = exc
        if vectors:
            self.store.set_vectors(self.tenant, vectors)
        if refused:
            self.embedder.embed([EMBED_PROBE])
        for unit_id, error in refused.items():
            log.warning(
                "unit %s cannot be embedded and is left without a vector (found by its words): %s",
                unit_id,
                error,
            )
        self.refused.update(refused)
        return len(vectors), len(refused)
