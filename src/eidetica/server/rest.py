"""The REST API: ``Memory``'s methods as HTTP resources under ``/v1``, one tenant per API key.

``create_app(tenants)`` builds the app over a ``Tenants`` the caller owns; ``app_from_env`` is the
factory ``eidetica serve`` hands to uvicorn, once per worker process. Endpoints are plain ``def``
functions, so FastAPI runs each ``Memory`` call in its thread pool.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, Security
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel

from .. import __version__, wire
from ..config import DEFAULT_MAX_BODY_MB, MIB, server_settings
from ..errors import StoreError, UsageError
from ..memory import Memory
from ..metadata import from_json
from ..model import Answer, Context, EntityCard, MaintainReport, MemoryUnit, Profile, Stats, Summary
from . import api_docs, http_errors, ui
from .hosts import HostGuard
from .middleware import DEFAULT_BODY_TIMEOUT_S, GuardedRoute, RequestLog
from .responses import (
    ADD_ANSWER,
    ERRORS,
    EntityList,
    Forgotten,
    MemoriesPage,
    ProbeStatus,
    RelatedUnits,
    SearchHits,
    UnitHistory,
    UserList,
)
from .schemas import (
    AddRequest,
    AnswerRequest,
    ContextRequest,
    EntitiesQuery,
    ListQuery,
    MaintainRequest,
    ProfileQuery,
    ReviewRequest,
    SearchRequest,
    SummaryQuery,
    UpdateRequest,
    UserQuery,
)
from .tenants import Tenants

DEFAULT_MAX_BODY_BYTES = int(DEFAULT_MAX_BODY_MB * MIB)
#: Answered whatever the Host name: they tell nothing, and container probes use an address.
PROBE_PATHS = frozenset({"/healthz", "/readyz"})
DESCRIPTION = """\
Long-term memory for LLM agents: store conversation turns verbatim, derive dated facts and events
from them, and find the few that answer a question.

