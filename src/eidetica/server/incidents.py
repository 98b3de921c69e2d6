"""What a client of the REST or MCP server is told when the server fails: the error type and an id.

Caller mistakes (``UsageError``, ``NotFoundError``, ``ScopeError``, ``AuthError``) keep their
message: it says what the caller should fix. Every other failure is the server's: a store that
does not answer, an embedder or LLM endpoint that failed, a bug. Their messages name hosts, ports,
databases, file paths or driver text that a tenant must not see, so the details (and traceback)
go to the log under an id, and the client gets the same error type with a generic message naming
that id, for the operator to look up.
"""

from __future__ import annotations

import json
import logging
import traceback

from .. import errors
from ..config import redact
from ..errors import AuthError, EideticaError, NotFoundError, ScopeError, ServerError, UsageError

log = logging.getLogger("eidetica.server")

#: Errors whose message is for the caller: they say what to change in the request.
CALLER_ERRORS: tuple[type[EideticaError], ...] = (UsageError, NotFoundError, ScopeError, AuthError)
#: What failed, in words a client can act on, by error class (first match wins).
WHAT_FAILED: tuple[tuple[type[EideticaError], str], ...] = (
    (errors.StoreError, "the memory store did not answer; retry later"),
    (errors.EmbedderError, "the server's embedding model failed; retry later"),
    (errors.LLMError, "the server's language model failed; retry later"),
)


def is_internal(exc: BaseException) -> bool:
    """Whether a failure is the server's own, whose details stay in the log."""
    return not isinstance(exc, CALLER_ERRORS)


def conceal(exc: BaseException, incident_id: str) -> EideticaError:
    """Log ``exc`` with its traceback under ``incident_id``; return what the client is told.

    The answer keeps the class of an Eidetica error (a ``Client`` raises ``StoreError`` as
    ``Memory`` would) and is a ``ServerError`` for anything else.
    """
    log.error(
        json.dumps(
            {
                "event": "internal_error" if isinstance(exc, EideticaError) else "unexpected_error",
                "request_id": incident_id,
                "error": redact(repr(exc)),
                "traceback": redact("".join(traceback.format_exception(exc))),
            }
        )
    )
    where = f"the server's log has the details under request id {incident_id}"
    if not isinstance(exc, EideticaError):
        return ServerError(f"the server failed unexpectedly; {where}")
    what = next((text for kind, text in WHAT_FAILED if isinstance(exc, kind)), "the server failed")
    # The same class when ``errors`` defines it, so a client can rebuild it by name.
    cls = type(exc) if getattr(errors, type(exc).__name__, None) is type(exc) else ServerError
    try:
        return cls(f"{what}; {where}")
    except TypeError:  # a subclass whose constructor takes other arguments
        return ServerError(f"{what}; {where}")
