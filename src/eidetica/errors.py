"""The one exception tree of Eidetica.

::

    EideticaError                 root: catch this to catch everything Eidetica raises
    ├── UsageError                the caller passed something wrong (bad type, empty text, odd timestamp)
    │   └── InputFormatError      a file or payload could not be parsed; names the line when it can
    ├── NotFoundError             an id that does not exist in the caller's scope
    ├── ScopeError                an operation would cross a tenant or user boundary
    ├── AuthError                 a server request came without a valid API key
    ├── StoreError                the storage backend failed (locked, corrupt, disk full)
    └── EmbedderError             the embedding model could not be loaded or failed

Adapters translate driver exceptions at the boundary (``raise StoreError(...) from exc``) so callers
never need to know which backend or model is in use. Messages say how to fix the problem.
"""

from __future__ import annotations


class EideticaError(Exception):
    """Root of every error Eidetica raises on purpose."""


class UsageError(EideticaError, ValueError):
    """The caller passed an argument Eidetica cannot use."""


class InputFormatError(UsageError):
    """Input data (a file, a JSON payload) is malformed; ``line`` is 1-based when known."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        self.source = source
        self.line = line
        where = ""
        if source and line:
            where = f"{source}, line {line}: "
        elif line:
            where = f"line {line}: "
        elif source:
            where = f"{source}: "
        super().__init__(where + message)


class NotFoundError(EideticaError, LookupError):
    """No memory unit with this id exists in the caller's scope."""


class ScopeError(EideticaError):
    """The operation would reach outside the caller's tenant or user."""


class AuthError(EideticaError):
    """The request carried no API key, or one the server does not know."""


class StoreError(EideticaError):
    """The storage backend failed; the message says what to check."""


class EmbedderError(EideticaError):
    """The embedding model could not be loaded or could not embed."""
