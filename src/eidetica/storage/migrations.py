"""The one loop that applies a backend's named, ordered migrations, each once, however many
processes open a store at the same moment.

A backend supplies a ``Ledger``: where the applied names are recorded, how it takes the lock
that serialises migrators, and how it runs one step. The loop reads the names without the lock
(an up-to-date store takes it never), then re-reads them under it, because another process may
have applied the migration while this one waited.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from contextlib import AbstractContextManager
from typing import Protocol, TypeVar

Step = TypeVar("Step", contravariant=True)


class Ledger(Protocol[Step]):
    """A backend's record of migrations and the means to apply one."""

    def applied(self) -> Collection[str]:
        """The names of the migrations recorded so far."""
        ...

    def locked(self) -> AbstractContextManager[object]:
        """One transaction holding the migration lock: committed on leaving, rolled back on an error."""
        ...

    def run(self, step: Step) -> None:
        """Apply one migration's step inside the locked transaction."""
        ...

    def record(self, name: str) -> None:
        """Record a migration as applied, in the same transaction as its step."""
        ...


def apply_pending(migrations: Sequence[tuple[str, Step]], ledger: Ledger[Step]) -> list[str]:
    """Apply the migrations not yet recorded, in order, each in its own locked transaction;
    return the names this call applied."""
    recorded = set(ledger.applied())
    done: list[str] = []
    for name, step in migrations:
        if name in recorded:
            continue
        with ledger.locked():
            if name in ledger.applied():
                continue  # another process applied it while this one waited for the lock
            ledger.run(step)
            ledger.record(name)
        done.append(name)
    return done
