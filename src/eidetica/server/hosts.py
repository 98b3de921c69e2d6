"""Which Host names a server without API keys answers, so web pages cannot reach it by DNS rebinding.

A server without keys trusts whoever reaches it. A web page cannot call ``127.0.0.1`` and read the
answer, but it can point a name it controls at ``127.0.0.1`` ("DNS rebinding") and call that name:
the browser then treats the server as the page's own origin. Such requests still carry the
attacker's name in their ``Host`` header, so a keyless server answers only the loopback names
(``localhost``, ``127.0.0.1``, ``[::1]``, any port) and those its operator allows; any other gets
421 Misdirected Request, as the MCP SDK answers such requests.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Collection, Iterable, Sequence

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..errors import UsageError
from ..wire import error_to_wire

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
#: How much of a refused Host header the error message repeats.
SHOWN_CHARS = 100


def split_host(value: str) -> tuple[str, str | None] | None:
    """``(name, port)`` of a ``Host`` header or an allowed name, lower case; None when malformed.

    ``[::1]:8000`` is ``("[::1]", "8000")``; ``memory.lan`` is ``("memory.lan", None)``.
    """
    value = value.strip().lower()
    if value.startswith("["):
        name, bracket, rest = value.partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return None
        port = rest[1:] if rest else None
        name += "]"
    else:
        name, colon, port_text = value.partition(":")
        port = port_text if colon else None
        if ":" in (port or ""):
            return None  # a bare IPv6 address: not a valid Host header
    if not name or name == "[]" or (port is not None and not port.isdigit()):
        return None
    return name, port


def host_allowed(header: str | None, allowed: Iterable[str] = ()) -> bool:
    """Whether a request's ``Host`` header names a loopback name or one of ``allowed``.

    An allowed entry without a port matches any port; with one, that port only.
    """
    parsed = split_host(header or "")
    if parsed is None:
        return False
    name, port = parsed
    if name in LOOPBACK_NAMES:
        return True
    for entry in allowed:
        wanted = split_host(entry)
        if wanted is not None and wanted[0] == name and wanted[1] in (None, port):
            return True
    return False


def is_loopback(bind: str) -> bool:
    """Whether a listening address (``--host``) is reachable from this machine only."""
    if bind.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind.strip().strip("[]")).is_loopback
    except ValueError:
        return False  # a name: it may resolve to any interface


class HostGuard:
    """ASGI middleware: answer 421 with the JSON error to a request for a name not allowed here.

    ``exempt`` paths (health probes, which tell nothing) are answered whatever the name, so a
    container's probes may use its address.
    """

    def __init__(self, app: ASGIApp, allowed: Sequence[str] = (), exempt: Collection[str] = ()) -> None:
        self.app = app
        self.allowed = tuple(allowed)
        self.exempt = frozenset(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt:
            await self.app(scope, receive, send)
            return
        host = Headers(scope=scope).get("host")
        if host_allowed(host, self.allowed):
            await self.app(scope, receive, send)
            return
        names = ", ".join((*LOOPBACK_NAMES, *self.allowed))
        error = UsageError(
            f"this server does not answer for host {(host or '')[:SHOWN_CHARS]!r}, only for {names}: "
            "without API keys it refuses other names, so that no web page can reach it through DNS "
            "rebinding; to answer this name, start it with --allowed-host NAME (EIDETICA_ALLOWED_HOSTS) "
            "or give it API keys"
        )
        response = JSONResponse(error_to_wire(error), status_code=421, headers={"Connection": "close"})
        await response(scope, receive, send)
