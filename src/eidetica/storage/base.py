"""The storage seam: the ``Store`` protocol every backend implements, and its query filter.

Backends keep units, their vectors and a lexical index together, write each batch in one
transaction, and confine every read to one tenant and user. Ranking logic lives in
``eidetica.retrieve``; a store only answers "which units match, how strongly, per channel".

The tenant is never optional: every method takes it (in a ``Scope``, a ``UnitFilter`` or a
keyword-only ``tenant``), and every statement a backend issues carries it as a predicate, so one
store can serve many tenants' ``Memory`` objects without one seeing another's units. Within a
tenant the user is optional only for by-id operations, where the id already names one unit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from ..embedders.base import Vectors
from ..errors import StoreError
from ..metadata import MetadataFilter
from ..model import HistoryEntry, Lesson, MemoryUnit, Scope, Stats, UnitKind


@dataclass(frozen=True)
class UnitFilter:
    """Which active units a query may see: always one tenant and user, optionally narrower."""

    scope: Scope
    kinds: tuple[UnitKind, ...] | None = None
    since: datetime | None = None
    until: datetime | None = None
    #: Only units that held at this moment: already true (valid_from, else occurred_at, else
    #: recorded_at, no later than it) and not yet closed (valid_to after it, or none).
    as_of: datetime | None = None
    #: Only units derived from this unit id (lineage: ``derived_from`` lists it).
    derived_from: str | None = None
    #: Only units said in one of these roles ("user", "assistant", ...).
    roles: tuple[str, ...] | None = None
    #: Only units whose metadata holds each of these keys with an equal value (``eidetica.metadata``).
    metadata: MetadataFilter | None = None
    #: Only units whose metadata holds this key, whatever its value: the flags Eidetica keeps
    #: itself ("quarantine"), found by the store rather than by reading every unit of the user.
    flagged: str | None = None
    #: Only units whose metadata lacks this key: what is not held for review ("quarantine").
    without_flag: str | None = None
    #: Archived units too (``lifecycle.decay``), which every read leaves out unless asked.
    include_archived: bool = False
    #: Deleted units too, whatever ``include_archived`` says: for listing and export (deleted
    #: units have left the indexes, so no search finds them).
    include_deleted: bool = False


@dataclass(frozen=True)
class WordCounts:
    """How rare words are in one user's memory: how many indexed units hold each."""

    units: int
    holding: dict[str, int]


@dataclass(frozen=True)
class Recall:
    """How many times a unit was recalled since the last count was written, and when last."""

    times: int
    last: datetime


@dataclass(frozen=True)
class NewUnit:
    """A unit to store, with its vector and the texts the lexical index should see.

    ``lexical_context`` is what was said just before (the turn being answered): matched with a
    lower weight, it lets "the Harry Potter stuff!" be found for a question about the place the
    previous turn named. ``vector`` is None when the embedder failed: the unit is stored and found
    by words, and dense search skips it until ``set_vectors`` fills it in.
    """

    unit: MemoryUnit
    vector: Vectors | None
    lexical_text: str
    lexical_context: str = ""
    #: The unit's history in another store, for an import of an export; empty: a first ``add``.
    history: tuple[HistoryEntry, ...] = ()


@dataclass(frozen=True)
class NewVersion:
    """A unit's next version as ``Store.update`` writes it: its text, with the vector and lexical
    text drawn from it, and the metadata it keeps (None: unchanged)."""

    unit_id: str
    text: str
    vector: Vectors
    lexical_text: str
    metadata: dict[str, Any] | None = None


@dataclass(frozen=True)
class Replacement:
    """What a rebuild writes in one transaction (``Store.replace_derived``): the derived units it
    erases (by id), the ones it stores, and the revisions it applies."""

    units: Sequence[NewUnit]
    drop: Collection[str] = ()
    revisions: Sequence[Revision] = ()


RevisionOp = Literal["mention", "supersede", "delete", "source_deleted", "archive", "restore"]


