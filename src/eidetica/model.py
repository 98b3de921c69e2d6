"""Plain data that flows between ingest, storage, retrieval and callers; no I/O here."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

UnitKind = Literal["turn", "fact", "event", "passage"]
UnitStatus = Literal["active", "archived", "deleted"]
HistoryOp = Literal["add", "update", "delete", "mention", "supersede", "source_deleted", "archive", "restore"]
EntityKind = Literal["person", "pet", "place", "organisation", "other"]
ENTITY_KINDS: tuple[EntityKind, ...] = ("person", "pet", "place", "organisation", "other")
ProfileSection = Literal["attributes", "relationships", "preferences", "activities"]
LinkKind = Literal["derived_from", "derived", "supersedes", "superseded_by", "same_entity"]
DERIVED_KINDS: tuple[UnitKind, ...] = ("fact", "event", "passage")

#: A turn longer than this (in words) is no one line: the extractor also keeps it as passages, and
#: the packer lets each of its statements in on its own merits.
LONG_TURN_WORDS = 120

DEFAULT_TENANT = "default"
DEFAULT_USER = "default"


@dataclass(frozen=True)
class Scope:
    """Who a memory belongs to. Reads are confined to one tenant and one user; agent and session
    narrow further when given."""

    user_id: str = DEFAULT_USER
    tenant: str = DEFAULT_TENANT
    agent_id: str | None = None
    session_id: str | None = None


@dataclass(frozen=True)
class TurnInput:
    """One conversation turn as parsed from any input format, before it is stored.

    ``ref`` is the caller's own id for the turn (``"D1:3"``); hits report it in ``sources``.
    ``user_id`` is set only when the input itself names the owner (a LoCoMo sample id, say).
    """

    content: str
    speaker: str | None = None
    role: str | None = None
    timestamp: datetime | None = None
    session_id: str | None = None
    ref: str | None = None
    user_id: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Extracted:
    """A memory unit derived from turns by an extractor; ``turn_indexes`` point into the batch."""

    kind: UnitKind
    text: str
    turn_indexes: tuple[int, ...]
    entities: tuple[str, ...] = ()
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class MemoryUnit:
    """A stored memory: a verbatim turn or a fact/event derived from turns.

    ``sources`` are the ids callers know the underlying turns by (their own ``ref`` when they gave
    one, else the turn's unit id); ``derived_from`` are unit ids, for lineage and rebuilds.
    """

    id: str
    kind: UnitKind
    text: str
    scope: Scope
    recorded_at: datetime
    speaker: str | None = None
    role: str | None = None
    occurred_at: datetime | None = None
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    entities: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    derived_from: tuple[str, ...] = ()
    ref: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    version: int = 1
    status: UnitStatus = "active"
    #: For a derived unit, what extraction made it from (its first turn and first text): the key
    #: that lets ``rebuild`` recognise it again and keep its id, edits and deletion.
    origin: str | None = None

    @property
    def holds_from(self) -> datetime:
        """When its statement became true: its validity start, else when it happened, else when
        it was stored. Reconciliation, ranking and ``as_of`` order statements by it."""
        return self.valid_from or self.occurred_at or self.recorded_at

    def held_at(self, moment: datetime | None) -> MemoryUnit:
        """This unit as memory held it at ``moment``: a validity that ended after then had not
        ended yet (``context(as_of=...)`` renders it as current, not as past)."""
        if moment is None or self.valid_to is None or self.valid_to <= moment:
            return self
        return dataclasses.replace(self, valid_to=None)


@dataclass(frozen=True)
class Hit:
    """One search result: the unit, its fused score and how each channel scored it.

    ``confident`` says whether the unit matches the question well enough to be evidence at all
    (see ``retrieve.confidence``); a search always returns its best units, confident or not.
    ``overtaken_by`` names a newer statement of the same speaker that answers the question with
    another value, where the rules could not tell whether it replaced this one
    (``retrieve.overtaken``): this one is probably past.
    """

    unit: MemoryUnit
    score: float
    scores: dict[str, float]
    confident: bool = True
    overtaken_by: str | None = None

    @property
    def id(self) -> str:
        return self.unit.id

    @property
    def text(self) -> str:
        return self.unit.text

    @property
    def kind(self) -> UnitKind:
        return self.unit.kind

    @property
    def sources(self) -> tuple[str, ...]:
        return self.unit.sources


@dataclass(frozen=True)
class Context:
    """Hits packed into a token budget, rendered as one text block ready for a prompt.

    ``abstained`` is true when no stored unit matched the question confidently: the context is
    empty, and ``reason`` says why, so an answer can say "nothing in memory" instead of guessing.
    """

    text: str
    hits: list[Hit]
    tokens: int
    budget_tokens: int
    abstained: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class AddResult:
    """What one ``add`` stored: verbatim turns, new derived units, and refs skipped as already stored."""

    turns: list[MemoryUnit]
    derived: list[MemoryUnit]
    skipped_refs: list[str] = field(default_factory=list)
    #: Stored units this add changed: restated facts that gained sources, superseded facts closed.
    revised: list[MemoryUnit] = field(default_factory=list)
    #: Problems that did not stop the add: an LLM extraction or an embedder that failed (turns are
    #: kept anyway).
    warnings: list[str] = field(default_factory=list)

    @property
    def units(self) -> list[MemoryUnit]:
        return self.turns + self.derived


@dataclass(frozen=True)
class HistoryEntry:
    """One recorded change to a unit: ``add``, ``update``, ``delete``, ``mention`` (said again, a
    source more), ``supersede`` (a newer statement, a correction or a deletion closed or linked
    it), ``source_deleted`` (one of the turns it came from was deleted), ``archive`` (it faded,
    ``lifecycle.decay``) or ``restore`` (back in every read: said again, or asked for)."""

    unit_id: str
    version: int
    op: HistoryOp
    text: str
    at: datetime
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stats:
    """Counts for one user (or the whole store when no user is given)."""

    units_by_kind: dict[str, int]
    deleted: int
    users: int
    sessions: int
    bytes_on_disk: int | None
    #: Active units still without a vector: stored while the embedder failed, or queued for the
    #: background embedder. Found by their words until embedded.
    unembedded: int = 0
    #: Units that faded and were archived (``lifecycle.decay``): kept, out of default reads.
    archived: int = 0

    @property
    def units(self) -> int:
        return sum(self.units_by_kind.values())


#: Archived ids a ``MaintainReport`` lists.
MAX_LISTED = 50


@dataclass(frozen=True)
class MaintainReport:
    """What ``maintain`` did (or, with ``dry_run``, would do): the users and active units it
    examined, the units it archived by kind, and the first ``MAX_LISTED`` of their ids."""

    users: int
    examined: int
    archived: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    sample: tuple[str, ...] = ()

    @property
    def archived_total(self) -> int:
        return sum(self.archived.values())


@dataclass(frozen=True)
class Answer:
    """An answer with the ids of the units it cites and the source turns behind them.

    ``unit_ids`` are only ever ids of units in the context; ``sources`` are those units' source
    turn ids (the caller's refs where given), in citation order, each once. ``structured`` is
    false when the reply was not valid JSON even after a repair (small local models do this) but
    its answer could be read anyway, from an ``"answer"`` field amid broken JSON or from plain
    prose: that text is the answer, and it cites nothing.
    """

    text: str
    unit_ids: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    abstained: bool = False
    prompt_tokens: int = 0
    completion_tokens: int = 0
    prompt_version: str = ""
    structured: bool = True

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class ImportReport:
    """What ``import_file`` did: turns stored, derived units, refs already present, bad lines, and
    the warnings of its adds (each said once)."""

    turns: int
    derived: int
    skipped_refs: int
    errors: list[str]
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Lesson:
    """A write a person confirmed as an attack (``review(approve=False)``), kept so that later
    writes like it are held for review too (``guard.lessons``).

    ``words`` is its pattern: the attack's content words, sorted. ``source`` is who wrote it (its
    role and speaker), ``target`` the user whose memory it was written to, ``unit_id`` the
    rejected unit. Forgetting the target user erases their lessons with their memory.
    """

    words: tuple[str, ...]
    source: str
    target: str
    unit_id: str
    at: datetime


@dataclass(frozen=True)
class Entity:
    """Someone or something a user's memory mentions: a person, a pet, a place, an organisation.

    ``key`` is how units name it (``MemoryUnit.entities``), ``name`` how the conversation writes
    it; ``aliases`` are the other keys found to be the same entity ("mel" for "melanie").
    ``mentions`` counts the facts and events that mention it, said between ``first_mentioned``
    and ``last_mentioned``.
    """

    key: str
    name: str
    kind: EntityKind
    mentions: int
    first_mentioned: datetime
    last_mentioned: datetime
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Relation:
    """A typed edge drawn from one unit: ``subject`` --``relation``--> ``object`` ("caroline",
    "works at", "lgbtq center"), true from ``valid_from`` until ``valid_to`` (None: still true),
    with the unit that states it and that unit's sources."""

    subject: str
    relation: str
    object: str
    unit_id: str
    sources: tuple[str, ...]
    valid_from: datetime | None = None
    valid_to: datetime | None = None


@dataclass(frozen=True)
class EntityCard:
    """What memory holds about one entity: the units that mention it (current facts first, then
    events newest first, then what no longer holds), the relations they state, and the entities
    mentioned with it most often."""

    entity: Entity
    units: list[MemoryUnit]
    relations: list[Relation]
    related: list[str]


@dataclass(frozen=True)
class Link:
    """How another unit relates to one unit: the turn it came from (``derived_from``), a unit
    drawn from it (``derived``), what it replaced or was replaced by, or a unit mentioning the
    same entity (``via`` names it)."""

    kind: LinkKind
    unit: MemoryUnit
    via: str | None = None


@dataclass(frozen=True)
class ProfileLine:
    """One line of a profile: a current statement about the person, quoted from a unit (its id
    and sources given), filed under a ``section``."""

    section: ProfileSection
    text: str
    unit_id: str
    sources: tuple[str, ...]
    said_at: datetime | None = None


@dataclass(frozen=True)
class Profile:
    """Who a person is, as memory holds it now: their current attributes, relationships,
    preferences and activities, a line each (see ``graph.profile``); ``tokens`` is their size.
    With an LLM configured, ``summary`` is the model's paragraph from those lines (``written_by``
    "llm"); without one, or when the model's is refused, it is None."""

    entity: Entity
    lines: list[ProfileLine]
    tokens: int
    summary: str | None = None
    written_by: Literal["rules", "llm"] = "rules"


@dataclass(frozen=True)
class Summary:
    """What one session was about, within ``budget_tokens`` (see ``graph.summary``): its most
    central current statements quoted in the order they were said under their day, or, with an
    LLM configured, the model's summary of them (``written_by`` says which). ``unit_ids`` are the
    units quoted or cited, ``sources`` the turns behind them."""

    session_id: str
    text: str
    unit_ids: tuple[str, ...]
    sources: tuple[str, ...]
    tokens: int
    budget_tokens: int
    written_by: Literal["rules", "llm"] = "rules"
