"""Eidetica memory as MCP tools an LLM agent can call, over stdio or streamable HTTP.

Scoping, decided here and nowhere else (the HTTP transport, ``mcp_http``, only hands over the
tenant):

- the tenant is fixed by configuration over stdio, and comes from the request's API key over HTTP
  (``mcp_http.ApiKeyAuth`` leaves it under ``TENANT_STATE`` before any MCP handling);
- the user is fixed by configuration when given, and the tools then take no ``user_id`` at all;
  otherwise each tool takes an optional ``user_id`` (the default user when omitted), except
  ``forget_user``, which erases for good and so must name its user;
- the agent id, when configured, is stamped on every write.

The tools follow ``eidetica.api.MemoryAPI`` (``tests/test_faces.py`` compares them), with these
deliberate exceptions: no ``agent_id`` argument (configuration fixes it: an agent does not choose
whom it writes as, and reads span every agent of the user); ``id`` for ``unit_id``; no
``import_file`` (it reads a path on the server's disk) and no ``answer`` (the calling agent is the
model: ``get_context`` hands it the evidence), no ``maintain`` (archiving what faded is an
operator's maintenance step); ``forget_user`` offers no ``compact`` (it locks the
tables of every tenant, an operator's decision) and needs ``confirm``; ``list_memories`` always
pages and ``list_entities`` always has a ``limit`` (no ``limit`` of None); ``memory_stats`` counts
one user, never the whole tenant.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field

from .. import __version__
from ..api import (
    DEFAULT_CONTEXT_BUDGET,
    DEFAULT_ENTITY_LIMIT,
    DEFAULT_K,
    DEFAULT_LIST_LIMIT,
    DEFAULT_SUMMARY_BUDGET,
)
from ..errors import AuthError, UsageError
from ..guard.quarantine import quarantined
from ..limits import MAX_BUDGET_TOKENS, MAX_K, MAX_LIMIT, MAX_OFFSET
from ..memory import Memory
from ..model import DEFAULT_TENANT, DEFAULT_USER, EntityKind
from ..wire import error_to_wire
from . import incidents
from .mcp_views import (
    AddView,
    ContextView,
    EntitiesView,
    EntityCardView,
    ForgetView,
    HistoryView,
    Kind,
    ListView,
    Message,
    ProfileView,
    RelatedView,
    SearchView,
    StatsView,
    SummaryView,
    UnitDetail,
    UsersView,
    entity_card_view,
    entity_view,
    history_view,
    hit_view,
    listed_view,
    profile_view,
    related_view,
    stats_view,
    stored_view,
    summary_view,
    unit_detail,
)
from .tenants import Tenants

#: Key in the ASGI scope's ``state`` under which ``ApiKeyAuth`` leaves the request's tenant
#: (the same key as the REST server's ``request.state.tenant``).
TENANT_STATE = "tenant"

INSTRUCTIONS = (
    "Long-term memory of past conversations. Before answering anything that may depend on what was "
    "said earlier (preferences, people, plans, dates), call get_context with the question. Store what "
    "is worth remembering with add_memory. Every memory has an id; sources name the original messages."
)

#: The most hits and units per page a tool returns: fewer than ``eidetica.limits`` allows, since
#: every one of them lands in the agent's context.
TOOL_MAX_K = min(100, MAX_K)
TOOL_MAX_LIMIT = min(200, MAX_LIMIT)


@dataclasses.dataclass(frozen=True)
class McpSettings:
    """Who the tools act for: the stdio tenant, a fixed user (or None), the agent stamped on writes."""

    tenant: str = DEFAULT_TENANT
    user_id: str | None = None
    agent_id: str | None = None


UserArg = Annotated[
    str | None, Field(description="Whose memory to use (a user id); omit for the default user.")
]
IdArg = Annotated[str, Field(description="A memory id, as returned by the other tools.")]
SessionArg = Annotated[
    str | None, Field(description="Only memories of this conversation (its session_id); omit for all.")
]
MetadataArg = Annotated[
    dict[str, Any] | None,
    Field(
        description="Only memories tagged with each of these metadata keys and an equal value "
        '(e.g. {"project": "apollo"}); omit for all.'
    ),
]
KindsArg = Annotated[
    list[Kind] | None,
    Field(
        description="Only these kinds: turn (a message as said), fact, event, passage (a piece of a long "
        "turn). Omit for all."
    ),
]
SinceArg = Annotated[
    str | None, Field(description="Only memories that happened at or after this ISO 8601 time.")
]
UntilArg = Annotated[str | None, Field(description="Only memories that happened before this ISO 8601 time.")]
AsOfArg = Annotated[
    str | None,
    Field(description="Answer from what memory held at this ISO 8601 time, not from what holds now."),
]
ArchivedArg = Annotated[
    bool,
    Field(
        description='Also read memories that faded from use and were archived (their status is "archived"); '
        "restore_memory brings one back."
    ),
]


class MemoryTools:
    """The tools' bodies: one call on the caller's tenant's ``Memory`` each, views out."""

    def __init__(self, tenants: Tenants, settings: McpSettings) -> None:
        self.tenants = tenants
        self.settings = settings

    def _memory(self, ctx: Context) -> Memory:
        request = ctx.request_context.request
        if request is None:  # stdio: the configured tenant
            return self.tenants.memory(self.settings.tenant)
        tenant = request.scope.get("state", {}).get(TENANT_STATE)
        if not isinstance(tenant, str):
            raise AuthError("this HTTP request was not authenticated: serve the app from http_app()")
        return self.tenants.memory(tenant)

    def _user(self, user_id: str | None) -> str:
        # Always explicit: a read without a user would not be confined to one.
        return self.settings.user_id or user_id or DEFAULT_USER

    def add_memory(
        self,
        messages: Annotated[
            str | Message | list[Message],
            Field(description="A text to remember (one user message), a chat message, or a list of them."),
        ],
        ctx: Context,
        session_id: Annotated[
            str | None, Field(description="The conversation these messages belong to, if any.")
        ] = None,
        timestamp: Annotated[
            str | None,
            Field(description="When they were said (ISO 8601, e.g. 2024-05-08T13:56:00Z); default now."),
        ] = None,
        user_name: Annotated[
            str | None,
            Field(description="The user's name, for user messages without a name (e.g. 'Alice')."),
        ] = None,
        infer: Annotated[
            bool, Field(description="Derive facts and events too (default); false stores the text only.")
        ] = True,
        metadata: Annotated[
            dict[str, Any] | None,
            Field(
                description='Tags for these messages, e.g. {"project": "apollo"}, to filter reads by later.'
            ),
        ] = None,
        user_id: UserArg = None,
    ) -> AddView:
        """Remember something long-term: a text, or a list of chat messages.

        Everything is stored verbatim, and dated facts and events are derived from it ("I moved to
        Paris last week" becomes an event with its date). Use it for preferences, facts about people,
        plans, events and decisions worth recalling in later conversations. Returns the stored ids
        (without the texts; get_memory fetches one whole).
        """
        if isinstance(messages, Message):
            messages = [messages]
        payload = (
            messages if isinstance(messages, str) else [m.model_dump(exclude_none=True) for m in messages]
        )
        result = self._memory(ctx).add(
            payload,
            user_id=self._user(user_id),
            agent_id=self.settings.agent_id,
            session_id=session_id,
            timestamp=timestamp,
            infer=infer,
            user_name=user_name,
            metadata=metadata,
        )
        return {
            "turns": [stored_view(u) for u in result.turns],
            "derived": [stored_view(u) for u in result.derived],
            "skipped_refs": result.skipped_refs,
        }

    def search_memories(
        self,
        query: Annotated[str, Field(description="A question or keywords, e.g. 'what tea does Alice like'.")],
        ctx: Context,
        k: Annotated[int, Field(ge=1, le=TOOL_MAX_K, description="How many memories to return.")] = DEFAULT_K,
        kinds: KindsArg = None,
        since: SinceArg = None,
        until: UntilArg = None,
        as_of: AsOfArg = None,
        metadata: MetadataArg = None,
        include_archived: ArchivedArg = False,
        session_id: SessionArg = None,
        user_id: UserArg = None,
    ) -> SearchView:
        """Find the stored memories that best match a question or keywords, best first.

        Each hit has its id, kind (turn: a message as said; fact; event), text, speaker, when it
        happened, sources (the ids of the original messages) and status. To answer a question from
        memory, get_context is usually better: it returns the evidence as one compact block.
        """
        hits = self._memory(ctx).search(
            query,
            user_id=self._user(user_id),
            session_id=session_id,
            k=k,
            kinds=kinds,
            since=since,
            until=until,
            as_of=as_of,
            metadata=metadata,
            include_archived=include_archived,
        )
        return {"hits": [hit_view(h) for h in hits]}

    def get_context(
        self,
        query: Annotated[str, Field(description="The question you are about to answer.")],
        ctx: Context,
        budget_tokens: Annotated[
            int, Field(ge=1, le=MAX_BUDGET_TOKENS, description="The most tokens the returned text may take.")
        ] = DEFAULT_CONTEXT_BUDGET,
        as_of: AsOfArg = None,
        metadata: MetadataArg = None,
        include_archived: ArchivedArg = False,
        session_id: SessionArg = None,
        user_id: UserArg = None,
    ) -> ContextView:
        """Get the evidence from memory for a question, packed into a token budget, ready to read.

        The text groups the best memories by date, without duplicates; "cited" lists the ids and
        sources of the memories it contains; a line starting "(past, until ...)" no longer holds,
        one starting "(past?, said otherwise on ...)" probably not: a later memory differs.
        "abstained" is true, with a reason, when nothing stored matches the question. Call it
        before answering anything that may depend on earlier conversations.
        """
        packed = self._memory(ctx).context(
            query,
            user_id=self._user(user_id),
            session_id=session_id,
            budget_tokens=budget_tokens,
            as_of=as_of,
            metadata=metadata,
            include_archived=include_archived,
        )
        return {
            "text": packed.text,
            "tokens": packed.tokens,
            "budget_tokens": packed.budget_tokens,
            "cited": [{"id": h.id, "kind": h.kind, "sources": list(h.sources)} for h in packed.hits],
            "abstained": packed.abstained,
            "reason": packed.reason,
        }

    def list_memories(
        self,
        ctx: Context,
        limit: Annotated[
            int, Field(ge=1, le=TOOL_MAX_LIMIT, description="How many memories per page.")
        ] = DEFAULT_LIST_LIMIT,
        offset: Annotated[
            int, Field(ge=0, le=MAX_OFFSET, description="How many to skip: next_offset of the page before.")
        ] = 0,
        kinds: KindsArg = None,
        since: SinceArg = None,
        until: UntilArg = None,
        derived_from: Annotated[
            str | None,
            Field(description="Only memories derived from this memory id, e.g. the facts of a message."),
        ] = None,
        include_deleted: Annotated[
            bool, Field(description='Also list deleted memories (their status is "deleted").')
        ] = False,
        include_archived: ArchivedArg = False,
        metadata: MetadataArg = None,
        session_id: SessionArg = None,
        user_id: UserArg = None,
    ) -> ListView:
        """List stored memories in time order, oldest first, one page at a time.

        Use it to browse or review what is stored; use search_memories to find something specific.
        Each memory says its status (active, archived or deleted). next_offset is null on the last
        page.
        """
        units = self._memory(ctx).list(
            user_id=self._user(user_id),
            session_id=session_id,
            kinds=kinds,
            since=since,
            until=until,
            derived_from=derived_from,
            include_deleted=include_deleted,
            include_archived=include_archived,
            limit=limit,
            offset=offset,
            metadata=metadata,
        )
        return {
            "units": [listed_view(u) for u in units],
            "next_offset": offset + limit if len(units) == limit else None,
        }

    def get_memory(self, id: IdArg, ctx: Context, user_id: UserArg = None) -> UnitDetail:
        """Fetch one memory by id with its whole record.

        Besides the text: its speaker, dates, sources, the memories it was derived from, its version
        and its status (deleted memories can still be fetched).
        """
        return unit_detail(self._memory(ctx).get(id, user_id=self._user(user_id)))

    def delete_memory(self, id: IdArg, ctx: Context, user_id: UserArg = None) -> UnitDetail:
        """Delete one memory by id, e.g. when the user asks to forget it or it is wrong.

        It no longer appears in searches, context or lists; its history keeps a record of the deletion.
        """
        return unit_detail(self._memory(ctx).delete(id, user_id=self._user(user_id)))

    def restore_memory(self, id: IdArg, ctx: Context, user_id: UserArg = None) -> UnitDetail:
        """Bring back an archived memory: one that faded from use (status "archived").

        Archived memories are left out of searches, context and lists unless include_archived is
        true; restored, it is in every read again, and its history records the restore. Fails
        when the memory is not archived.
        """
        return unit_detail(self._memory(ctx).restore(id, user_id=self._user(user_id)))

    def update_memory(
        self,
        id: IdArg,
        text: Annotated[str, Field(description="What the memory should say from now on.")],
        ctx: Context,
        metadata: Annotated[
            dict[str, Any] | None,
            Field(description="A JSON object to replace the memory's metadata; omit to keep it."),
        ] = None,
        user_id: UserArg = None,
    ) -> UnitDetail:
        """Correct a fact or event: give it a new text, e.g. when it is wrong or out of date.

        The memory keeps its id and gets a new version; the old text stays in memory_history.
        Messages (kind turn) are the record of what was said and never change: to correct one,
        add_memory a correction instead.
        """
        unit = self._memory(ctx).update(id, text, user_id=self._user(user_id), metadata=metadata)
        return unit_detail(unit)

    def memory_history(self, id: IdArg, ctx: Context, user_id: UserArg = None) -> HistoryView:
        """Show every version of one memory, oldest first: what it said and when it changed.

        Each entry has its version, the change (add, update, delete, mention: said again,
        supersede: a newer statement replaced it, source_deleted: a message it came from was
        deleted, archive: it faded from use, restore: it was brought back), the text at that
        version and when it happened.
        """
        memory, user = self._memory(ctx), self._user(user_id)
        entries = memory.history(id, user_id=user)
        return history_view(id, entries, held=quarantined(memory.get(id, user_id=user)))

    def list_entities(
        self,
        ctx: Context,
        kind: Annotated[
            EntityKind | None,
            Field(description="Only entities of this kind: person, pet, place, organisation, other."),
        ] = None,
        limit: Annotated[
            int, Field(ge=1, le=TOOL_MAX_LIMIT, description="How many entities, the most mentioned first.")
        ] = DEFAULT_ENTITY_LIMIT,
        user_id: UserArg = None,
    ) -> EntitiesView:
        """List the people, pets, places and organisations memory mentions, most mentioned first.

        Each has its name, kind, other names it goes by (aliases), how many memories mention it and
        between which dates. Call entity_card with a name for what memory holds about it.
        """
        found = self._memory(ctx).entities(user_id=self._user(user_id), kind=kind, limit=limit)
        return {"entities": [entity_view(e) for e in found]}

    def entity_card(
        self,
        name: Annotated[
            str, Field(description="A person's, place's or thing's name (any case), e.g. 'Ana'.")
        ],
        ctx: Context,
        user_id: UserArg = None,
    ) -> EntityCardView:
        """Get everything memory holds about one person, pet, place or organisation, by name.

        Returns the memories that mention it (facts that still hold first, then events, then what
        no longer holds: valid_to says since when), the relations they state ("ana" "works at"
        "nubank"), and the names mentioned with it most often. Fails when memory mentions no one
        by that name: list_entities shows the names it knows.
        """
        card = self._memory(ctx).entity(name, user_id=self._user(user_id))
        return entity_card_view(card)

    def related_memories(self, id: IdArg, ctx: Context, user_id: UserArg = None) -> RelatedView:
        """List the memories linked to one memory, and how each is linked.

        derived_from: a message it was drawn from; derived: a fact or event drawn from it;
        supersedes / superseded_by: what it replaced, what replaced it; same_entity: a memory that
        mentions the same person, place or thing (named in via).
        """
        return related_view(id, self._memory(ctx).related(id, user_id=self._user(user_id)))

    def user_profile(
        self,
        ctx: Context,
        name: Annotated[
            str | None,
            Field(description="Whose profile: a person's name (any case), e.g. 'Ana'; omit for the user."),
        ] = None,
        user_id: UserArg = None,
    ) -> ProfileView:
        """Get who a person is as memory holds it now: the user, or someone they talk about.

        Returns a few current statements each under attributes (where they live, work, their age:
        the newest value only), relationships (their family, friends and pets), preferences (what
        they like or avoid) and activities (what they do or plan), each with the memory id that
        says it. What was superseded or deleted never appears. Without a name, the person who
        speaks as the user: it fails when no one or several did (then name one), or when memory
        knows no one by that name (list_entities shows the names it knows).
        """
        return profile_view(self._memory(ctx).profile(user_id=self._user(user_id), name=name))

    def session_summary(
        self,
        session_id: Annotated[str, Field(description="The conversation to summarise (its session_id).")],
        ctx: Context,
        budget_tokens: Annotated[
            int, Field(ge=1, le=MAX_BUDGET_TOKENS, description="The most tokens the summary may take.")
        ] = DEFAULT_SUMMARY_BUDGET,
        user_id: UserArg = None,
    ) -> SummaryView:
        """Summarise one past conversation: its most central facts and events that still hold.

        The text quotes them in the order they were said, under their day, within budget_tokens;
        ids are the memories it quotes (get_memory or related_memories take them). Fails when the
        user has no conversation with that session_id.
        """
        found = self._memory(ctx).summary(
            session_id, user_id=self._user(user_id), budget_tokens=budget_tokens
        )
        return summary_view(found)

    def memory_stats(self, ctx: Context, user_id: UserArg = None) -> StatsView:
        """Count what memory holds for the user: active memories in all and by kind, deleted ones,
        and conversations (sessions)."""
        return stats_view(self._memory(ctx).stats(user_id=self._user(user_id)))

    def list_users(self, ctx: Context) -> UsersView:
        """List the users whose memories this server keeps, to pick the user_id of the others
        tools. Only on a server not fixed to one user."""
        return {"users": self._memory(ctx).users()}

    def forget_user(
        self,
        confirm: Annotated[
            bool,
            Field(description="Must be true: erasing cannot be undone. Only when the user asked for it."),
        ],
        ctx: Context,
        user_id: Annotated[str, Field(description="The user whose memories to erase, every one.")],
    ) -> ForgetView:
        """Erase every memory of a user for good: messages, facts, events and their history.

        Only when the user explicitly asks to be forgotten entirely; to drop one memory use
        delete_memory. Nothing can be recovered afterwards. Returns how many memories went.
        """
        # A fixed user is the only one this server may erase; _as_tool then passes user_id=None.
        user = user_id if self.settings.user_id is None else self.settings.user_id
        if not confirm:
            raise UsageError(
                f"forget_user erases every memory of user {user!r} for good; nothing was erased. "
                "Call it again with confirm: true only if the user asked to be forgotten"
            )
        return {"user_id": user, "deleted": self._memory(ctx).forget(user_id=user)}


READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=False)
#: Removes memories; asked twice, the second call finds nothing more to remove.
ERASES = ToolAnnotations(
    read_only_hint=False, destructive_hint=True, idempotent_hint=True, open_world_hint=False
)
TOOLS: dict[str, ToolAnnotations] = {
    "add_memory": ToolAnnotations(read_only_hint=False, destructive_hint=False, open_world_hint=False),
    "search_memories": READ_ONLY,
    "get_context": READ_ONLY,
    "list_memories": READ_ONLY,
    "get_memory": READ_ONLY,
    "delete_memory": ERASES,
    # Not destructive: it brings back what was kept; a second call changes nothing.
    "restore_memory": ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
    ),
    # Not destructive: the old text stays in the memory's history.
    "update_memory": ToolAnnotations(
        read_only_hint=False, destructive_hint=False, idempotent_hint=False, open_world_hint=False
    ),
    "memory_history": READ_ONLY,
    "memory_stats": READ_ONLY,
    "list_entities": READ_ONLY,
    "entity_card": READ_ONLY,
    "related_memories": READ_ONLY,
    "user_profile": READ_ONLY,
    "session_summary": READ_ONLY,
    "list_users": READ_ONLY,
    "forget_user": ERASES,
}

#: Tools a server fixed to one user (``--user-id``) does not offer.
PER_USER_HIDDEN = frozenset({"list_users"})


