"""Counting recalls: what reads return makes a unit stronger (``lifecycle.decay``).

A read must not become a write each time, so recalls are counted in memory and written in one
short transaction by the read that finds ``FLUSH_SECONDS`` passed or ``FLUSH_UNITS`` units
counted, and when the ``Memory`` closes or maintains the store. A process killed in between loses
the last minute's counts: decay then sees a unit as a little older than it is, nothing more.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from datetime import datetime

from ..errors import StoreError
from ..model import MemoryUnit
from ..storage import Recall, Store

log = logging.getLogger("eidetica")

#: Seconds between writes of the counts.
FLUSH_SECONDS = 60.0
#: Units counted before the counts are written whatever the time.
FLUSH_UNITS = 512


class Recalls:
    """Recalls not written yet, by tenant and unit id; thread-safe (a server shares one Memory)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: dict[tuple[str, str], Recall] = {}
        self._lock = threading.Lock()
        self._since = time.monotonic()

    def note(self, units: Iterable[MemoryUnit], at: datetime) -> None:
        """Count one recall of each of ``units`` at ``at``; write the counts when they are due."""
        with self._lock:
            for unit in units:
                key = (unit.scope.tenant, unit.id)
                earlier = self._pending.get(key)
                self._pending[key] = Recall(earlier.times + 1, at) if earlier else Recall(1, at)
            due = len(self._pending) >= FLUSH_UNITS or time.monotonic() - self._since >= FLUSH_SECONDS
        if due:
            self.flush()

    def flush(self) -> None:
        """Write the counts now. A store that refuses (busy, read-only) keeps them for the next
        try and fails no read: recalls are bookkeeping."""
        with self._lock:
            pending, self._pending = self._pending, {}
            self._since = time.monotonic()
        by_tenant: dict[str, dict[str, Recall]] = {}
        for (tenant, unit_id), recall in pending.items():
            by_tenant.setdefault(tenant, {})[unit_id] = recall
        for tenant, recalls in by_tenant.items():
            try:
                self.store.recalled(tenant, recalls)
            except StoreError as exc:
                log.warning("recalls not written yet (%s); kept for the next try", exc)
                with self._lock:
                    for unit_id, recall in recalls.items():
                        later = self._pending.get((tenant, unit_id))
                        self._pending[(tenant, unit_id)] = (
                            Recall(recall.times + later.times, later.last) if later else recall
                        )