Every `/v1` route is confined to the caller's tenant, named by its API key
(`Authorization: Bearer <key>`); a server without keys serves everyone in one default tenant,
and answers only requests for its loopback names (others get 421, against DNS rebinding).
Within a tenant, reads are confined to one user (`user_id`, the default user when absent).
Every error is `{"error": {"type": ..., "message": ...}}`, where `type` is the Eidetica error class.
"""

api = APIRouter(prefix="/v1", route_class=GuardedRoute, responses=ERRORS)
probes = APIRouter(tags=["probes"])
# Authentication itself happens in GuardedRoute, before the body is read; this scheme documents it
# in the OpenAPI document and hands the key to nothing.
_bearer = HTTPBearer(auto_error=False, description="An API key, when the server is configured with keys.")


def tenant_memory(
    request: Request, _key: Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
) -> Memory:
    """The ``Memory`` of the tenant ``GuardedRoute`` authenticated the caller into."""
    tenants: Tenants = request.app.state.tenants
    return tenants.memory(request.state.tenant)


Caller = Annotated[Memory, Depends(tenant_memory)]
UnitId = Annotated[str, Path(description="A memory unit's id.")]
EntityName = Annotated[str, Path(description="An entity's name, key or alias, in any case.")]
SessionPath = Annotated[str, Path(description="A session id (it may hold slashes and spaces).")]


def _json(value: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(wire.to_wire(value), status_code=status)


def _arguments(request: BaseModel, *, but: str = "") -> dict[str, Any]:
    """A request's fields as the keyword arguments of its ``Memory`` operation: each request model
    names its fields after the contract's parameters (``tests/test_faces.py`` holds them to it), so
    a request is passed on whole and ``Memory`` checks the values, with its words."""
    return {name: value for name, value in request if name != but}


# -- memories ---------------------------------------------------------------------------------------


@api.post("/memories", status_code=201, tags=["memories"], responses=ADD_ANSWER)
def add_memories(body: AddRequest, memory: Caller) -> JSONResponse:
    """Store messages verbatim and derive facts and events from them, in one transaction.

    The answer holds the new units' ids and counts; with ``"return_units": true`` it holds the
    units themselves, texts included (as large as the request, or larger).
    """
    result = memory.add(**_arguments(body, but="return_units"))
    if body.return_units:
        return _json(result, 201)
    return JSONResponse(wire.add_summary_to_wire(result), status_code=201)


@api.get("/memories", tags=["memories"], response_model=MemoriesPage)
def list_memories(query: Annotated[ListQuery, Query()], memory: Caller) -> JSONResponse:
    """List a user's units in time order: ``{"memories": [...]}``; the active ones, unless
    ``include_deleted`` or ``include_archived``, narrowed by kind, time (``since``, ``until``),
    lineage (``derived_from``) and tags."""
    units = memory.list(**{**_arguments(query), "metadata": from_json("metadata", query.metadata)})
    return _json({"memories": units})


@api.get("/memories/{unit_id}", tags=["memories"], response_model=MemoryUnit)
def get_memory(unit_id: UnitId, query: Annotated[UserQuery, Query()], memory: Caller) -> JSONResponse:
    """Return one unit by id (a deleted one too, with ``status`` "deleted")."""
    return _json(memory.get(unit_id, user_id=query.user_id))


@api.patch("/memories/{unit_id}", tags=["memories"], response_model=MemoryUnit)
def update_memory(
    unit_id: UnitId, body: UpdateRequest, query: Annotated[UserQuery, Query()], memory: Caller
) -> JSONResponse:
    """Give a derived unit a new text; the old version stays in its history. Turns never change."""
    return _json(memory.update(unit_id, body.text, user_id=query.user_id, metadata=body.metadata))


@api.delete("/memories/{unit_id}", tags=["memories"], response_model=MemoryUnit)
def delete_memory(unit_id: UnitId, query: Annotated[UserQuery, Query()], memory: Caller) -> JSONResponse:
    """Hide a unit from every read; the deletion is recorded in its history. Returns the unit."""
    return _json(memory.delete(unit_id, user_id=query.user_id))


@api.get("/memories/{unit_id}/history", tags=["memories"], response_model=UnitHistory)
def memory_history(unit_id: UnitId, query: Annotated[UserQuery, Query()], memory: Caller) -> JSONResponse:
    """Every version of a unit, oldest first: ``{"history": [...]}``."""
    return _json({"history": memory.history(unit_id, user_id=query.user_id)})


@api.get("/quarantine", tags=["memories"], response_model=MemoriesPage)
def quarantined_memories(query: Annotated[UserQuery, Query()], memory: Caller) -> JSONResponse:
    """Units held back for review, oldest first: ``{"memories": [...]}``. They are kept, and left
    out of search, context and answer until a review decides."""
    return _json({"memories": memory.quarantined(user_id=query.user_id)})


@api.post("/quarantine/{unit_id}", tags=["memories"], response_model=MemoryUnit)
def review_memory(
    unit_id: UnitId, body: ReviewRequest, query: Annotated[UserQuery, Query()], memory: Caller
) -> JSONResponse:
    """Decide on a quarantined unit: approve it back into every read, or reject (delete) it."""
    return _json(memory.review(unit_id, approve=body.approve, user_id=query.user_id))


@api.post("/maintain", tags=["memories"], response_model=MaintainReport)
def maintain(body: MaintainRequest, memory: Caller) -> JSONResponse:
    """Archive what has faded from use, of one user or (without ``user_id``) of every user of the
    tenant: kept, with its history, out of every read unless ``include_archived``. ``dry_run``
    only counts it. Answers how many users and units were examined and archived, by kind."""
    return _json(memory.maintain(**_arguments(body)))


@api.post("/memories/{unit_id}/restore", tags=["memories"], response_model=MemoryUnit)
def restore_memory(unit_id: UnitId, query: Annotated[UserQuery, Query()], memory: Caller) -> JSONResponse:
    """Bring an archived unit back into every read; the restore is a version in its history. 400
    when the unit is not archived."""
    return _json(memory.restore(unit_id, user_id=query.user_id))


# -- reading ----------------------------------------------------------------------------------------


@api.post("/search", tags=["reading"], response_model=SearchHits)
def search(body: SearchRequest, memory: Caller) -> JSONResponse:
    """Find the units that best answer a query, best first: ``{"hits": [...]}``."""
    return _json({"hits": memory.search(**_arguments(body))})


@api.post("/context", tags=["reading"], response_model=Context)
def context(body: ContextRequest, memory: Caller) -> JSONResponse:
    """Pack the best evidence for a query into a token budget, rendered for a prompt."""
    return _json(memory.context(**_arguments(body)))


@api.post("/answer", tags=["reading"], response_model=Answer)
def answer(body: AnswerRequest, memory: Caller) -> JSONResponse:
    """Answer from memory with the server's LLM (``EIDETICA_LLM_*``), citing units and turns."""
    return _json(memory.answer(**_arguments(body)))


