"""The one exception tree of Eidetica.

::

    EideticaError                 root: catch this to catch everything Eidetica raises
    ├── UsageError                the caller passed something wrong (bad type, empty text, odd timestamp)
    │   └── InputFormatError      a file or payload could not be parsed; names the line when it can
    ├── NotFoundError             an id that does not exist in the caller's scope
    ├── ScopeError                an operation would cross a tenant or user boundary
    ├── AuthError                 a server request came without a valid API key
    ├── ServerError               the REST server could not be reached, timed out, or failed to answer
    ├── StoreError                the storage backend failed (locked, corrupt, disk full)
    │   └── DuplicateTurnError    another writer stored the same turn ids first; nothing was written
    ├── EmbedderError             the embedding model could not be loaded or failed
    └── LLMError                  the language model endpoint was unreachable, refused, or timed out
        └── LLMOutputError        its reply was not JSON matching the requested schema, even after a repair

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


class ServerError(EideticaError):
    """The REST server was unreachable, too slow, or failed; the message says what to check."""


class StoreError(EideticaError):
    """The storage backend failed; the message says what to check."""


class DuplicateTurnError(StoreError):
    """A concurrent writer stored turns with the same caller ids first; this write was rolled back.

    ``Memory.add`` catches it and adds again, skipping the turns now stored, so retried adds stay
    idempotent however their writes interleave.
    """


class EmbedderError(EideticaError):
    """The embedding model could not be loaded or could not embed."""


class LLMError(EideticaError):
    """The language model endpoint could not be reached, refused the request, or kept failing."""


class LLMOutputError(LLMError):
    """The model's reply could not be used: not JSON, or not matching the schema after one repair.

    ``replies`` are the raw replies, first one first (the repair's last); ``parsed`` is the last
    one's JSON value when it parsed but did not validate, else ``None``; token counts cover all
    the replies. Callers may salvage the parts that are valid.
    """

    def __init__(
        self,
        message: str,
        *,
        replies: tuple[str, ...] = (),
        parsed: object = None,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
    ) -> None:
        self.replies = replies
        self.parsed = parsed
        self.prompt_tokens = prompt_tokens
        self.completion_tokens = completion_tokens
        super().__init__(message)