@dataclass(frozen=True)
class Revision:
    """A stored unit as it should read after a write, and why (recorded in ``history`` under
    ``op``; None records nothing).

    Only sources, derived_from, valid_to, metadata, version and status change; the text and
    vector stay. A unit whose status becomes ``deleted`` leaves the lexical index; ``lexical``
    (the unit's lexical text and the words said before it) replaces its index entries, for a unit
    whose preceding turn was deleted. An ``archived`` unit keeps its index entries and vector, so
    that a restore costs nothing; reads leave it out unless ``UnitFilter.include_archived``.
    """

    unit: MemoryUnit
    op: RevisionOp | None
    lexical: tuple[str, str] | None = None
    #: Recorded in the history entry only, beside the unit's metadata (the turns a mention left
    #: out of ``derived_from``).
    note: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ReembedState:
    """Where a re-embedding stands: the embedder whose vectors are staged, which tenants have
    units, and how many active units there are and have a vector staged for their version."""

    name: str
    dim: int
    tenants: tuple[str, ...]
    staged: int
    total: int


@dataclass(frozen=True)
class EntityMentions:
    """How the units a filter selects mention one entity key: how many of them, said between
    ``first`` and ``last``, the texts of a few (newest first) to read what kind it is, and the
    turns those were drawn from: "Her name's Coco" is a pet's name in a turn that began "We
    adopted a puppy"."""

    key: str
    units: int
    first: datetime
    last: datetime
    samples: tuple[str, ...]
    turns: tuple[str, ...] = ()


#: How many texts ``Store.entity_mentions`` returns for each entity: enough for its kind to show.
ENTITY_SAMPLES = 12


def collect_mentions(
    rows: Iterable[tuple[str, int, datetime, datetime, str, str | None]],
) -> list[EntityMentions]:
    """``Store.entity_mentions``' answer from a backend's rows, each a key with its count and
    times, one sampled text and the text of that sample's turn (in sample order); most mentioned
    first. The backends differ in SQL only."""
    found: dict[str, EntityMentions] = {}
    for key, units, first, last, text, said in rows:
        seen = found.get(key) or EntityMentions(key, units, first, last, ())
        turns = (*seen.turns, said) if said else seen.turns
        found[key] = dataclasses.replace(seen, samples=(*seen.samples, text), turns=turns)
    return sorted(found.values(), key=lambda e: (-e.units, e.key))


#: How many of a word's newest units ``Store.newest_with_words`` reads for each one it returns: a
#: word said in thousands of turns but in few of the units a filter selects ("next", "remember")
#: would otherwise cost a walk over the whole history.
NEWEST_WALK = 50


