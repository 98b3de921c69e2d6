"""Embedding in the background: adds return before their vectors exist, and none is ever lost."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

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


class PickyWordLlama(WordLlamaEmbedder):
    """WordLlama that fails any call holding a text with ``refused`` in it, as a tokenizer fails on
    a text it cannot take; and every call while ``down``."""

    def __init__(self, refused: str = "\N{REPLACEMENT CHARACTER}") -> None:
        super().__init__()
        self.refused = refused
        self.down = False

    def embed(self, texts: Sequence[str]) -> Vectors:
        if self.down:
            raise EmbedderError("the embedder is down")
        if any(self.refused in text for text in texts):
            raise EmbedderError("the tokenizer cannot take this text")
        return super().embed(texts)


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


def test_a_unit_the_embedder_refuses_does_not_hold_back_the_others(
    db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    embedder = PickyWordLlama()
    refused = "A garbled line \N{REPLACEMENT CHARACTER} from an old export"
    turns = [{"role": "user", "content": refused}, *TURNS]  # the oldest: first in every batch
    with Memory(db_path, embedder=embedder, defer_embedding=True) as memory:
        stored = memory.add(turns, user_id="u", infer=False).turns

        assert memory.wait_for_embeddings(timeout=60)  # never, while one unit failed every batch
        assert [u.id for u in memory.store.unembedded(memory.tenant, None, 10)] == [stored[0].id]
        assert f"unit {stored[0].id} cannot be embedded" in caplog.text
        # Later adds are embedded too, and the refused unit is still found by its words.
        memory.add("We are painting the kitchen yellow", user_id="u", infer=False)
        assert memory.wait_for_embeddings(timeout=60)
        assert len(memory.store.unembedded(memory.tenant, None, 10)) == 1
        hits = memory.search("garbled export", user_id="u")
        assert any(h.id == stored[0].id and "lexical" in h.scores for h in hits)
        # embed_missing tries it again, and the embedder still refuses it.
        assert memory.embed_missing(user_id="u") == 0


def test_an_embedder_that_is_down_sets_no_unit_aside(db_path: Path) -> None:
    embedder = PickyWordLlama()
    with Memory(db_path, embedder=embedder) as memory:
        embedder.down = True
        stored = memory.add([*TURNS, {"role": "user", "content": "A third turn"}], user_id="u").units
        with pytest.raises(EmbedderError, match="down"):
            memory.embed_missing(user_id="u")  # the probe fails too: nothing is set aside

        embedder.down = False
        assert memory.embed_missing(user_id="u") == len(stored)
        assert memory.store.unembedded(memory.tenant, None, 10) == []


def test_failures_in_a_row_wait_longer_each_time_and_a_success_resets_the_wait(
    caplog: pytest.LogCaptureFixture,
) -> None:
    results: list[int | None] = [None, None, None, None, 1, None, 0]  # None: the batch fails
    done = threading.Event()

    def embed_batch() -> int:
        result = results.pop(0)
        if not results:
            done.set()
        if result is None:
            raise EmbedderError("endpoint down")
        return result

    caplog.set_level(logging.WARNING, logger="eidetica")
    worker = BackgroundEmbedder(embed_batch, retry_s=0.01, max_retry_s=0.04)
    try:
        assert done.wait(10)
        assert worker.wait(timeout=10)
    finally:
        worker.close()
    waits = [r.args[0] for r in caplog.records if r.msg.startswith("background embedding failed")]
    assert waits == [0.01, 0.02, 0.04, 0.04, 0.01]
