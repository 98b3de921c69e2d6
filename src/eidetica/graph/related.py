"""The units linked to one unit: where it came from, what came from it, what it replaced or was
replaced by, and the other units that mention the same people, places and things.

Links are read from what the units already record (``derived_from``, the ``supersedes`` and
``superseded_by`` marks reconciliation leaves, the entity keys of each unit), so they follow every
edit, deletion and rebuild without a table of their own to keep in step.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ingest.entity_names import entity_key
from ..model import DERIVED_KINDS, Link, MemoryUnit, Scope
from ..storage.base import Store, UnitFilter

__all__ = ["RELATED_PER_ENTITY", "related"]

#: The newest units linked through each entity a unit mentions.
RELATED_PER_ENTITY = 5
#: Entities looked through: a unit naming many things links through its first few.
ENTITIES_FOLLOWED = 4


def related(store: Store, unit: MemoryUnit) -> list[Link]:
    """The active units linked to ``unit``, within its user: its turns, the units derived from it
    (for a turn), its predecessor and successor, then units sharing an entity (not its speaker:
    everything a speaker says mentions them)."""
    scope = Scope(user_id=unit.scope.user_id, tenant=unit.scope.tenant)
    tenant, user = scope.tenant, scope.user_id
    links = [Link("derived_from", u) for u in _loaded(store, unit.derived_from, tenant, user)]
    if unit.kind == "turn":
        where = UnitFilter(scope, kinds=DERIVED_KINDS, derived_from=unit.id)
        links += [Link("derived", u) for u in store.list_units(where)]
    for kind in ("supersedes", "superseded_by"):
        other = unit.metadata.get(kind)
        if isinstance(other, str):
            links += [Link(kind, u) for u in _loaded(store, [other], tenant, user)]
    seen = {unit.id, *(link.unit.id for link in links)}
    drawn = [link.unit for link in links if link.kind == "derived"]
    said_with = set(unit.derived_from or [unit.id])  # units of the same turn say no more
    facts = UnitFilter(scope, kinds=("fact", "event"))
    for key in _followed(unit, drawn):
        others = [
            other
            for other in store.mentioning(facts, [key], RELATED_PER_ENTITY + len(seen))
            if other.id not in seen and not said_with & set(other.derived_from)
        ][:RELATED_PER_ENTITY]
        links += [Link("same_entity", other, via=key) for other in others]
        seen.update(other.id for other in others)
    return links


def _followed(unit: MemoryUnit, drawn: Sequence[MemoryUnit]) -> list[str]:
    """The entity keys to link through, in the order the unit names them: the unit's own (a
    turn's are its derived units'), but its speaker's."""
    speaker = entity_key(unit.speaker) if unit.speaker else None
    keys = dict.fromkeys(k for u in (unit, *drawn) for k in u.entities if k != speaker)
    return list(keys)[:ENTITIES_FOLLOWED]


def _loaded(store: Store, ids: Sequence[str], tenant: str, user_id: str) -> list[MemoryUnit]:
    found = store.get_many(list(ids), tenant=tenant, user_id=user_id)
    return [found[i] for i in ids if i in found and found[i].status == "active"]