class Store(Protocol):
    """Persistent home of memory units. Every method is safe to call from several threads."""

    def check_embedder(self, name: str, dim: int) -> None:
        """Remember the embedder on first use; raise StoreError if a different one is used later."""
        ...

    def stored_embedder(self) -> str | None:
        """The name of the embedder whose vectors the store holds; None before the first."""
        ...

    def add(self, units: Sequence[NewUnit], *, revisions: Sequence[Revision] = ()) -> None:
        """Store all units and apply the revisions in one transaction: all of it, or none on error."""
        ...

    def existing_refs(self, scope: Scope, refs: Sequence[str]) -> set[str]:
        """Return which of these caller turn ids are already stored for the scope's user."""
        ...

    def get(self, unit_id: str, *, tenant: str, user_id: str | None = None) -> MemoryUnit:
        """Return the unit (deleted ones too); NotFoundError if absent, in another tenant, or
        (when ``user_id`` is given) another user's."""
        ...

    def get_many(
        self, unit_ids: Sequence[str], *, tenant: str, user_id: str | None = None
    ) -> dict[str, MemoryUnit]:
        """Return the units of the tenant (and user, if given) among ``unit_ids``, keyed by id."""
        ...

    def update(
        self, new: NewVersion, *, tenant: str, user_id: str | None = None, revisions: Sequence[Revision] = ()
    ) -> MemoryUnit:
        """Write a new version of the unit, and apply ``revisions`` (the turns it came from,
        closed), in one transaction; the previous version stays in ``history``."""
        ...

    def delete(
        self, unit_id: str, *, tenant: str, user_id: str | None = None, revisions: Sequence[Revision] = ()
    ) -> MemoryUnit:
        """Soft-delete: hide the unit from reads, record the deletion in ``history``, and apply
        ``revisions`` (what was derived from it, retired) in the same transaction."""
        ...

    def history(self, unit_id: str, *, tenant: str, user_id: str | None = None) -> list[HistoryEntry]:
        """Return every recorded version of the unit, oldest first."""
        ...

    def forget(self, tenant: str, user_id: str, *, compact: bool = False) -> int:
        """Erase everything of one user (history included) and their bytes from the store's files
        as far as the backend can; ``compact`` also rewrites the storage (SQLite VACUUM, PostgreSQL
        VACUUM FULL, which locks the tables for every tenant). Return how many units went. See
        docs/forget.md."""
        ...

    def replace_derived(self, scope: Scope, replacement: Replacement) -> int:
        """Erase the user's derived units ``replacement.drop`` names (history included), store its
        ``units`` and apply its ``revisions``, in one transaction, so a rebuild that fails or is killed leaves
        the old ones; return how many were erased. Naming what goes, rather than what stays,
        spares the units an add stored while the rebuild was deriving."""
        ...

    def unembedded(self, tenant: str, user_id: str | None, limit: int) -> list[MemoryUnit]:
        """Up to ``limit`` active units stored without a vector, oldest first: the user's, or with
        ``user_id=None`` the whole tenant's."""
        ...

    def set_vectors(self, tenant: str, vectors: Mapping[str, Vectors]) -> None:
        """Give units stored without a vector their vector (one transaction); others stay as they are."""
        ...

    def recalled(self, tenant: str, recalls: Mapping[str, Recall]) -> None:
        """Count recalls into each unit's ``metadata["recalled"]`` (``times`` added, ``last`` the
        later), in place and in one transaction: no new version, no history entry."""
        ...

    def search_lexical(
        self, where: UnitFilter, terms: Sequence[str], limit: int, *, context_weight: float = 0.0
    ) -> list[tuple[str, float]]:
        """Rank units by BM25 over ``terms``; higher score is better.

        ``context_weight`` > 0 also matches the words said just before each unit, weighted so.
        """
        ...

    def search_vector(self, where: UnitFilter, vector: Vectors, limit: int) -> list[tuple[str, float]]:
        """Rank units by cosine similarity to ``vector``."""
        ...

    def word_counts(self, where: UnitFilter, words: Sequence[str]) -> WordCounts:
        """How many of the indexed units of ``where``'s user hold each of ``words`` in their own
        words, and how many there are (archived ones too, as BM25's statistics count them)."""
        ...

    def newest_with_words(self, where: UnitFilter, words: Sequence[str], per_word: int) -> list[str]:
        """Ids of units ``where`` selects whose own words hold one of ``words``: for each word,
        the ``per_word`` most recently stored among the newest ``NEWEST_WALK * per_word`` units of
        the owner that hold it. An index lookup, not a ranking: reconciliation finds the units a new
        statement may repeat or replace by their marker words this way, at a cost that does not
        grow with the history."""
        ...

    def list_units(self, where: UnitFilter, *, limit: int | None = None, offset: int = 0) -> list[MemoryUnit]:
        """Return units oldest first (by time said, then stored)."""
        ...

    def entity_mentions(self, where: UnitFilter) -> list[EntityMentions]:
        """Every entity key the units ``where`` selects mention (``MemoryUnit.entities``), with
        how many mention it, when (a unit's ``valid_from``, else its time, else its storing) and
        up to ``ENTITY_SAMPLES`` of their texts with their turns'; most mentioned first."""
        ...

    def mentioning(self, where: UnitFilter, keys: Sequence[str], limit: int) -> list[MemoryUnit]:
        """Up to ``limit`` of the units ``where`` selects that mention any of the entity ``keys``,
        newest said first."""
        ...

    def speakers(self, where: UnitFilter) -> list[str]:
        """Distinct speakers of the active turns ``where`` selects."""
        ...

    def count(self, where: UnitFilter, *, at_most: int | None = None) -> int:
        """Count the active units ``where`` selects, stopping at ``at_most`` when given (whether a
        long history exceeds a few hundred units need not cost a pass over all of it)."""
        ...

    def add_lesson(self, tenant: str, lesson: Lesson) -> None:
        """Keep a lesson from a confirmed attack (``guard.lessons``); ``forget`` of its target
        erases it."""
        ...

    def lessons(self, tenant: str, limit: int) -> list[Lesson]:
        """The tenant's newest ``limit`` lessons, newest first."""
        ...

    def users(self, tenant: str) -> list[str]:
        """The ids of the tenant's users that have units, in order; one index seek per user."""
        ...

    def stats(self, tenant: str, user_id: str | None) -> Stats:
        """Count units by kind for one user, or for the whole store."""
        ...

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""
        ...

    # Re-embedding (``eidetica.lifecycle.reembed``): a store-wide operation over every tenant. New
    # vectors are staged apart from the ones searches use, then swapped in with the embedder's
    # record in one transaction, so an interrupted run changes nothing a search sees.

    def reembed_begin(self, name: str, dim: int) -> ReembedState:
        """Stage vectors for embedder ``name`` from now on: keep what is staged for it already
        (resuming an interrupted run), discard what is staged for any other."""
        ...

    def reembed_pending(self, tenant: str, limit: int, *, after: str | None = None) -> list[MemoryUnit]:
        """Up to ``limit`` of the tenant's active units without a vector staged for their current
        version, in storage order, after the unit ``after`` (from the start if None or gone)."""
        ...

    def reembed_stage(self, units: Sequence[MemoryUnit], vectors: Vectors) -> None:
        """Stage ``vectors[i]`` for ``units[i]`` at its version (one transaction); searches do not
        see them until ``reembed_swap``."""
        ...

    def reembed_swap(self, name: str, dim: int, embed: Callable[[Sequence[MemoryUnit]], Vectors]) -> int:
        """In one transaction: stage vectors, with ``embed``, for the active units still without
        (added or changed since their pass), replace every unit's vector with its staged one and
        record embedder ``name``; return how many units ``embed`` was given. StoreError, changing
        nothing, if the staging is not for ``name`` (another run replaced it)."""
        ...

    def reembed_discard(self) -> None:
        """Drop every staged vector and the record of what they are for."""
        ...


