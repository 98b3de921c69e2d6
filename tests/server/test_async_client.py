"""``eidetica.aio.AsyncClient`` against a real server: the ``Client`` answers, awaited."""

from __future__ import annotations

import asyncio

import pytest

from eidetica import AuthError, NotFoundError
from eidetica.aio import AsyncClient

from .conftest import LiveServer


def test_async_client_returns_what_memory_returns(live: LiveServer) -> None:
    memory = live.memory()

    async def scenario() -> None:
        async with AsyncClient(live.url, api_key="key-acme") as client:
            results = await asyncio.gather(
                client.add("I adopted a terrier named Biscuit", user_id="ana"),
                client.add("I play chess on Sundays", user_id="bo"),
            )
            assert all(len(r.turns) == 1 for r in results)
            assert await client.users() == memory.users() == ["ana", "bo"]
            query = "What is the name of my dog?"
            assert await client.search(query, user_id="ana") == memory.search(query, user_id="ana")
            assert await client.list(user_id="bo") == memory.list(user_id="bo")
            assert await client.stats(user_id="ana") == memory.stats(user_id="ana")
            with pytest.raises(NotFoundError):
                await client.get("no-such-unit", user_id="ana")
        async with AsyncClient(live.url, api_key="not-a-key") as stranger:
            with pytest.raises(AuthError):
                await stranger.users()

    asyncio.run(scenario())
