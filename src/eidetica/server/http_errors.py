"""The REST API's one error handler: every failure becomes ``{"error": {...}}`` with its status.

Eidetica's own errors keep their class (so a ``Client`` raises what ``Memory`` would); framework
failures (bad JSON, wrong types, unknown routes, oversize bodies, slow bodies) become the closest
Eidetica error; anything else is a 500 ``ServerError``. The server's own failures (a 503
``StoreError``, every 500) answer a generic message with the request id, their details going to
the log, never to the caller (``incidents``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from .. import wire
from ..errors import (
    AuthError,
    EideticaError,
    InputFormatError,
    NotFoundError,
    ScopeError,
    ServerError,
    StoreError,
    UsageError,
)
from . import incidents

#: The first matching class decides the status; anything not listed is a 500.
STATUS: tuple[tuple[type[EideticaError], int], ...] = (
    (AuthError, 401),
    (NotFoundError, 404),
    (ScopeError, 403),
    (UsageError, 400),
    (StoreError, 503),
)
#: Shown in a validation error message before the rest are summarised.
MAX_LISTED_PROBLEMS = 5


def install(app: FastAPI) -> None:
    """Route every failure of ``app`` through ``handle``."""
    for cls in (EideticaError, RequestValidationError, HTTPException, Exception):
        app.add_exception_handler(cls, handle)


async def handle(request: Request, exc: Exception) -> JSONResponse:
    """Answer a failed request with the error's JSON form and HTTP status."""
    error, status, headers = translate(request, exc)
    return JSONResponse(wire.error_to_wire(error), status_code=status, headers=headers)


def translate(request: Request, exc: Exception) -> tuple[EideticaError, int, dict[str, str]]:
    """The Eidetica error, status and headers a failure is answered with.

    A failure of the server's own (a store that does not answer, a bug) keeps its status and
    type, but its message is replaced by one naming the request id: the details go to the log
    (see ``incidents``).
    """
    if isinstance(exc, EideticaError):
        status = next((code for cls, code in STATUS if isinstance(exc, cls)), 500)
        if incidents.is_internal(exc):
            return incidents.conceal(exc, _request_id(request)), status, {}
        return exc, status, ({"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthError) else {})
    if isinstance(exc, RequestValidationError):
        return _invalid(exc.errors())
    if isinstance(exc, HTTPException):
        return _http(request, exc)
    return incidents.conceal(exc, _request_id(request)), 500, {}


def _request_id(request: Request) -> str:
    """The id ``RequestLog`` gave the request (a fresh one if it did not run)."""
    request_id = getattr(request.state, "request_id", None)
    return request_id if isinstance(request_id, str) else uuid.uuid4().hex


def _http(request: Request, exc: HTTPException) -> tuple[EideticaError, int, dict[str, str]]:
    headers = dict(exc.headers or {})
    status = exc.status_code
    error: EideticaError
    if status == 404:
        error = NotFoundError(f"no route {request.method} {request.url.path}; /openapi.json lists them")
    elif status == 405:
        allowed = headers.get("Allow") or headers.get("allow") or "see /openapi.json"
        error = UsageError(f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}")
    elif status == 401:
        error = AuthError(str(exc.detail))
        headers["WWW-Authenticate"] = "Bearer"
    elif status >= 500:
        error = ServerError(str(exc.detail))
    else:
        error = UsageError(str(exc.detail))
    return error, status, headers


def _invalid(problems: Sequence[Any]) -> tuple[EideticaError, int, dict[str, str]]:
    for problem in problems:
        if problem.get("type") == "json_invalid":
            reason = (problem.get("ctx") or {}).get("error", "malformed JSON")
            position = problem["loc"][-1] if problem.get("loc") else "?"
            return (
                InputFormatError(f"request body is not valid JSON: {reason} at character {position}"),
                400,
                {},
            )
    described = [_describe(problem) for problem in problems]
    shown = "; ".join(described[:MAX_LISTED_PROBLEMS])
    if len(described) > MAX_LISTED_PROBLEMS:
        shown += f"; and {len(described) - MAX_LISTED_PROBLEMS} more"
    return UsageError(f"invalid request: {shown}"), 422, {}


def _describe(problem: Any) -> str:
    """One validation problem in words that name the field: ``k: Input should be a valid integer``."""
    loc = [str(part) for part in problem.get("loc", ())]
    where, field = (loc[0], ".".join(loc[1:])) if loc else ("body", "")
    kind = problem.get("type")
    if where == "body" and not field:
        if kind == "missing":
            return "the request body is missing: send a JSON object"
        return f"the request body must be a JSON object ({problem.get('msg', 'invalid')})"
    name = field if where == "body" else f"{where} parameter {field}"
    if kind == "extra_forbidden":
        return f"unknown field {name!r}" if where == "body" else f"unknown {where} parameter {field!r}"
    if kind == "missing":
        return f"{name} is required"
    return f"{name}: {problem.get('msg', 'invalid value')}"