def status_sql(column: str, where: UnitFilter) -> str | None:
    """The SQL, the same on every backend, selecting the statuses ``where`` reads: active units,
    and archived or deleted ones when it asks for them (None: every status)."""
    if where.include_deleted:
        return None
    return f"{column} IN ('active', 'archived')" if where.include_archived else f"{column} = 'active'"


def lineage_pattern(unit_id: str) -> str:
    """A LIKE pattern (escape character ``\\``) matching a ``derived_from`` JSON list naming ``unit_id``."""
    escaped = unit_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f'%"{escaped}"%'


#: Why a process's vectors stopped fitting its store: another process moved it to another embedder.
REEMBEDDED = (
    "the store was re-embedded for another embedder (eidetica reembed) since this process opened it; "
    "open it again with that embedder"
)


def embedder_mismatch(where: object, stored: str, wanted: str) -> StoreError:
    """The error for opening a store with an embedder other than the one that filled it."""
    short = wanted.split("/", 1)[0]
    return StoreError(
        f"{where} holds vectors from embedder {stored!r}, not {wanted!r}; open it with the same "
        "embedder (Memory(embedder=...), or EIDETICA_EMBEDDER for commands and servers), move it to "
        f"the new one with `eidetica reembed --embedder {short}` (eidetica.lifecycle.reembed), or "
        "start a new database"
    )
