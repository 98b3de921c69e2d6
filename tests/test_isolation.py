"""Tenants and users sharing one store never see each other's memories, even under concurrency.

Two tenants with the same user ids write identical texts (with identical message ids) from many
threads while others search; every read must return only the reader's own units, and no tenant
may reach another's unit by its id.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from eidetica import Memory, NotFoundError
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.storage import Store, open_store

from .postgres_server import BACKENDS, store_location

TENANTS = ("acme", "globex")
USERS = tuple(f"user{i}" for i in range(6))
BATCHES = 4
LINES = (
    "I adopted a puppy named Rex last week and he already knows how to sit.",
    "My sister Ana moved to Lisbon in May 2023 to work at a bakery.",
    "We went hiking near the lake on Saturday; the weather was perfect.",
    "I started learning the violin because my daughter plays it too.",
)
QUERIES = ("What is the name of the puppy?", "Where did Ana move?", "hiking lake", "violin daughter")


@pytest.fixture(params=BACKENDS)
def shared_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """One store that both tenants' ``Memory`` objects use, as the server shares it."""
    store = open_store(store_location(request, tmp_path / "shared.db"))
    yield store
    store.close()


@pytest.mark.slow
def test_no_cross_tenant_or_cross_user_results(shared_store: Store, embedder: WordLlamaEmbedder) -> None:
    memories = {t: Memory(store=shared_store, embedder=embedder, tenant=t) for t in TENANTS}
    owned: dict[tuple[str, str], set[str]] = {(t, u): set() for t in TENANTS for u in USERS}
    leaks: list[str] = []

    def write(tenant: str, user: str, batch: int) -> None:
        messages = [
            {"role": "user", "content": line, "id": f"m{batch}-{i}", "timestamp": f"2023-05-0{batch + 1}"}
            for i, line in enumerate(LINES)
        ]
        result = memories[tenant].add(messages, user_id=user, session_id=f"s{batch}")
        assert not result.skipped_refs, "identical message ids of another owner must not count as stored"
        owned[(tenant, user)].update(u.id for u in result.units)

    def read(tenant: str, user: str) -> None:
        for query in QUERIES:
            for hit in memories[tenant].search(query, user_id=user, k=20):
                if (hit.unit.scope.tenant, hit.unit.scope.user_id) != (tenant, user):
                    leaks.append(f"{tenant}/{user} saw {hit.unit.scope}")

    jobs: list[Callable[[], None]] = []
    for batch in range(BATCHES):
        for tenant in TENANTS:
            for user in USERS:
                jobs.append(lambda t=tenant, u=user, b=batch: write(t, u, b))
                jobs.append(lambda t=tenant, u=user: read(t, u))
    with ThreadPoolExecutor(max_workers=8) as pool:
        for future in [pool.submit(job) for job in jobs]:
            future.result()
    assert leaks == []

    for (tenant, user), ids in owned.items():
        memory = memories[tenant]
        assert len(ids) >= BATCHES * len(LINES)
        for query in QUERIES:
            hits = memory.search(query, user_id=user, k=50)
            assert hits and {h.id for h in hits} <= ids
            context = memory.context(query, user_id=user, budget_tokens=2000)
            assert context.hits and {h.id for h in context.hits} <= ids
        listed = memory.list(user_id=user, limit=None)
        assert {u.id for u in listed} == ids
        some = sorted(ids)[0]
        assert memory.get(some, user_id=user).id == some
        assert memory.history(some)[0].unit_id == some
        assert memory.stats(user_id=user).units == len(ids)
    for tenant in TENANTS:
        stats = memories[tenant].stats()
        assert stats.users == len(USERS)
        assert stats.units == sum(len(owned[(tenant, u)]) for u in USERS)


def test_a_tenant_cannot_reach_another_tenants_unit_by_id(
    shared_store: Store, embedder: WordLlamaEmbedder
) -> None:
    acme, globex = (Memory(store=shared_store, embedder=embedder, tenant=t) for t in TENANTS)
    theirs = globex.add("Our launch date is the 3rd of March", user_id="user0").derived
    turn = globex.list(user_id="user0")[0]
    targets = [turn.id, *(u.id for u in theirs)]
    for unit_id in targets:
        for user in (None, "user0"):
            with pytest.raises(NotFoundError):
                acme.get(unit_id, user_id=user)
            with pytest.raises(NotFoundError):
                acme.history(unit_id, user_id=user)
            with pytest.raises(NotFoundError):
                acme.update(unit_id, "rewritten by another tenant", user_id=user)
            with pytest.raises(NotFoundError):
                acme.delete(unit_id, user_id=user)
    # Nothing changed for the owner, and nothing was recorded in its history.
    for unit_id in targets:
        unit = globex.get(unit_id)
        assert unit.status == "active" and unit.version == 1
        assert [e.op for e in globex.history(unit_id)] == ["add"]
    assert acme.forget(user_id="user0") == 0
    assert globex.stats(user_id="user0").units == len(targets)
