"""The MCP tools (``mcp``) over streamable HTTP, behind API-key authentication.

Each request's ``Authorization: Bearer <key>`` is mapped to its tenant by ``ApiKeyAuth`` before
any MCP handling, and left under ``mcp.TENANT_STATE`` for the tools; a request without a valid key
is answered 401. Sessions are bound to the tenant that opened them, closed when idle, and limited
in number; on loopback, or without API keys, host and origin checks guard against DNS rebinding
as the REST server does.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.auth.provider import AccessToken
from mcp.server.transport_security import DEFAULT_MAX_REQUEST_BODY_SIZE, TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import AuthError
from ..wire import error_to_wire
from . import incidents
from .hosts import LOOPBACK_NAMES, HostGuard, is_loopback, split_host
from .mcp import TENANT_STATE, McpSettings, create_server
from .middleware import DEFAULT_BODY_TIMEOUT_S, BodyLimits, HttpMiddleware
from .tenants import Tenants

MCP_PATH = "/mcp"
#: A streamable-HTTP session with no request in flight for this long is closed (its id then
#: answers 404 and the client starts a new one).
DEFAULT_SESSION_IDLE_S = 30 * 60.0
#: The most sessions open at once; a request that would open one more gets 503 until one ends.
#: An idle session holds about 32 KB, so this bounds them to some 32 MB.
DEFAULT_MAX_SESSIONS = 1000


def _bearer(scope: Scope) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, or None."""
    scheme, _, key = Headers(scope=scope).get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return key.strip() or None


class ApiKeyAuth(HttpMiddleware):
    """ASGI wrapper: map the request's Bearer key to its tenant before MCP sees it; 401 otherwise.

    The tenant is also handed to the SDK as the request's user, whose session manager binds each
    session to the user that opened it: a request bringing another tenant's session id is
    answered 404, as if the session did not exist, so no tenant can use or end another's session.
    """

    def __init__(self, app: ASGIApp, tenants: Tenants) -> None:
        super().__init__(app)
        self.tenants = tenants

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            tenant = self.tenants.tenant_for(_bearer(scope))
        except AuthError as exc:
            headers = {"WWW-Authenticate": 'Bearer realm="eidetica"'}
            await JSONResponse(error_to_wire(exc), status_code=401, headers=headers)(scope, receive, send)
            return
        except Exception as exc:  # a failure of the server's own: details to the log only
            error = incidents.conceal(exc, uuid.uuid4().hex)
            await JSONResponse(error_to_wire(error), status_code=500)(scope, receive, send)
            return
        # A copy: a state dict shared between requests must never carry one caller's tenant to another.
        await self.app(
            {
                **scope,
                "state": {**scope.get("state", {}), TENANT_STATE: tenant},
                "user": _tenant_user(tenant),
            },
            receive,
            send,
        )


def _tenant_user(tenant: str) -> AuthenticatedUser:
    """The SDK's user for a tenant: sessions belong to its ``client_id``, the tenant."""
    return AuthenticatedUser(AccessToken(token="", client_id=tenant, scopes=[]))


def transport_security(allowed_hosts: Sequence[str] = ()) -> TransportSecuritySettings:
    """The SDK's DNS-rebinding protection for the loopback names and ``allowed_hosts``: the same
    names ``HostGuard`` lets through (which answers first), and browser origins on them."""
    hosts: list[str] = []
    origins: list[str] = []
    for entry in (*LOOPBACK_NAMES, *allowed_hosts):
        parsed = split_host(entry)
        if parsed is None:
            continue
        name, port = parsed
        names = [f"{name}:{port}"] if port else [name, f"{name}:*"]
        hosts += names
        origins += [f"{scheme}://{host}" for scheme in ("http", "https") for host in names]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def http_app(
    tenants: Tenants,
    settings: McpSettings | None = None,
    *,
    host: str = "127.0.0.1",
    allowed_hosts: Sequence[str] = (),
    session_idle_s: float | None = DEFAULT_SESSION_IDLE_S,
    max_sessions: int | None = DEFAULT_MAX_SESSIONS,
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S,
) -> ASGIApp:
    """The streamable-HTTP app (endpoint ``/mcp``) behind API-key authentication.

    ``host`` is the address it will be served on. On a loopback address, or without API keys on
    any address, only requests for a loopback name or one of ``allowed_hosts`` are answered,
    others with 421, as the REST server does (DNS rebinding); browser requests from other origins
    get 403. A session idle for ``session_idle_s`` seconds is closed, and at most
    ``max_sessions`` are open at once (None: no limit for either). A request body that takes over
    ``body_timeout_s`` seconds to arrive is answered 408.
    """
    server = create_server(tenants, settings)
    guarded = is_loopback(host) or not tenants.requires_key
    security = (
        transport_security(allowed_hosts)
        if guarded
        else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
    mcp_app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        host=host,
        transport_security=security,
        session_idle_timeout=session_idle_s,
        max_sessions=max_sessions,
    )
    # Authentication first, then the body under a time limit, as the REST API does.
    app: ASGIApp = ApiKeyAuth(BodyLimits(mcp_app, DEFAULT_MAX_REQUEST_BODY_SIZE, body_timeout_s), tenants)
    return HostGuard(app, allowed_hosts) if guarded else app


def run_http(
    tenants: Tenants,
    settings: McpSettings | None = None,
    *,
    host: str,
    port: int,
    allowed_hosts: Sequence[str] = (),
    session_idle_s: float | None = DEFAULT_SESSION_IDLE_S,
    max_sessions: int | None = DEFAULT_MAX_SESSIONS,
) -> None:
    """Serve streamable HTTP at ``http://host:port/mcp`` with uvicorn until interrupted."""
    import uvicorn

    app = http_app(
        tenants,
        settings,
        host=host,
        allowed_hosts=allowed_hosts,
        session_idle_s=session_idle_s,
        max_sessions=max_sessions,
    )
    uvicorn.run(app, host=host, port=port, log_level="info")
