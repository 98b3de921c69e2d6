"""Request shapes of the REST API: strict pydantic models that refuse unknown fields.

Types are checked here (a string where a number belongs is a 422); values are checked by
``Memory`` itself, so the REST API and the library refuse the same inputs with the same words.
The bounds of ``eidetica.limits`` are advertised in the OpenAPI document (``maxLength``,
``maximum``...) by ``_bounds``, which only describes them: ``Memory`` enforces them, with its words.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from .. import api
from ..limits import (
    MAX_BUDGET_TOKENS,
    MAX_ID_CHARS,
    MAX_K,
    MAX_LIMIT,
    MAX_MESSAGES,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_TURN_CHARS,
    MAX_YEAR,
    MIN_YEAR,
)
from ..model import ENTITY_KINDS

_TIME_RANGE = f"between the years {MIN_YEAR} and {MAX_YEAR} (UTC)"


def _bounds(**keywords: Any) -> Callable[[dict[str, Any]], None]:
    """A ``json_schema_extra`` that adds JSON-schema ``keywords`` to a field's schema, to its
    non-null branch when it may be null; nothing is validated by pydantic."""

    def describe(schema: dict[str, Any]) -> None:
        branches = schema.get("anyOf", [schema])
        for branch in branches:
            if branch.get("type") != "null":
                branch.update(keywords)

    return describe


def _messages(value: Any) -> Any:
    if isinstance(value, str | dict):
        return value
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        return value
    raise PydanticCustomError(
        "messages_type", "Input should be a text, a message object or a list of message objects"
    )


Messages = Annotated[
    Any,
    AfterValidator(_messages),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "minLength": 1, "maxLength": MAX_TURN_CHARS},
                {"type": "object"},
                {"type": "array", "items": {"type": "object"}, "maxItems": MAX_MESSAGES},
            ],
            "description": "A text, an OpenAI-style message ({role, content, name?, id?, timestamp?, "
            f"metadata?}}), or a list of at most {MAX_MESSAGES} of them; each text at most "
            f"{MAX_TURN_CHARS} characters.",
        }
    ),
]
_ID = _bounds(minLength=1, maxLength=MAX_ID_CHARS)
UserId = Annotated[
    str | None, Field(description="Whose memory; the default user when absent.", json_schema_extra=_ID)
]
AgentId = Annotated[str | None, Field(description="Narrow to one agent of the user.", json_schema_extra=_ID)]
SessionId = Annotated[
    str | None,
    Field(description="Narrow to (or, for add, file under) one session.", json_schema_extra=_ID),
]
Question = Annotated[str, Field(json_schema_extra=_bounds(minLength=1, maxLength=MAX_QUERY_CHARS))]
BudgetTokens = _bounds(minimum=1, maximum=MAX_BUDGET_TOKENS)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _Query(BaseModel):
    # Query strings are text: numbers in them must be parsed, so these models are not strict.
    model_config = ConfigDict(extra="forbid")


class AddRequest(_Body):
    """Store messages verbatim and derive facts and events from them, in one transaction."""

    messages: Messages
    user_id: UserId = None
    agent_id: AgentId = None
    session_id: SessionId = None
    timestamp: Annotated[
        str | float | None,
        Field(
            description="When the messages were said: ISO 8601 or epoch seconds (default: now), "
            + _TIME_RANGE
            + "."
        ),
    ] = None
    infer: Annotated[bool, Field(description="Derive facts and events (false: store turns only).")] = True
    user_name: Annotated[
        str | None,
        Field(description="The user's name, for user messages that carry no name.", json_schema_extra=_ID),
    ] = None
    metadata: Annotated[
        dict[str, Any] | None,
        Field(description="Tags for every message (a message's own metadata wins key by key)."),
    ] = None
    return_units: Annotated[
        bool,
        Field(
            description="Answer with every stored unit in full (texts included) instead of their ids "
            "and counts."
        ),
    ] = False


AsOf = Annotated[
    str | None,
    Field(description=f"What memory held at this time: no units superseded by then; {_TIME_RANGE}."),
]
_FILTER = (
    "Only units tagged with each of these metadata keys and an equal value (a string, number, "
    "boolean or null)."
)
MetadataFilter = Annotated[dict[str, Any] | None, Field(description=_FILTER)]
Since = Annotated[
    str | None,
    Field(description=f"Only units that happened at or after this time (ISO 8601), {_TIME_RANGE}."),
]
Until = Annotated[
    str | None,
    Field(description=f"Only units that happened before this time (ISO 8601), {_TIME_RANGE}."),
]
IncludeArchived = Annotated[
    bool, Field(description='Also read the units that faded and were archived (status "archived").')
]


class _Reading(_Body):
    """What every read takes: whose memory, narrowed how, as held when."""

    user_id: UserId = None
    agent_id: AgentId = None
    session_id: SessionId = None
    as_of: AsOf = None
    metadata: MetadataFilter = None


class _Searching(_Reading):
    """What a search and a context take besides: the query, and whether faded units count."""

    query: Question
    include_archived: IncludeArchived = False


class SearchRequest(_Searching):
    """Find the units that best answer a query."""

    k: Annotated[
        int, Field(description="How many hits, at most.", json_schema_extra=_bounds(minimum=1, maximum=MAX_K))
    ] = api.DEFAULT_K
    kinds: Annotated[list[str] | None, Field(description="Only these kinds: turn, fact, event, passage.")] = (
        None
    )
    since: Since = None
    until: Until = None


class ContextRequest(_Searching):
    """Pack the best evidence for a query into a token budget."""

    budget_tokens: Annotated[
        int, Field(description="The most tokens the context may take.", json_schema_extra=BudgetTokens)
    ] = api.DEFAULT_CONTEXT_BUDGET


class AnswerRequest(_Reading):
    """Answer a question from memory with the server's LLM, citing the units it used."""

    question: Question
    budget_tokens: Annotated[
        int,
        Field(description="Token budget of the evidence the model reads.", json_schema_extra=BudgetTokens),
    ] = api.DEFAULT_ANSWER_BUDGET


