"""``AsyncMemory`` and ``AsyncClient``: the contract's operations as coroutines, for asyncio code.

Each coroutine runs the very method of ``Memory`` or ``Client`` in a worker thread, so the two
faces share one implementation (and one set of errors) and an event loop never waits on SQLite,
the embedder or the network. ``Memory`` and ``Client`` are safe to call from several threads.

    async with AsyncMemory("memory.db") as memory:
        await memory.add("I moved to Oslo", user_id="ana")
        hits = await memory.search("Where does Ana live?", user_id="ana")
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, Generic, ParamSpec, Self, TypeVar

from .client import Client
from .memory import Memory

P = ParamSpec("P")
T = TypeVar("T")
Face = TypeVar("Face", Memory, Client)


def _in_thread(
    method: Callable[Concatenate[Face, P], T],
) -> Callable[Concatenate[_Async[Face], P], Awaitable[T]]:
    """``method`` of the wrapped object as a coroutine that runs it in a worker thread."""

    @functools.wraps(method)
    async def call(self: _Async[Face], /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(method, self.sync, *args, **kwargs)

    return call


class _Async(Generic[Face]):
    """What both async faces share: the wrapped object, closing, ``async with``."""

    def __init__(self, sync: Face) -> None:
        self.sync: Face = sync

    async def close(self) -> None:
        await asyncio.to_thread(self.sync.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class AsyncMemory(_Async[Memory]):
    """``Memory``'s operations as coroutines: ``AsyncMemory("memory.db")``, or around a ``Memory``
    built with its own arguments: ``AsyncMemory(Memory(store=..., embedder=...))``."""

    def __init__(self, location: str | Path | Memory | None = None, **options: Any) -> None:
        super().__init__(location if isinstance(location, Memory) else Memory(location, **options))

    add = _in_thread(Memory.add)
    import_file = _in_thread(Memory.import_file)
    search = _in_thread(Memory.search)
    context = _in_thread(Memory.context)
    answer = _in_thread(Memory.answer)
    get = _in_thread(Memory.get)
    list = _in_thread(Memory.list)
    update = _in_thread(Memory.update)
    delete = _in_thread(Memory.delete)
    history = _in_thread(Memory.history)
    entities = _in_thread(Memory.entities)
    entity = _in_thread(Memory.entity)
    related = _in_thread(Memory.related)
    profile = _in_thread(Memory.profile)
    summary = _in_thread(Memory.summary)
    quarantined = _in_thread(Memory.quarantined)
    review = _in_thread(Memory.review)
    maintain = _in_thread(Memory.maintain)
    restore = _in_thread(Memory.restore)
    forget = _in_thread(Memory.forget)
    users = _in_thread(Memory.users)
    stats = _in_thread(Memory.stats)
    rebuild = _in_thread(Memory.rebuild)


class AsyncClient(_Async[Client]):
    """``Client``'s operations as coroutines: ``AsyncClient("http://127.0.0.1:8000", api_key=...)``."""

    def __init__(self, url: str, api_key: str | None = None, *, timeout: float = 30.0) -> None:
        super().__init__(Client(url, api_key, timeout=timeout))

    add = _in_thread(Client.add)
    import_file = _in_thread(Client.import_file)
    search = _in_thread(Client.search)
    context = _in_thread(Client.context)
    answer = _in_thread(Client.answer)
    get = _in_thread(Client.get)
    list = _in_thread(Client.list)
    update = _in_thread(Client.update)
    delete = _in_thread(Client.delete)
    history = _in_thread(Client.history)
    entities = _in_thread(Client.entities)
    entity = _in_thread(Client.entity)
    related = _in_thread(Client.related)
    profile = _in_thread(Client.profile)
    summary = _in_thread(Client.summary)
    quarantined = _in_thread(Client.quarantined)
    review = _in_thread(Client.review)
    maintain = _in_thread(Client.maintain)
    restore = _in_thread(Client.restore)
    forget = _in_thread(Client.forget)
    users = _in_thread(Client.users)
    stats = _in_thread(Client.stats)