@api.get("/stats", tags=["reading"], response_model=Stats)
def stats(query: Annotated[UserQuery, Query()], memory: Caller) -> JSONResponse:
    """Unit counts for one user, or for the whole tenant when ``user_id`` is absent."""
    return _json(memory.stats(user_id=query.user_id))


# -- entities -------------------------------------------------------------------------------------


@api.get("/entities", tags=["entities"], response_model=EntityList)
def list_entities(query: Annotated[EntitiesQuery, Query()], memory: Caller) -> JSONResponse:
    """The people, pets, places, organisations and other things a user's memory mentions, most
    mentioned first: ``{"entities": [...]}``; ``kind`` keeps one kind."""
    return _json({"entities": memory.entities(**_arguments(query))})


@api.get("/entities/{name:path}", tags=["entities"], response_model=EntityCard)
def entity_card(name: EntityName, query: Annotated[UserQuery, Query()], memory: Caller) -> JSONResponse:
    """What memory holds about one entity: the units that mention it (current facts first), the
    relations they state and the entities mentioned with it; 404 when none is known by that name."""
    return _json(memory.entity(name, user_id=query.user_id))


@api.get("/memories/{unit_id}/related", tags=["entities"], response_model=RelatedUnits)
def related_memories(unit_id: UnitId, query: Annotated[UserQuery, Query()], memory: Caller) -> JSONResponse:
    """The units linked to one unit: ``{"related": [...]}``, each with how it is linked (the turn it
    came from, what was drawn from it, what it replaced or was replaced by, or an entity both
    mention, named in ``via``)."""
    return _json({"related": memory.related(unit_id, user_id=query.user_id)})


# -- profiles -------------------------------------------------------------------------------------


@api.get("/profile", tags=["profiles"], response_model=Profile)
def person_profile(query: Annotated[ProfileQuery, Query()], memory: Caller) -> JSONResponse:
    """Who a person is as memory holds it now: their current attributes, relationships, preferences
    and activities, each line quoting a unit with its date and sources. Without ``name``, the one
    person who speaks as the user (400 when there is none, or several); 404 for an unknown name."""
    return _json(memory.profile(**_arguments(query)))


@api.get("/sessions/{session_id:path}/summary", tags=["profiles"], response_model=Summary)
def session_summary(
    session_id: SessionPath, query: Annotated[SummaryQuery, Query()], memory: Caller
) -> JSONResponse:
    """What one session was about: its most central current facts and events, quoted in the order
    they were said under their day, within ``budget_tokens``; 404 when the user has no such session."""
    return _json(memory.summary(session_id, **_arguments(query)))


# -- users ------------------------------------------------------------------------------------------


@api.get("/users", tags=["users"], response_model=UserList)
def list_users(memory: Caller) -> JSONResponse:
    """The ids of the users with memories in the caller's tenant, in order: ``{"users": [...]}``."""
    return _json({"users": memory.users()})


