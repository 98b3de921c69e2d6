"""Embedding in the background, so that writes return at the speed of storing text.

A contextual embedder such as MiniLM embeds a few hundred texts a second on two cores, thirty
times slower than the rest of an add. With ``Memory(defer_embedding=True)`` an add stores its units
without vectors (lexical search finds them at once) and wakes this worker, which embeds them in
batches right after; dense search sees each unit once its vector is stored. Nothing depends on the
worker finishing: units it has not reached when the process stops keep their empty vector, and the
next worker for the tenant picks them up when it starts.

A failing batch is retried after a pause that doubles up to ``MAX_RETRY_S``: an endpoint that is
down, or a store that cannot read a unit back, costs one try every few minutes, not a busy loop.
(Units the embedder refuses while it still works are set aside by ``Memory`` itself, so one bad
unit never holds back the rest.)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("eidetica")

#: Seconds to wait before trying again after the embedder failed (an endpoint that is down).
RETRY_S = 5.0
#: The longest wait between tries, however often they failed in a row.
MAX_RETRY_S = 300.0


class BackgroundEmbedder:
    """A daemon thread that calls ``embed_batch`` until it reports nothing left, whenever woken.

    ``embed_batch`` embeds one batch of the units still missing a vector and returns how many it
    embedded; 0 means none are left.
    """

    def __init__(
        self,
        embed_batch: Callable[[], int],
        *,
        retry_s: float = RETRY_S,
        max_retry_s: float = MAX_RETRY_S,
    ) -> None:
        self._embed_batch = embed_batch
        self._retry_s = retry_s
        self._max_retry_s = max(max_retry_s, retry_s)
        self._lock = threading.Lock()
        self._requested = 0  # notifications so far; idle means the last one was fully served
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="eidetica-embedder", daemon=True)
        self._thread.start()
        self.notify()  # what an earlier process left unembedded

    def notify(self) -> None:
        """Say that units without vectors were stored."""
        with self._lock:
            self._requested += 1
            self._idle.clear()
        self._wake.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every unit stored before now has its vector; False if ``timeout`` passed
        first (as it does while the embedder keeps failing)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Stop after the batch in hand; what is left is embedded by the next worker."""
        self._stop.set()
        self._wake.set()
        self._thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._stop.is_set():
                return
            self._wake.clear()
            with self._lock:
                served = self._requested
            if not self._drain():
                return
            with self._lock:
                if self._requested == served:
                    self._idle.set()

    def _drain(self) -> bool:
        """Embed until nothing is left; False when asked to stop first. Each failure in a row
        doubles the pause before the next try, up to ``max_retry_s``."""
        delay = self._retry_s
        while not self._stop.is_set():
            try:
                if self._embed_batch() == 0:
                    return True
                delay = self._retry_s
            except Exception as exc:  # the thread must outlive any one failure
                log.warning("background embedding failed, retrying in %g s: %s", delay, exc)
                if self._stop.wait(delay):
                    return False
                delay = min(delay * 2, self._max_retry_s)
        return False