class UpdateRequest(_Body):
    """Give a derived unit a new text (and optionally new metadata); the old version stays in history."""

    text: Annotated[str, Field(json_schema_extra=_bounds(minLength=1, maxLength=MAX_TURN_CHARS))]
    metadata: dict[str, Any] | None = None


class ReviewRequest(_Body):
    """A person's decision on a quarantined unit."""

    approve: Annotated[
        bool, Field(description="true brings it back into every read; false rejects (deletes) it.")
    ]


class MaintainRequest(_Body):
    """Archive what has faded, of one user or of every user of the tenant."""

    user_id: Annotated[
        str | None,
        Field(description="Whose memory; every user of the tenant when absent.", json_schema_extra=_ID),
    ] = None
    dry_run: Annotated[bool, Field(description="Only count what would be archived; change nothing.")] = False


class UserQuery(_Query):
    """Whose unit: the default user when absent."""

    user_id: UserId = None


def _split_commas(values: list[str] | None) -> list[str] | None:
    """``?kinds=fact,event`` as ``?kinds=fact&kinds=event``: both forms people write."""
    return None if values is None else api.split_commas(values)


class ListQuery(_Query):
    """Which of the user's units to list, in time order."""

    user_id: UserId = None
    agent_id: AgentId = None
    session_id: SessionId = None
    kinds: Annotated[
        list[str] | None,
        AfterValidator(_split_commas),
        Field(description="Only these kinds: repeat the parameter or separate them with commas."),
    ] = None
    since: Since = None
    until: Until = None
    derived_from: Annotated[
        str | None,
        Field(
            description="Only units derived from this unit id (e.g. the facts and events of a turn).",
            json_schema_extra=_ID,
        ),
    ] = None
    include_deleted: Annotated[bool, Field(description='Also list deleted units, with status "deleted".')] = (
        False
    )
    include_archived: IncludeArchived = False
    limit: Annotated[
        int,
        Field(
            description="How many units, at most.", json_schema_extra=_bounds(minimum=0, maximum=MAX_LIMIT)
        ),
    ] = api.DEFAULT_LIST_LIMIT
    offset: Annotated[
        int,
        Field(description="Skip this many first.", json_schema_extra=_bounds(minimum=0, maximum=MAX_OFFSET)),
    ] = 0
    metadata: Annotated[
        str | None,
        Field(description=_FILTER + ' A JSON object, e.g. {"project": "apollo"}.'),
    ] = None


class EntitiesQuery(_Query):
    """Which of the entities a user's memory mentions to list, most mentioned first."""

    user_id: UserId = None
    # Text, checked by ``Memory`` (a 400 in its words); the document lists the kinds it takes.
    kind: Annotated[
        str | None,
        Field(
            description=f"Only entities of this kind: {', '.join(ENTITY_KINDS)}.",
            json_schema_extra=_bounds(enum=list(ENTITY_KINDS)),
        ),
    ] = None
    limit: Annotated[
        int,
        Field(
            description="How many entities, at most (the most mentioned).",
            json_schema_extra=_bounds(minimum=0, maximum=MAX_LIMIT),
        ),
    ] = api.DEFAULT_ENTITY_LIMIT


class ProfileQuery(_Query):
    """Whose profile: a person by name, or the one who speaks as the user."""

    user_id: UserId = None
    name: Annotated[
        str | None,
        Field(
            description="The person (a name, key or alias, in any case); absent: the one person who "
            "speaks as the user.",
            json_schema_extra=_bounds(minLength=1, maxLength=MAX_QUERY_CHARS),
        ),
    ] = None


class SummaryQuery(_Query):
    """Whose session to summarise, and in how many tokens."""

    user_id: UserId = None
    budget_tokens: Annotated[
        int, Field(description="The most tokens the summary may take.", json_schema_extra=BudgetTokens)
    ] = api.DEFAULT_SUMMARY_BUDGET
