"""Writers that interleave on one store, on each backend: a rebuild racing an add, and the same
turns added twice at once. Each race is staged deterministically: the second writer runs at the
exact moment the first one is between reading and writing.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from eidetica import Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.ingest.base import TurnInput
from eidetica.ingest.extract import ExtractionReport, RuleExtractor
from eidetica.model import Scope
from eidetica.storage import Store, open_store

from .postgres_server import BACKENDS, store_location

MESSAGES = [
    {"role": "user", "name": "Mia", "content": "I adopted a cat named Pixel last week.", "id": "m1"},
    {"role": "user", "name": "Mia", "content": "My sister Ana moved to Lisbon in May 2023.", "id": "m2"},
]


@pytest.fixture(params=BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_location(request, tmp_path / "shared.db")


@pytest.fixture
def writers(location: str, embedder: WordLlamaEmbedder) -> Iterator[tuple[Store, Store]]:
    """Two stores over one database: two writers that share nothing in memory, as two processes."""
    first, second = open_store(location), open_store(location)
    yield first, second
    first.close()
    second.close()


class AddsMidway(RuleExtractor):
    """The rule extractor that, on its first call once armed, lets another writer add a turn."""

    def __init__(self, other: Memory) -> None:
        super().__init__()
        self.other = other
        self.armed = False
        self.added: list[str] = []

    def extract_report(self, turns: Sequence[TurnInput]) -> ExtractionReport:
        if self.armed:
            self.armed = False
            result = self.other.add(
                "I started learning the violin in March 2024.",
                user_id="mia",
                user_name="Mia",
                session_id="s2",
            )
            self.added = [u.id for u in result.units]
        return super().extract_report(turns)


def test_an_add_during_a_rebuild_keeps_its_derived_units(
    writers: tuple[Store, Store], embedder: WordLlamaEmbedder
) -> None:
    other = Memory(store=writers[1], embedder=embedder)
    extractor = AddsMidway(other)
    memory = Memory(store=writers[0], embedder=embedder, extractor=extractor)
    memory.add(MESSAGES, user_id="mia", session_id="s1", timestamp="2024-01-10")
    before = {u.id for u in memory.list(user_id="mia", kinds=["fact", "event"])}

    extractor.armed = True
    memory.rebuild(user_id="mia")

    added_derived = set(extractor.added) - {u.id for u in other.list(user_id="mia", kinds=["turn"])}
    assert added_derived, "the concurrent add derived nothing: the race was not staged"
    after = {u.id for u in memory.list(user_id="mia", kinds=["fact", "event"])}
    assert added_derived <= after, "the rebuild erased what the concurrent add derived"
    assert before <= after
    for unit_id in extractor.added:
        assert memory.get(unit_id, user_id="mia").status == "active"


class StaleRefs:
    """Wraps a store so its first ``existing_refs`` answer is stale: another writer adds the same
    turns right after the check, before the caller writes."""

    def __init__(self, store: Store, other: Memory) -> None:
        self._store = store
        self._other = other
        self.raced = False

    def existing_refs(self, scope: Scope, refs: Sequence[str]) -> set[str]:
        known = self._store.existing_refs(scope, refs)
        if not self.raced:
            self.raced = True
            self._other.add(MESSAGES, user_id=scope.user_id, session_id="s1", timestamp="2024-01-10")
        return known

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


def test_the_same_turns_added_at_once_are_stored_once_and_the_late_add_skips_them(
    writers: tuple[Store, Store], embedder: WordLlamaEmbedder
) -> None:
    other = Memory(store=writers[1], embedder=embedder)
    racing = StaleRefs(writers[0], other)
    memory = Memory(store=racing, embedder=embedder)  # type: ignore[arg-type]

    result = memory.add(MESSAGES, user_id="mia", session_id="s1", timestamp="2024-01-10")

    assert racing.raced
    assert sorted(result.skipped_refs) == ["m1", "m2"]
    assert result.turns == [] and result.derived == []
    turns = other.list(user_id="mia", kinds=["turn"])
    assert sorted(u.ref or "" for u in turns) == ["m1", "m2"]
    derived = [u.text for u in other.list(user_id="mia", kinds=["fact", "event"])]
    assert derived and len(derived) == len(set(derived)), "derived units were stored twice"
