"""Lineage rules: what a change to one unit means for the units it came from or gave rise to.

- A derived unit that stops holding (superseded, corrected, deleted) closes the turns it came
  from: their words no longer state the current truth, so they rank below current units and are
  shown marked as past (``valid_to``), never as current. Turns keep their text.
- A deleted turn retires the units derived from it alone (a deletion in their history) and drops
  out of the sources of the others; the turn after it stops being indexed with its words.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from datetime import datetime

from ..ingest.index_texts import embed_text, lexical_text
from ..model import DERIVED_KINDS, MemoryUnit, Scope
from ..storage import Revision, Store, UnitFilter


def closed_turns(units: Iterable[MemoryUnit]) -> dict[str, datetime]:
    """The turn ids behind every closed unit among ``units``, each with its earliest closing."""
    closing: dict[str, datetime] = {}
    for unit in units:
        if unit.valid_to is None:
            continue
        for turn_id in unit.derived_from:
            closing[turn_id] = min(closing.get(turn_id, unit.valid_to), unit.valid_to)
    return closing


def close(unit: MemoryUnit, at: datetime) -> MemoryUnit:
    """``unit`` as no longer holding from ``at`` (an earlier closing stands)."""
    return dataclasses.replace(unit, valid_to=at if unit.valid_to is None else min(unit.valid_to, at))


def turn_closures(store: Store, scope: Scope, closing: dict[str, datetime]) -> list[Revision]:
    """Revisions closing the stored turns in ``closing`` that are still open (or closed later)."""
    if not closing:
        return []
    turns = store.get_many(list(closing), tenant=scope.tenant, user_id=scope.user_id)
    return [
        Revision(dataclasses.replace(close(t, closing[t.id]), version=t.version + 1), "supersede")
        for t in turns.values()
        if t.kind == "turn" and t.status == "active" and (t.valid_to is None or t.valid_to > closing[t.id])
    ]


def source_closures(store: Store, unit: MemoryUnit, at: datetime) -> list[Revision]:
    """Revisions closing the turns ``unit`` came from at ``at``: it was corrected or deleted, so
    their words no longer say what holds."""
    return turn_closures(store, unit.scope, dict.fromkeys(unit.derived_from, at))


def turn_deletion(store: Store, turn: MemoryUnit) -> list[Revision]:
    """What deleting ``turn`` changes besides the turn: its derived units, and its successor's
    index entries (which held the deleted words as "said before")."""
    owner = Scope(user_id=turn.scope.user_id, tenant=turn.scope.tenant)
    revisions: list[Revision] = []
    for unit in store.list_units(UnitFilter(owner, kinds=DERIVED_KINDS, derived_from=turn.id)):
        remaining = tuple(t for t in unit.derived_from if t != turn.id)
        if not remaining:
            retired = dataclasses.replace(
                unit, status="deleted", version=unit.version + 1,
                metadata={**unit.metadata, "deleted_with": turn.id},
            )  # fmt: skip
            revisions.append(Revision(retired, "delete"))
        else:
            kept = tuple(s for s in unit.sources if s not in turn.sources)
            revisions.append(
                Revision(
                    dataclasses.replace(unit, derived_from=remaining, sources=kept, version=unit.version + 1),
                    "source_deleted",
                )
            )
    revisions += _successor_reindex(store, turn)
    return revisions


def _successor_reindex(store: Store, turn: MemoryUnit) -> list[Revision]:
    """Index the turn said after ``turn`` (and what came from it) with the words said before
    ``turn`` instead of ``turn``'s own."""
    session = UnitFilter(dataclasses.replace(turn.scope, agent_id=None), kinds=("turn",))
    turns = [t for t in store.list_units(session) if t.scope.session_id == turn.scope.session_id]
    ids = [t.id for t in turns]
    if turn.id not in ids or ids.index(turn.id) + 1 >= len(ids):
        return []
    at = ids.index(turn.id)
    successor = turns[at + 1]
    before = embed_text(turns[at - 1]) if at > 0 else ""
    owner = Scope(user_id=turn.scope.user_id, tenant=turn.scope.tenant)
    derived = [
        u
        for u in store.list_units(UnitFilter(owner, kinds=DERIVED_KINDS, derived_from=successor.id))
        if u.derived_from[0] == successor.id
    ]
    return [Revision(u, None, (lexical_text(u), before)) for u in [successor, *derived]]
