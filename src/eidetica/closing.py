"""``Closing``: what a resource that is used with ``with`` shares, written once."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self


class Closing(Protocol):
    """A resource with a ``close``; a ``with`` block closes it, however the block ends.

    A protocol, so that the contract ``MemoryAPI`` can extend it; classes declare it by name to
    inherit ``__enter__`` and ``__exit__``.
    """

    def close(self) -> None:
        """Release what the resource holds (a file, a connection, a server thread)."""
        ...

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
