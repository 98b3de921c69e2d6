"""Request shapes of the REST API: strict pydantic models that refuse unknown fields.

Types are checked here (a string where a number belongs is a 422); values are checked by
``Memory`` itself, so the REST API and the library refuse the same inputs with the same words.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema
from pydantic_core import PydanticCustomError


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
                {"type": "string"},
                {"type": "object"},
                {"type": "array", "items": {"type": "object"}},
            ],
            "description": "A text, an OpenAI-style message ({role, content, name?, id?, timestamp?, "
            "metadata?}), or a list of them.",
        }
    ),
]
UserId = Annotated[str | None, Field(description="Whose memory; the default user when absent.")]
AgentId = Annotated[str | None, Field(description="Narrow to one agent of the user.")]
SessionId = Annotated[str | None, Field(description="Narrow to (or, for add, file under) one session.")]


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
        Field(description="When the messages were said: ISO 8601 or epoch seconds (default: now)."),
    ] = None
    infer: Annotated[bool, Field(description="Derive facts and events (false: store turns only).")] = True
    user_name: Annotated[
        str | None, Field(description="The user's name, for user messages that carry no name.")
    ] = None


class SearchRequest(_Body):
    """Find the units that best answer a query."""

    query: str
    user_id: UserId = None
    agent_id: AgentId = None
    session_id: SessionId = None
    k: Annotated[int, Field(description="How many hits, at most.")] = 10
    kinds: Annotated[list[str] | None, Field(description="Only these kinds: turn, fact, event, passage.")] = (
        None
    )
    since: Annotated[str | None, Field(description="Only units from this time on (ISO 8601).")] = None
    until: Annotated[str | None, Field(description="Only units up to this time (ISO 8601).")] = None
    as_of: Annotated[
        str | None, Field(description="What memory held at this time: no units superseded by then.")
    ] = None


class ContextRequest(_Body):
    """Pack the best evidence for a query into a token budget."""

    query: str
    user_id: UserId = None
    agent_id: AgentId = None
    session_id: SessionId = None
    budget_tokens: Annotated[int, Field(description="The most tokens the context may take.")] = 400


class AnswerRequest(_Body):
    """Answer a question from memory with the server's LLM, citing the units it used."""

    question: str
    user_id: UserId = None
    agent_id: AgentId = None
    session_id: SessionId = None
    budget_tokens: Annotated[int, Field(description="Token budget of the evidence the model reads.")] = 1000


class UpdateRequest(_Body):
    """Give a derived unit a new text (and optionally new metadata); the old version stays in history."""

    text: str
    metadata: dict[str, Any] | None = None


class UserQuery(_Query):
    """Whose unit: the default user when absent."""

    user_id: UserId = None


class ListQuery(_Query):
    """Which of the user's active units to list, in time order."""

    user_id: UserId = None
    agent_id: AgentId = None
    session_id: SessionId = None
    kinds: Annotated[list[str] | None, Field(description="Only these kinds (repeat the parameter).")] = None
    limit: Annotated[int, Field(description="How many units, at most.")] = 100
    offset: Annotated[int, Field(description="Skip this many first.")] = 0
