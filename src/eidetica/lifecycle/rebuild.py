"""Rebuilding derived units from turns without undoing what the user did to them.

A derived unit carries its ``origin``: the turn it was first extracted from and a digest of the
text extracted then. Re-deriving gives the same origins for the same extractions, so a rebuild
can tell apart:

- units extracted again: the stored unit stays, with its id, versions, validity and history;
- units the user edited or deleted: they stay as the user left them, even when the extractor no
  longer produces them (an edit or a deletion is intent, not extraction output);
- stored units nothing produces any more, untouched by the user: they go;
- new extractions: they are reconciled against what stays, like any add.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ..ingest.keys import dedupe_key
from ..model import MemoryUnit


def origin_key(turn_id: str, text: str) -> str:
    """The origin of a unit extracted as ``text`` from the turn ``turn_id``."""
    digest = hashlib.sha1(dedupe_key(text).encode("utf-8")).hexdigest()[:16]
    return f"{turn_id}:{digest}"


def user_touched(unit: MemoryUnit) -> bool:
    """Whether the user deleted the unit or edited its text since it was extracted."""
    if unit.status == "deleted":
        return True
    if unit.origin is None or not unit.derived_from:
        return False
    return unit.origin != origin_key(unit.origin.rsplit(":", 1)[0], unit.text)


@dataclass(frozen=True)
class RebuildPlan:
    """Stored units that stay (by id, and the current ones among them) and the new extractions."""

    keep: list[MemoryUnit]
    new: list[MemoryUnit]

    @property
    def current(self) -> list[MemoryUnit]:
        return [u for u in self.keep if u.status == "active" and u.valid_to is None]


def plan_rebuild(stored: Sequence[MemoryUnit], derived: Sequence[MemoryUnit]) -> RebuildPlan:
    """Match fresh extractions (``derived``, in order) with the stored derived units (deleted
    ones included) by origin."""
    by_origin = {u.origin: u for u in stored if u.origin is not None}
    seen = {d.origin for d in derived}
    keep = [u for u in stored if u.origin in seen or user_touched(u)]
    new = [d for d in derived if d.origin not in by_origin]
    return RebuildPlan(keep, new)
