"""A real ``Memory`` on each backend, for the tests of what memory says about people and sessions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eidetica import Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.storage import open_store

from ..postgres_server import BACKENDS, store_location


@pytest.fixture(params=BACKENDS)
def mem(request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Memory]:
    with Memory(store=open_store(store_location(request, tmp_path / "m.db")), embedder=embedder) as memory:
        yield memory
