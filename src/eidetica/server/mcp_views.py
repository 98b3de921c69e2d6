"""What the MCP tools take and return: one chat message in, trimmed JSON views of memories out.

Views are built from ``wire.to_wire`` and keep what an agent needs to use a memory (its id, text,
speaker, date and sources); ``get_memory`` adds the whole record, and ``add_memory`` leaves the
texts out (the agent just sent them). ``memory_history`` shows a memory's versions and
``memory_stats`` one user's counts; ``list_entities``, ``entity_card`` and ``related_memories``
show who and what memory mentions and how memories link; ``user_profile`` and ``session_summary``
quote who a person is and what a session was about.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, cast, get_args

from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from ..guard.quarantine import QUARANTINE, quarantined
from ..model import (
    Entity,
    EntityCard,
    EntityKind,
    HistoryEntry,
    HistoryOp,
    Hit,
    Link,
    LinkKind,
    MemoryUnit,
    Profile,
    ProfileSection,
    Stats,
    Summary,
    UnitStatus,
)
from ..wire import to_wire

Kind = Literal["turn", "fact", "event", "passage"]


class Message(BaseModel):
    """One chat message to remember."""

    role: Annotated[str, Field(description="Who sent it: user, assistant or system.")]
    content: Annotated[str, Field(description="What was said, verbatim.")]
    name: Annotated[str | None, Field(description="The speaker's name, e.g. 'Caroline'.")] = None


class StoredView(TypedDict):
    """A memory just stored, without its text (the caller sent it): enough to cite or fetch it."""

    id: str
    kind: Kind
    speaker: str | None
    occurred_at: str | None
    session_id: str | None
    sources: list[str]


class UnitView(StoredView):
    """A memory as an agent sees it."""

    text: str


class ListedView(UnitView):
    """A memory with its status: a list may include deleted or archived memories, a search
    archived ones."""

    status: UnitStatus


class HitView(ListedView):
    """A search hit: the memory, its status and its fused relevance score (higher is better)."""

    score: float


class UnitDetail(UnitView):
    """A memory's whole record."""

    role: str | None
    agent_id: str | None
    recorded_at: str
    entities: list[str]
    derived_from: list[str]
    metadata: dict[str, Any]
    version: int
    status: UnitStatus


class AddView(TypedDict):
    """What was stored: the messages, and the facts and events derived from them, without texts
    (a reply as large as the request would only fill the agent's context)."""

    turns: list[StoredView]
    derived: list[StoredView]
    skipped_refs: list[str]


class SearchView(TypedDict):
    """The best matches, best first."""

    hits: list[HitView]


class Citation(TypedDict):
    """A memory the context text contains, and the ids of the messages it comes from."""

    id: str
    kind: Kind
    sources: list[str]


class ContextView(TypedDict):
    """Evidence packed into a token budget, and what it cites; ``abstained`` (with a reason) when
    nothing stored matches the question."""

    text: str
    tokens: int
    budget_tokens: int
    cited: list[Citation]
    abstained: bool
    reason: str | None


class ListView(TypedDict):
    """One page of memories in time order; next_offset is null on the last page."""

    units: list[ListedView]
    next_offset: int | None


class VersionView(TypedDict):
    """One version of a memory: what it said, and the change that made it."""

    version: int
    op: HistoryOp
    text: str
    at: str


class HistoryView(TypedDict):
    """Every version of one memory, oldest first."""

    id: str
    history: list[VersionView]


class ForgetView(TypedDict):
    """Whose memories were erased, and how many."""

    user_id: str
    deleted: int


class StatsView(TypedDict):
    """How much one user's memory holds: active memories, in all and by kind, deleted ones and
    conversations."""

    units: int
    units_by_kind: dict[str, int]
    deleted: int
    sessions: int


def stored_view(unit: MemoryUnit) -> StoredView:
    """The fields of a unit just stored that an agent needs to cite or fetch it: all but its text."""
    data = to_wire(unit)
    return {
        "id": data["id"],
        "kind": data["kind"],
        "speaker": data["speaker"],
        "occurred_at": data["occurred_at"],
        "session_id": data["scope"]["session_id"],
        "sources": data["sources"],
    }


#: What an agent reads instead of a text held for review: the text may be an injected instruction,
#: and the agent is a model (``guard.quarantine``).
HELD_TEXT = "(held for review by a person; not shown to agents)"


def unit_view(unit: MemoryUnit) -> UnitView:
    """The fields of a unit an agent needs to use it."""
    return {**stored_view(unit), "text": HELD_TEXT if quarantined(unit) else unit.text}


def listed_view(unit: MemoryUnit) -> ListedView:
    """A unit's view with its status, for ``list_memories`` and ``search_memories``."""
    return {**unit_view(unit), "status": unit.status}


def hit_view(hit: Hit) -> HitView:
    """A unit's view with its score (the per-channel breakdown stays out: agents do not need it)."""
    return {**listed_view(hit.unit), "score": round(hit.score, 6)}


def unit_detail(unit: MemoryUnit) -> UnitDetail:
    """A unit's view with the rest of its record, tenant and user left out."""
    data = to_wire(unit)
    return {
        **unit_view(unit),
        "role": data["role"],
        "agent_id": data["scope"]["agent_id"],
        "recorded_at": data["recorded_at"],
        "entities": data["entities"],
        "derived_from": data["derived_from"],
        # The reasons a unit is held quote what it says: an agent sees only that it is held.
        "metadata": {**data["metadata"], QUARANTINE: "held for review"}
        if quarantined(unit)
        else data["metadata"],
        "version": data["version"],
        "status": data["status"],
    }


