"""Response shapes of the REST API, for its OpenAPI document.

The endpoints answer with ``wire.to_wire`` of the model dataclasses; these declarations describe
exactly that JSON, from the same dataclasses (FastAPI derives their schema), so a client
generated from the document, or a fuzzer checking answers against it, sees what is sent. Every
error, whatever its status, is one ``ErrorResponse``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from ..model import AddResult, Entity, HistoryEntry, Hit, Link, MemoryUnit


class ErrorDetail(BaseModel):
    type: str = Field(description="The Eidetica error class: UsageError, NotFoundError, AuthError, ...")
    message: str = Field(description="What went wrong and what to do about it.")
    line: int | None = Field(default=None, description="The line of an uploaded file, when one was wrong.")


class ErrorResponse(BaseModel):
    """Every error of the API, whatever its status."""

    error: ErrorDetail


class AddCounts(BaseModel):
    turns: int
    derived: int
    revised: int
    skipped: int


class AddSummary(BaseModel):
    """What an add stored, as ids and counts (the default answer)."""

    turn_ids: list[str]
    derived_ids: list[str]
    revised_ids: list[str]
    skipped_refs: list[str]
    warnings: list[str]
    counts: AddCounts


class MemoriesPage(BaseModel):
    memories: list[MemoryUnit]


class SearchHits(BaseModel):
    hits: list[Hit]


class UnitHistory(BaseModel):
    history: list[HistoryEntry]


class UserList(BaseModel):
    users: list[str] = Field(description="The ids of the users with memories in the tenant, in order.")


class Forgotten(BaseModel):
    deleted: int = Field(description="How many units were erased.")


class EntityList(BaseModel):
    entities: list[Entity] = Field(
        description="The entities the user's memory mentions, most mentioned first."
    )


class RelatedUnits(BaseModel):
    related: list[Link] = Field(description="The units linked to the unit, and how each is linked.")


class ProbeStatus(BaseModel):
    status: str


#: Stated on every ``/v1`` route: the statuses its errors come with, all as ``ErrorResponse``.
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A value the API cannot use, or a body that is not JSON."},
    401: {"model": ErrorResponse, "description": "No API key, or an unknown one (servers with keys)."},
    404: {
        "model": ErrorResponse,
        "description": "No such unit, entity or session (or route) in the caller's scope.",
    },
    408: {"model": ErrorResponse, "description": "The request body arrived too slowly."},
    413: {"model": ErrorResponse, "description": "The request body is over the server's limit."},
    421: {"model": ErrorResponse, "description": "A Host name this server without keys does not answer."},
    422: {"model": ErrorResponse, "description": "A field of the wrong type, missing, or unknown."},
    500: {
        "model": ErrorResponse,
        "description": "The server, its embedder or its language model failed; the log has the details "
        "under the request id in the message.",
    },
    503: {"model": ErrorResponse, "description": "The store did not answer; retry later."},
}
#: Which of ``AddSummary`` and ``AddResult`` an add answers with depends on ``return_units``.
ADD_ANSWER: dict[int | str, dict[str, Any]] = {
    201: {
        "model": AddSummary | AddResult,
        "description": 'Stored: ids and counts, or with "return_units": true the units in full.',
    }
}
