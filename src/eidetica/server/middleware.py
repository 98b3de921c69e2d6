"""What every request goes through around its endpoint: a request id and one JSON log line; and,
for the API's routes, authentication, then a body read under a size and a time limit and checked
to be UTF-8 before anything parses it.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import anyio
from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import wire
from ..errors import EideticaError, InputFormatError, UsageError
from . import http_errors

log = logging.getLogger("eidetica.server")

#: A caller's own ``X-Request-ID`` is kept when it looks like an id, else a fresh one is made.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
#: Past the limit, this much more is read and dropped so the caller can still read the 413;
#: a body larger still is cut off and its connection closed.
DRAIN_BYTES = 1024 * 1024
#: The longest a request body may take to arrive, in seconds.
DEFAULT_BODY_TIMEOUT_S = 30.0

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class RequestLog:
    """ASGI middleware: give each request an id (``X-Request-ID``) and log one JSON line for it.

    The line holds method, path, status, duration_ms, tenant and request_id; the tenant is what
    authentication put in the request's state (None before authentication or without it).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            line = {
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "tenant": state.get("tenant"),
                "request_id": request_id,
            }
            log.info(json.dumps(line, ensure_ascii=False))


class GuardedRoute(APIRoute):
    """An ``APIRoute`` that authenticates the caller, then reads the body itself before FastAPI does.

    Authentication comes first, so a caller without a valid key gets a 401 before any of its
    body is read. A body over ``app.state.max_body_bytes`` is a 413 whatever ``Content-Length``
    claimed; one that takes over ``app.state.body_timeout_s`` seconds to arrive is a 408; one that
    is not UTF-8 is a 400. An exception the endpoint did not mean to raise
    becomes a logged 500.
    """

    def get_route_handler(self) -> Handler:
        endpoint = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                authenticate(request)
                state = request.app.state
                body = await read_body(request, state.max_body_bytes, state.body_timeout_s)
                return await endpoint(Request(request.scope, _replay(body, request.receive)))
            except (EideticaError, HTTPException, RequestValidationError):
                raise
            except Exception as exc:
                return await http_errors.handle(request, exc)

        return guarded


def authenticate(request: Request) -> str:
    """The caller's tenant from ``Authorization: Bearer <key>``, also kept in ``request.state.tenant``.

    AuthError when the server has keys and this request brings none or an unknown one.
    """
    scheme, key = get_authorization_scheme_param(request.headers.get("authorization"))
    tenant: str = request.app.state.tenants.tenant_for(key if scheme.lower() == "bearer" else None)
    request.state.tenant = tenant
    return tenant


async def read_body(request: Request, limit: int, timeout: float = DEFAULT_BODY_TIMEOUT_S) -> bytes:
    """The request body, refused when it passes ``limit`` bytes, takes over ``timeout`` seconds to
    arrive (a 408: a client trickling bytes must not hold a connection and a worker forever), or
    is not UTF-8."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + DRAIN_BYTES:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        with anyio.fail_after(timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size <= limit:
                    chunks.append(chunk)
                elif size > limit + DRAIN_BYTES:
                    break
    except ClientDisconnect:
        raise UsageError("the client closed the connection before sending the whole body") from None
    except TimeoutError:
        raise HTTPException(
            408,
            f"the request body did not arrive within {timeout:g} s; send it at once, or in smaller requests",
            # The rest of the body may still be on its way: the connection cannot be reused.
            headers={"Connection": "close"},
        ) from None
    if size > limit:
        raise _too_large(limit)
    body = b"".join(chunks)
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"request body is not valid UTF-8 (byte {exc.start})") from None
    return body


class HttpMiddleware:
    """ASGI middleware that acts on HTTP requests only (``http``): lifespan and every other scope
    go straight to the app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self.http(scope, receive, send)
        else:
            await self.app(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request, passing it on to ``self.app`` or answering it."""
        raise NotImplementedError


class BodyLimits(HttpMiddleware):
    """ASGI middleware for an app that reads bodies itself (the MCP transport): read each body
    first, under the same size and time limits as ``GuardedRoute``, and answer 413, 408 or 400
    with the JSON error when it breaks one; the app then gets the body as if from the connection.
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int, timeout_s: float = DEFAULT_BODY_TIMEOUT_S) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes
        self.timeout_s = timeout_s

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        error: EideticaError
        try:
            body = await read_body(Request(scope, receive), self.max_body_bytes, self.timeout_s)
        except HTTPException as exc:
            error, status, headers = UsageError(str(exc.detail)), exc.status_code, dict(exc.headers or {})
        except EideticaError as exc:
            error, status, headers = exc, 400, {}
        else:
            await self.app(scope, _replay(body, receive), send)
            return
        await JSONResponse(wire.error_to_wire(error), status_code=status, headers=headers)(
            scope, receive, send
        )


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        413, f"request body is over this server's limit of {limit} bytes: send fewer messages per request"
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that hands over the body already read, then waits on the real connection."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay
