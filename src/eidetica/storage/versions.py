"""The rules of a unit's versions, history and forget audit, for every backend to store.

A backend decides how rows are laid out; these functions decide what a write means: the unit's
state after it, the history entries it leaves and the audit record of a forget. So an update of
a deleted unit is refused, each update adds one to the version, a second delete changes nothing,
and a forget's audit says how much went, never what, on every backend alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ..errors import NotFoundError
from ..model import HistoryEntry, HistoryOp, MemoryUnit
from .base import Revision


@dataclass(frozen=True)
class HistoryRecord:
    """One history entry to write: which version of which unit, the change, its text and metadata.

    ``text`` is the unit's text as of the entry. Only an update sets it (``sets_text``); every
    other entry's text is the one the unit held already, which lets a backend store it once.
    """

    unit_id: str
    tenant: str
    user_id: str
    version: int
    op: HistoryOp
    text: str
    metadata: dict[str, Any]
    #: When the entry was made, for a unit that brings its history (an import); None: now.
    at: datetime | None = None

    @property
    def sets_text(self) -> bool:
        """Whether the entry's text must be stored: an update replaced the unit's text, and a
        history brought from elsewhere may hold any earlier one. The others hold the unit's
        current text, which a backend may store once."""
        return self.op == "update" or self.at is not None


@dataclass(frozen=True)
class Change:
    """A unit as a write leaves it, and the history entry recording the write."""

    unit: MemoryUnit
    record: HistoryRecord


@dataclass(frozen=True)
class AuditRecord:
    """What the audit table keeps of an operation that erased content: counts, never content."""

    op: Literal["forget"]
    tenant: str
    user_id: str
    detail: dict[str, int]


def added(unit: MemoryUnit, history: Sequence[HistoryEntry] = ()) -> list[HistoryRecord]:
    """The history entries of a newly stored unit: an ``add``, or the ``history`` it brings from
    another store (an export), each entry at its own time."""
    if not history:
        return [_record(unit, "add", unit.metadata)]
    scope = unit.scope
    return [
        HistoryRecord(unit.id, scope.tenant, scope.user_id, e.version, e.op, e.text, e.metadata, e.at)
        for e in history
    ]


def updated(current: MemoryUnit, *, text: str, metadata: dict[str, Any] | None) -> Change:
    """The next version of ``current`` with a new text (and metadata, None keeping it).

    A deleted unit stays deleted: NotFoundError rather than a new version nobody can find.
    """
    if current.status == "deleted":
        raise NotFoundError(f"unit {current.id} is deleted; it cannot be updated")
    unit = dataclasses.replace(
        current,
        text=text,
        metadata=current.metadata if metadata is None else metadata,
        version=current.version + 1,
    )
    return Change(unit, _record(unit, "update", unit.metadata))


def deleted(current: MemoryUnit) -> Change | None:
    """``current`` soft-deleted, at the same version; None for a unit deleted already, so that
    deleting twice changes nothing and records nothing."""
    if current.status == "deleted":
        return None
    unit = dataclasses.replace(current, status="deleted")
    return Change(unit, _record(unit, "delete", {}))


def revised(revisions: Sequence[Revision]) -> list[HistoryRecord]:
    """The history entries of revisions that record one (``op`` set), the note beside the metadata."""
    return [_record(r.unit, r.op, {**r.unit.metadata, **r.note}) for r in revisions if r.op is not None]


def expected_before(revision: Revision) -> tuple[int, str] | None:
    """The version and status a unit must still have for ``revision`` to apply, or None when it
    applies whatever came between. An archive or a restore yields to any write since the unit was
    read: a unit said again meanwhile has not faded, and one edited meanwhile is someone's concern."""
    if revision.op == "archive":
        return revision.unit.version - 1, "active"
    if revision.op == "restore":
        return revision.unit.version - 1, "archived"
    return None


def split_guarded(
    revisions: Sequence[Revision],
) -> tuple[list[Revision], list[tuple[Revision, tuple[int, str]]]]:
    """``revisions`` as those that apply whatever came between, and those that apply only to the
    version and status they read (``expected_before``), each with that expectation: a backend
    writes the first in one statement and each of the others on its own, keeping those that applied."""
    plain: list[Revision] = []
    guarded: list[tuple[Revision, tuple[int, str]]] = []
    for revision in revisions:
        if (before := expected_before(revision)) is None:
            plain.append(revision)
        else:
            guarded.append((revision, before))
    return plain, guarded


def forgotten(tenant: str, user_id: str, units: int) -> AuditRecord:
    """The audit record of erasing a user: how many units went, so nothing of them remains."""
    return AuditRecord("forget", tenant, user_id, {"units": units})


def _record(unit: MemoryUnit, op: HistoryOp, metadata: dict[str, Any]) -> HistoryRecord:
    scope = unit.scope
    return HistoryRecord(unit.id, scope.tenant, scope.user_id, unit.version, op, unit.text, metadata)