@api.delete("/users/{user_id:path}", tags=["users"], response_model=Forgotten)
def forget_user(
    user_id: Annotated[str, Path(description="The user to erase.")],
    memory: Caller,
    compact: Annotated[
        bool, Query(description="Also rewrite the storage (PostgreSQL: VACUUM FULL, locks the tables).")
    ] = False,
) -> JSONResponse:
    """Erase everything of one user, derived units and history included, from the store's files
    too: ``{"deleted": n}``."""
    return _json({"deleted": memory.forget(user_id=user_id, compact=compact)})


# -- probes -----------------------------------------------------------------------------------------


@probes.get("/healthz", response_model=ProbeStatus)
async def healthz() -> dict[str, str]:
    """The process is up and answering (no authentication)."""
    return {"status": "ok"}


@probes.get("/readyz", response_model=ProbeStatus, responses={503: ERRORS[503]})
def readyz(request: Request) -> dict[str, str]:
    """The store answers a cheap query (no authentication); 503 when it does not."""
    tenants: Tenants = request.app.state.tenants
    try:
        tenants.check()
    except Exception as exc:
        raise StoreError(f"the store does not answer: {exc}") from exc
    return {"status": "ready"}


# -- the app ----------------------------------------------------------------------------------------


def create_app(
    tenants: Tenants,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
    allowed_hosts: Sequence[str] = (),
    close_on_shutdown: bool = False,
) -> FastAPI:
    """The REST API over ``tenants``; request bodies over ``max_body_bytes`` are refused with 413,
    and those that take over ``body_timeout_s`` seconds to arrive with 408.

    Without API keys, only requests for a loopback host name or one of ``allowed_hosts`` are
    answered, others with 421 (see ``hosts``). ``close_on_shutdown`` closes ``tenants`` when the
    server stops (for an app that owns them).
    """
    if not (math.isfinite(body_timeout_s) and body_timeout_s > 0):
        raise UsageError(f"the body time limit must be a positive number of seconds, got {body_timeout_s}")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            if close_on_shutdown:
                tenants.close()

    app = FastAPI(
        title="Eidetica",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        redirect_slashes=False,  # an API answers the path it was asked, or 404
        docs_url=None,  # api_docs serves /docs without a CDN
        redoc_url=None,
        openapi_tags=[
            {
                "name": "memories",
                "description": "Write, read, change and delete memory units; archive what faded, restore it.",
            },
            {"name": "reading", "description": "Search, packed context and counts."},
            {
                "name": "entities",
                "description": "Who and what memory mentions, what it holds about each, and how units link.",
            },
            {
                "name": "profiles",
                "description": "Who a person is, and what a session was about, quoted from memory.",
            },
            {"name": "users", "description": "List the users, erase one."},
            {"name": "probes", "description": "Liveness and readiness, without authentication."},
        ],
    )
    app.state.tenants = tenants
    app.state.max_body_bytes = max_body_bytes
    app.state.body_timeout_s = body_timeout_s
    http_errors.install(app)
    if not tenants.requires_key:
        app.add_middleware(HostGuard, allowed=tuple(allowed_hosts), exempt=PROBE_PATHS)
    app.add_middleware(RequestLog)  # added last, so outermost: a refused host is logged too
    app.include_router(api)
    app.include_router(probes)
    api_docs.install(app)
    ui.install(app)
    return app


def app_from_env() -> FastAPI:
    """Build the app from the ``EIDETICA_*`` settings ``eidetica serve`` exports (once per worker)."""
    settings = server_settings()
    tenants = Tenants.open(settings.db, api_keys=settings.api_keys, llm=settings.llm)
    return create_app(
        tenants,
        max_body_bytes=settings.max_body_bytes,
        allowed_hosts=settings.allowed_hosts,
        close_on_shutdown=True,
    )
