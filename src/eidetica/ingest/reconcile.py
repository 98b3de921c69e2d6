"""Reconciliation: new derived units against what the user's memory already holds.

Runs on every add, with or without an LLM, before anything is written; its plan is stored in the
same transaction as the new units.

- A restatement of a current fact (same ``dedupe_key``) is not added again: the stored unit gains
  the new turns as ``sources`` and counts the mention, so five facts said fifteen times stay five
  units with fifteen sources each.
- A new value for a single-valued slot ("Alice's manager is Bob" after "... is Carol") closes the
  old unit's validity (``valid_to``) and links the two (``supersedes`` / ``superseded_by`` in
  metadata). Both stay readable, in ``history`` and by ``as_of`` searches. When the new statement
  is older than the stored one (an import out of order), it is the new unit that arrives closed.
- Nothing is deleted.

Candidates are found through the lexical index: every derived unit's indexed text carries a
marker word for its dedupe key and one for its slot, so one query per add finds every unit the
batch could restate or supersede, however large the memory.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..model import DERIVED_KINDS, MemoryUnit, Scope
from ..storage import Revision, RevisionOp, Store, UnitFilter
from .keys import Slot, dedupe_key, slot_of


@dataclass(frozen=True)
class Plan:
    """What an add writes: the derived units that are really new, and revisions of stored ones."""

    new: list[MemoryUnit]
    revisions: list[Revision]


def marker_words(unit: MemoryUnit) -> list[str]:
    """The index words that let reconciliation find this unit again (derived units only)."""
    if unit.kind not in DERIVED_KINDS:
        return []
    slot = slot_of(unit.text)
    return [_marker("k", dedupe_key(unit.text))] + ([_marker("s", slot.key)] if slot else [])


def _marker(kind: str, text: str) -> str:
    # Letters only: survives every tokenizer and stemmer unchanged, and matches nothing else.
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]
    return "zq" + kind + digest.translate(str.maketrans("0123456789", "ghijklmnop"))


def when(unit: MemoryUnit) -> datetime:
    """When a unit's statement became true: its validity start, else its time, else its storing."""
    return unit.valid_from or unit.occurred_at or unit.recorded_at


def plan(store: Store, scope: Scope, derived: Sequence[MemoryUnit]) -> Plan:
    """Decide which of ``derived`` (one user's new units, in order) are new and what changes."""
    if not derived:
        return Plan([], [])
    return reconcile(_current_units(store, scope, derived), derived)


def reconcile(stored: Sequence[MemoryUnit], derived: Sequence[MemoryUnit]) -> Plan:
    """Reconcile ``derived`` (in order) against the ``stored`` current units they may restate or
    supersede; with nothing stored (a rebuild) it reconciles them among themselves."""
    by_key: dict[str, str] = {}
    by_slot: dict[str, tuple[str, Slot]] = {}
    units: dict[str, MemoryUnit] = {}  # stored and new units, as they will read
    for unit in stored:
        _remember(unit, units, by_key, by_slot)
    revised: dict[str, RevisionOp] = {}
    new_ids: list[str] = []
    for unit in derived:
        target_id = by_key.get(dedupe_key(unit.text))
        if target_id is not None:
            units[target_id] = _mentioned(units[target_id], unit)
            if target_id not in new_ids:
                revised.setdefault(target_id, "mention")
            continue
        slot = slot_of(unit.text) if unit.kind == "fact" else None
        current = by_slot.get(slot.key) if slot else None
        if slot and current and current[1].value != slot.value:
            old = units[current[0]]
            if when(unit) >= when(old):
                units[old.id] = _closed(old, at=when(unit), by=unit.id)
                unit = _with_meta(unit, supersedes=old.id)
                if old.id not in new_ids:
                    revised[old.id] = "supersede"
            else:
                unit = _closed(_with_meta(unit, superseded_by=old.id), at=when(old), by=old.id)
                units[old.id] = _with_meta(old, supersedes=unit.id)
                if old.id not in new_ids:
                    revised.setdefault(old.id, "supersede")
        new_ids.append(unit.id)
        _remember(unit, units, by_key, by_slot)
    return Plan(
        new=[units[i] for i in new_ids],
        revisions=[
            Revision(dataclasses.replace(units[i], version=units[i].version + 1), op)
            for i, op in revised.items()
        ],
    )


def _current_units(store: Store, scope: Scope, derived: Sequence[MemoryUnit]) -> list[MemoryUnit]:
    markers = sorted({word for unit in derived for word in marker_words(unit)})
    where = UnitFilter(Scope(user_id=scope.user_id, tenant=scope.tenant), kinds=DERIVED_KINDS)
    found = store.search_lexical(where, markers, limit=8 * len(markers))
    units = store.get_many([unit_id for unit_id, _ in found], tenant=scope.tenant, user_id=scope.user_id)
    current = [u for u in units.values() if u.status == "active" and u.valid_to is None]
    return sorted(current, key=lambda u: (u.recorded_at, u.id))


def _remember(
    unit: MemoryUnit,
    units: dict[str, MemoryUnit],
    by_key: dict[str, str],
    by_slot: dict[str, tuple[str, Slot]],
) -> None:
    units[unit.id] = unit
    if unit.valid_to is not None:
        return
    by_key[dedupe_key(unit.text)] = unit.id
    slot = slot_of(unit.text) if unit.kind == "fact" else None
    if slot is not None:
        by_slot[slot.key] = (unit.id, slot)


def _mentioned(unit: MemoryUnit, again: MemoryUnit) -> MemoryUnit:
    """``unit`` said once more by ``again``: its sources grow and the mention is counted."""
    mentions = int(unit.metadata.get("mentions", 1)) + 1
    return dataclasses.replace(
        unit,
        sources=tuple(dict.fromkeys(unit.sources + again.sources)),
        derived_from=tuple(dict.fromkeys(unit.derived_from + again.derived_from)),
        metadata={**unit.metadata, "mentions": mentions},
    )


def _closed(unit: MemoryUnit, *, at: datetime, by: str) -> MemoryUnit:
    return dataclasses.replace(_with_meta(unit, superseded_by=by), valid_to=at)


def _with_meta(unit: MemoryUnit, **values: str) -> MemoryUnit:
    return dataclasses.replace(unit, metadata={**unit.metadata, **values})
