"""``AsyncMemory``: the contract's operations as coroutines, over the very ``Memory`` methods."""

from __future__ import annotations

import asyncio
import inspect
from pathlib import Path

import pytest

from eidetica import Memory, NotFoundError, UsageError
from eidetica.aio import AsyncClient, AsyncMemory
from eidetica.api import MemoryAPI
from eidetica.embedders.wordllama import WordLlamaEmbedder

from .test_faces import OPERATIONS


@pytest.mark.parametrize("face", [AsyncMemory, AsyncClient])
def test_every_operation_is_a_coroutine_with_the_contracts_parameters(face: type) -> None:
    for name in OPERATIONS:
        method = getattr(face, name)
        assert inspect.iscoroutinefunction(method), f"{face.__name__}.{name}"
        wanted = inspect.signature(getattr(MemoryAPI, name)).parameters
        offered = inspect.signature(method).parameters
        assert [(p.name, p.default) for p in offered.values()] == [
            (p.name, p.default) for p in wanted.values()
        ], f"{face.__name__}.{name}"


def test_async_memory_answers_what_memory_answers(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    async def scenario() -> None:
        memory = Memory(tmp_path / "m.db", embedder=embedder)
        async with AsyncMemory(memory) as amemory:
            added = await asyncio.gather(
                *(amemory.add(f"I visited museum {i} with my sister", user_id="ana") for i in range(8))
            )
            assert len({r.turns[0].id for r in added}) == 8  # concurrent adds, none lost
            query = "Which museum did I visit with my sister?"
            assert await amemory.search(query, user_id="ana", k=5) == memory.search(query, user_id="ana", k=5)
            assert await amemory.context(query, user_id="ana") == memory.context(query, user_id="ana")
            assert await amemory.list(user_id="ana") == memory.list(user_id="ana")
            assert await amemory.users() == ["ana"]
            assert (await amemory.stats(user_id="ana")).units_by_kind["turn"] == 8
            unit = added[0].turns[0]
            assert (await amemory.get(unit.id)).text == unit.text
            with pytest.raises(NotFoundError):
                await amemory.get("no-such-unit")
            with pytest.raises(UsageError, match="query"):
                await amemory.search("", user_id="ana")
            assert await amemory.forget(user_id="ana") >= 8
            assert await amemory.users() == []

    asyncio.run(scenario())
