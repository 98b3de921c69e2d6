"""Entities and entity cards: who and what a user's memory mentions, and what it holds about each.

Read from the units themselves (each fact and event lists the entity keys it mentions, see
``ingest.entity_names``), never kept apart from them: an edit, a deletion, a rebuild, ``as_of`` or a
forget changes the entities with the units, and there is nothing to fall out of step.

Names the conversation uses for one entity are merged: a short name that begins one full name
and no other ("Mel" and "Melanie", "Matt" and "Matt Patterson") is an alias of it, when it is
mentioned no more often than the full name.
"""

from __future__ import annotations

import dataclasses
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence

from ..errors import NotFoundError
from ..ingest.claims import analyse
from ..ingest.entity_names import entity_key
from ..ingest.names import speaker_phrase
from ..model import Entity, EntityCard, EntityKind, MemoryUnit, Relation
from ..storage.base import EntityMentions, Store, UnitFilter
from .kinds import kind_of

__all__ = ["CARD_UNITS", "RELATED_ENTITIES", "entities", "entity_card", "find_entity"]

#: The most units an entity card holds (current facts first).
CARD_UNITS = 50
#: How many of the entities mentioned alongside it an entity card names.
RELATED_ENTITIES = 10
#: The kinds an alias may join: a pet named "Max" is no alias of a "Maxine".
_ALIAS_KINDS: dict[EntityKind, frozenset[EntityKind]] = {
    "person": frozenset({"person", "other"}),
    "other": frozenset({"person", "other", "place", "organisation"}),
    "place": frozenset({"place", "other"}),
    "organisation": frozenset({"organisation", "other"}),
    "pet": frozenset({"pet"}),
}


def entities(store: Store, where: UnitFilter) -> list[Entity]:
    """The entities the units ``where`` selects mention, most mentioned first. Whoever speaks in
    the user's conversations is a person, named as they give their name."""
    speakers = store.speakers(dataclasses.replace(where, kinds=None, without_flag=None))
    found = [_entity(row, speakers) for row in store.entity_mentions(where)]
    return sorted(_merge_aliases(found), key=lambda e: (-e.mentions, e.key))


def entity_card(store: Store, where: UnitFilter, name: str, limit: int = CARD_UNITS) -> EntityCard:
    """What memory holds about the entity ``name`` (its name, key or an alias, in any case)."""
    known = entities(store, where)
    entity = find_entity(known, name)
    keys = (entity.key, *entity.aliases)
    units = _current_first(store.mentioning(where, keys, limit))
    names = {key: e.name for e in known for key in (e.key, *e.aliases)}
    together: Counter[str] = Counter()
    for unit in units:
        together.update({names.get(key, key) for key in unit.entities if key not in keys})
    return EntityCard(
        entity=entity,
        units=units,
        relations=relations(units, keys),
        related=[other for other, _ in together.most_common(RELATED_ENTITIES)],
    )


def relations(units: Iterable[MemoryUnit], keys: Sequence[str]) -> list[Relation]:
    """The typed edges ``units`` state about any of ``keys``: each claim whose subject names one
    ("caroline|works at" → "lgbtq center") or whose value is one ("sam|location" → "oslo"),
    valid while its unit holds."""
    edges: list[Relation] = []
    for unit in units:
        if unit.kind == "passage":
            continue
        speaker = speaker_phrase(unit.speaker) if unit.speaker else None
        for claim in analyse(unit.text, speaker).claims:
            subject, stem = claim.key.split("|", 1)
            relation = _as_written(stem, unit.text)
            if not any(_holds(subject, key) or claim.value == key for key in keys):
                continue
            edges.append(
                Relation(
                    subject=subject,
                    relation=relation,
                    object=claim.value,
                    unit_id=unit.id,
                    sources=unit.sources,
                    valid_from=unit.valid_from or unit.occurred_at,
                    valid_to=unit.valid_to,
                )
            )
    return edges


def _entity(row: EntityMentions, speakers: Sequence[str]) -> Entity:
    name = _display_name(row.key, row.samples, speakers)
    return Entity(
        key=row.key,
        name=name,
        kind=kind_of(name, row.samples, speakers, row.turns),
        mentions=row.units,
        first_mentioned=row.first,
        last_mentioned=row.last,
    )


def _display_name(key: str, samples: Sequence[str], speakers: Sequence[str]) -> str:
    """The name as written: a speaker's as they give it, else its capitalised form in a text."""
    for speaker in speakers:
        if entity_key(speaker) == key:
            return speaker
    pattern = re.compile(rf"(?<![\w'’]){re.escape(key)}(?![\w])", re.IGNORECASE)
    written = [m.group() for text in samples for m in pattern.finditer(text)]
    capitalised = [w for w in written if w[:1].isupper()]
    if capitalised:
        return Counter(capitalised).most_common(1)[0][0]
    return written[0] if written else key


def _merge_aliases(found: list[Entity]) -> list[Entity]:
    """Fold each short name into the one full name it begins, when there is exactly one."""
    by_key = {e.key: e for e in found}
    keys = sorted(by_key)  # the keys a short name begins stand together: found by bisection
    for short in sorted(found, key=lambda e: e.mentions):
        if " " in short.key or short.key not in by_key:
            continue
        begun = keys[bisect_left(keys, short.key) : bisect_left(keys, short.key + "\U0010ffff")]
        fuller = [
            by_key[key]
            for key in begun
            if key != short.key and key in by_key and by_key[key].kind in _ALIAS_KINDS[short.kind]
        ]
        if len(fuller) != 1 or fuller[0].mentions < short.mentions:
            continue
        full = fuller[0]
        by_key[full.key] = dataclasses.replace(
            full,
            mentions=full.mentions + short.mentions,
            first_mentioned=min(full.first_mentioned, short.first_mentioned),
            last_mentioned=max(full.last_mentioned, short.last_mentioned),
            aliases=(*full.aliases, short.key, *short.aliases),
        )
        del by_key[short.key]
    return list(by_key.values())


def find_entity(known: Sequence[Entity], name: str) -> Entity:
    """The entity ``name`` names: by its key, an alias or its name, in any case."""
    key = entity_key(name)
    for entity in known:
        if key == entity.key or key in entity.aliases or key == entity_key(entity.name):
            return entity
    raise NotFoundError(f"no entity {name!r} in this memory; `entities` lists the ones it knows")


def _current_first(units: Sequence[MemoryUnit]) -> list[MemoryUnit]:
    """Facts that hold, then events, then what no longer holds; newest first within each."""

    def rank(unit: MemoryUnit) -> int:
        if unit.valid_to is not None:
            return 2
        return 0 if unit.kind == "fact" else 1

    return sorted(units, key=rank)  # stable: the store's newest-first order stays within a rank


def _as_written(relation: str, text: str) -> str:
    """A claim's relation as the text words it: claims keep verbs by their stem ("lik"), a
    relation reads better whole ("likes"); a relation the text does not word stays as it is."""
    found = re.search(rf"\b{re.escape(relation)}\w*", text, re.IGNORECASE)
    return found.group().lower() if found else relation


def _holds(text: str, key: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(key)}(?!\w)", text) is not None