def _error_result(exc: Exception) -> CallToolResult:
    """The tools' one error handler: a caller's mistake says what to fix; the server's own failures
    (a store that does not answer, a bug) say only their type and an id, the details going to the
    log under that id (``incidents``)."""
    error = exc if isinstance(exc, incidents.CALLER_ERRORS) else incidents.conceal(exc, uuid.uuid4().hex)
    body = error_to_wire(error)["error"]
    text = f"{body['type']}: {body['message']}"
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def _as_tool(method: Callable[..., Any], *, fixed_user: bool) -> Callable[..., Any]:
    """Wrap a tool body with the error handler; with a fixed user, drop ``user_id`` from its schema
    and hand the body None, so that only the configured user is ever reached."""
    signature = inspect.signature(method, eval_str=True)
    takes_user = "user_id" in signature.parameters

    @functools.wraps(method)
    def tool(*args: Any, **kwargs: Any) -> Any:
        if fixed_user and takes_user:
            kwargs["user_id"] = None
        try:
            return method(*args, **kwargs)
        except Exception as exc:
            return _error_result(exc)

    if fixed_user:
        kept = [p for p in signature.parameters.values() if p.name != "user_id"]
        tool.__signature__ = signature.replace(parameters=kept)  # type: ignore[attr-defined]
    return tool


def create_server(tenants: Tenants, settings: McpSettings | None = None) -> MCPServer:
    """An MCP server whose tools read and write the memories of ``tenants``, scoped by ``settings``."""
    settings = settings or McpSettings()
    server: MCPServer = MCPServer(
        "eidetica", instructions=INSTRUCTIONS, version=__version__, log_level="WARNING"
    )
    tools = MemoryTools(tenants, settings)
    for name, hints in TOOLS.items():
        if name in PER_USER_HIDDEN and settings.user_id is not None:
            continue  # a server fixed to one user does not reveal the others
        server.add_tool(
            _as_tool(getattr(tools, name), fixed_user=settings.user_id is not None),
            name=name,
            description=inspect.getdoc(getattr(tools, name)),
            annotations=hints,
            structured_output=True,
        )
    return server


def run_stdio(tenants: Tenants, settings: McpSettings | None = None) -> None:
    """Serve over this process's stdin and stdout until the client closes them."""
    create_server(tenants, settings).run("stdio")
