"""``Memory.maintain``: apply decay to a store's users, a page of units at a time, and restore.

Each user's units are read in the order they were said, archived ones included so that what a
page archives never shifts the next page; each page's archives are one transaction, each a
version with an ``archive`` entry in ``history``. An archive yields to a write that came between
the read and it (``storage.versions.expected_before``): a unit said again meanwhile stays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime

from ..errors import UsageError
from ..metadata import ARCHIVED
from ..model import MAX_LISTED, MaintainReport, MemoryUnit, Scope
from ..storage import Revision, Store, UnitFilter
from .decay import Decay, fading

#: Units read (and archives written) at a time.
PAGE = 1000

Progress = Callable[[int, int], None]


def maintain(
    store: Store,
    tenant: str,
    users: Sequence[str],
    now: datetime,
    decay: Decay,
    *,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> MaintainReport:
    """Archive the units of ``users`` that have faded at ``now``; ``progress(done, total)`` after
    each page, in units examined."""
    owners = [UnitFilter(Scope(user_id=user, tenant=tenant)) for user in users]
    total = sum(store.count(where) for where in owners)
    examined, archived, sample = 0, dict[str, int](), list[str]()
    if progress is not None:
        progress(0, total)
    for where in owners:
        reading = dataclasses.replace(where, include_archived=True)
        offset = 0
        while page := store.list_units(reading, limit=PAGE, offset=offset):
            offset += len(page)
            active = [u for u in page if u.status == "active"]
            examined += len(active)
            faded = fading(active, now, decay)
            if faded and not dry_run:
                store.add([], revisions=[_archived(unit, kept, now) for unit, kept in faded])
            for unit, _ in faded:
                archived[unit.kind] = archived.get(unit.kind, 0) + 1
                if len(sample) < MAX_LISTED:
                    sample.append(unit.id)
            if progress is not None:
                progress(min(examined, total), total)
    return MaintainReport(len(users), examined, archived, dry_run, tuple(sample))


def restored(unit: MemoryUnit) -> Revision:
    """The revision that brings an archived ``unit`` back into every read."""
    if unit.status != "archived":
        raise UsageError(f"unit {unit.id} is not archived (it is {unit.status})")
    return Revision(dataclasses.replace(unit, status="active", version=unit.version + 1), "restore")


def _archived(unit: MemoryUnit, kept: float, now: datetime) -> Revision:
    metadata = {**unit.metadata, ARCHIVED: {"at": now.isoformat(), "retention": round(kept, 4)}}
    return Revision(
        dataclasses.replace(unit, status="archived", metadata=metadata, version=unit.version + 1), "archive"
    )
