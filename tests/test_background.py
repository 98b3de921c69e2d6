"""Embedding in the background: adds return before their vectors exist, and none is ever lost."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from eidetica import EmbedderError, Memory
from eidetica.background import BackgroundEmbedder
from eidetica.embedders.base import Vectors
from eidetica.embedders.wordllama import WordLlamaEmbedder

TURNS = [
    {"role": "user", "name": "Ana", "content": "I adopted a greyhound called Biscuit"},
    {"role": "user", "name": "Ben", "content": "We are going sailing on the lake in June"},
]


class BrokenWordLlama(WordLlamaEmbedder):
    """WordLlama (same name, so the same database opens) whose every embed call fails."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        raise EmbedderError("the embedder is down")


def test_deferred_adds_are_searchable_at_once_and_embedded_soon(
    db_path: Path, embedder: WordLlamaEmbedder
) -> None:
    with Memory(db_path, embedder=embedder, defer_embedding=True) as memory:
        result = memory.add(TURNS, user_id="u", session_id="s1")
        assert not result.warnings
        assert memory.search("greyhound", user_id="u")[0].text == TURNS[0]["content"]
        assert memory.wait_for_embeddings(timeout=60)
        assert memory.store.unembedded(memory.tenant, None, 10) == []
        hits = memory.search("dog", user_id="u", k=20)  # no shared word: the dense channel finds it
        assert any("dense" in h.scores and "greyhound" in h.text for h in hits)


def test_units_left_without_vectors_are_embedded_by_the_next_worker(
    db_path: Path, embedder: WordLlamaEmbedder
) -> None:
    with Memory(db_path, embedder=BrokenWordLlama()) as memory:
        stored = memory.add(TURNS, user_id="u").units
        assert len(memory.store.unembedded(memory.tenant, None, 100)) == len(stored)
    with Memory(db_path, embedder=embedder, defer_embedding=True) as memory:
        assert memory.wait_for_embeddings(timeout=60)
        assert memory.store.unembedded(memory.tenant, None, 100) == []


def test_the_worker_retries_after_a_failure_and_reports_idle_only_when_done() -> None:
    calls: list[int] = []
    release = threading.Event()

    def embed_batch() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise EmbedderError("endpoint down")
        if len(calls) == 2:
            release.wait(10)
            return 3
        return 0

    worker = BackgroundEmbedder(embed_batch, retry_s=0.01)
    try:
        assert not worker.wait(timeout=0.2)  # failed once, now blocked in its second batch
        release.set()
        assert worker.wait(timeout=10)
        assert len(calls) == 3
    finally:
        worker.close()


def test_close_stops_a_worker_whose_embedder_keeps_failing() -> None:
    def embed_batch() -> int:
        raise EmbedderError("endpoint down")

    worker = BackgroundEmbedder(embed_batch, retry_s=30)
    assert not worker.wait(timeout=0.1)
    closer = threading.Thread(target=worker.close)
    closer.start()
    closer.join(timeout=5)
    assert not closer.is_alive()