def history_view(unit_id: str, entries: list[HistoryEntry], *, held: bool = False) -> HistoryView:
    """A unit's versions, oldest first, without their metadata; a unit ``held`` for review shows
    none of its texts."""
    return {
        "id": unit_id,
        "history": [
            {"version": e.version, "op": e.op, "text": HELD_TEXT if held else e.text, "at": e.at.isoformat()}
            for e in entries
        ],
    }


def stats_view(stats: Stats) -> StatsView:
    """One user's counts; the storage size and embedding backlog are the operator's concern."""
    return {
        "units": stats.units,
        "units_by_kind": dict(stats.units_by_kind),
        "deleted": stats.deleted,
        "sessions": stats.sessions,
    }


class UsersView(TypedDict):
    """The users a server keeps memories for."""

    users: list[str]


class EntityView(TypedDict):
    """Someone or something memory mentions: its name as written, the key memories name it by, its
    kind, the other names found to be it, and how often and between when it was mentioned."""

    name: str
    key: str
    kind: EntityKind
    aliases: list[str]
    mentions: int
    first_mentioned: str
    last_mentioned: str


class EntitiesView(TypedDict):
    """The entities memory mentions, most mentioned first."""

    entities: list[EntityView]


class CardUnitView(UnitView):
    """A memory on an entity card; valid_to is when it stopped holding (null: it still holds)."""

    valid_to: str | None


class RelationView(TypedDict):
    """A relation a memory states: subject, relation, object, true until valid_to (null: still
    true); id is the memory that states it."""

    subject: str
    relation: str
    object: str
    id: str
    valid_from: str | None
    valid_to: str | None


class EntityCardView(TypedDict):
    """What memory holds about one entity: the memories that mention it (current facts first, then
    events, then what no longer holds), the relations they state, the entities mentioned with it."""

    entity: EntityView
    units: list[CardUnitView]
    relations: list[RelationView]
    related: list[str]


class LinkView(UnitView):
    """A memory linked to another, and how: derived_from (a message it was drawn from), derived (a
    fact or event drawn from it), supersedes, superseded_by, same_entity (via names the entity)."""

    link: LinkKind
    via: str | None


class RelatedView(TypedDict):
    """The memories linked to one memory."""

    id: str
    related: list[LinkView]


def entity_view(entity: Entity) -> EntityView:
    """An entity's wire form, cut to the fields ``EntityView`` names."""
    data = to_wire(entity)
    return cast(EntityView, {name: data[name] for name in EntityView.__annotations__})


def entity_card_view(card: EntityCard) -> EntityCardView:
    """An entity card for an agent: a memory held for review shows no text, and states no
    relation (they are read from its text)."""
    held = {unit.id for unit in card.units if quarantined(unit)}
    return {
        "entity": entity_view(card.entity),
        "units": [{**unit_view(u), "valid_to": to_wire(u.valid_to)} for u in card.units],
        "relations": [
            {
                "subject": r.subject,
                "relation": r.relation,
                "object": r.object,
                "id": r.unit_id,
                "valid_from": to_wire(r.valid_from),
                "valid_to": to_wire(r.valid_to),
            }
            for r in card.relations
            if r.unit_id not in held
        ],
        "related": list(card.related),
    }


def related_view(unit_id: str, links: list[Link]) -> RelatedView:
    return {
        "id": unit_id,
        "related": [{**unit_view(link.unit), "link": link.kind, "via": link.via} for link in links],
    }


class ProfileLineView(TypedDict):
    """A current statement about the person: its text, when it was said, the memory that says it
    (id) and the messages it comes from (sources)."""

    text: str
    said_at: str | None
    id: str
    sources: list[str]


class ProfileView(TypedDict):
    """Who a person is as memory holds it now: what holds one value at a time (attributes: where
    they live, work, their age), the people and animals of theirs, what they like or avoid, what
    they do or plan; the newest first in each; tokens is the size of all the lines."""

    entity: EntityView
    attributes: list[ProfileLineView]
    relationships: list[ProfileLineView]
    preferences: list[ProfileLineView]
    activities: list[ProfileLineView]
    tokens: int
    #: With an LLM on the server: its paragraph from the lines, grounded in them; else null.
    summary: str | None


class SummaryView(TypedDict):
    """What one session was about: its most central current statements under their day, within
    budget_tokens; ids are the memories it quotes, sources the messages they come from."""

    session_id: str
    text: str
    tokens: int
    budget_tokens: int
    ids: list[str]
    sources: list[str]
    written_by: str


#: The sections of a profile, in the order ``graph.profile`` fills them.
SECTIONS: tuple[ProfileSection, ...] = get_args(ProfileSection)


def profile_view(found: Profile) -> ProfileView:
    """A profile for an agent, its lines under their sections."""
    sections: dict[ProfileSection, list[ProfileLineView]] = {section: [] for section in SECTIONS}
    for line in found.lines:
        sections[line.section].append(
            {
                "text": line.text,
                "said_at": to_wire(line.said_at),
                "id": line.unit_id,
                "sources": list(line.sources),
            }
        )
    return {
        "entity": entity_view(found.entity),
        "attributes": sections["attributes"],
        "relationships": sections["relationships"],
        "preferences": sections["preferences"],
        "activities": sections["activities"],
        "tokens": found.tokens,
        "summary": found.summary,
    }


def summary_view(found: Summary) -> SummaryView:
    return {
        "session_id": found.session_id,
        "text": found.text,
        "tokens": found.tokens,
        "budget_tokens": found.budget_tokens,
        "ids": list(found.unit_ids),
        "sources": list(found.sources),
        "written_by": found.written_by,
    }
