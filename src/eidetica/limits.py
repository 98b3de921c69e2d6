"""Bounds on everything a caller hands Eidetica, and the checks that enforce them.

One policy for the library, the REST server and MCP alike: ``Memory`` runs these checks on every
value that enters it (``add`` and ``update`` share the text and metadata checks, every id goes
through the id check, every timestamp through ``parse_timestamp`` and so the time check), and the
REST models advertise the same numbers in the OpenAPI document. A value over a bound is a
:class:`~eidetica.errors.UsageError` that names the field and the bound and says how to stay
inside it, never a 500 from a driver deep in a backend.

Why each bound is what it is:

- ``MIN_YEAR``/``MAX_YEAR`` (1000..9000, in UTC): datetime reaches only 1..9999, and SQLite keeps
  times as epoch seconds that must convert back. A margin of about a thousand years on each side
  means no arithmetic on a stored time can leave that range: "in 999 years", the farthest a
  relative date reaches, a zone offset, a second per LoCoMo turn. Four-digit years also keep
  ISO 8601 text unambiguous.
- ``MAX_TURN_CHARS`` (4,000,000): one turn, or one unit's new text, is stored verbatim and indexed
  whole. A turn that size takes about 3 s to add on two cores (about 1 s per million characters),
  and 4 MB is half the REST server's default body limit; a pasted document or a whole text file
  imported as one turn fits. Longer texts must be split by the caller.
- ``MAX_QUERY_CHARS`` (10,000): a question is a few sentences, a pasted paragraph at most. An
  unbounded 1.5 MB query held the store for 20-30 s and stalled every other tenant. The lexical
  channel reads postings per distinct word, and looks up the first ``MAX_QUERY_TERMS`` (256,
  in ``retrieve.query``) only: at the limit (about 1,400 distinct words, over 5,000 turns, two
  cores) a search takes under 0.1 s on either backend.
- ``MAX_ID_CHARS`` (256): tenant, user, agent, session and unit ids are keys, not documents.
- ``MAX_LABEL_CHARS`` (1,000): a message's speaker name, role and own id; short labels, with room
  for the composite keys and URLs some callers use as message ids.
- ``MAX_MESSAGES`` (1,000): messages per ``add``, one transaction. Half a million one-letter
  messages in one add took 80 s and 2 GB; ``import_file`` stores files in batches below this.
- ``MAX_K`` and ``MAX_LIMIT`` (1,000): hits per search, units per page; more is never read by a
  model or a person at once, and ``list`` pages with ``offset``. The client's pages fit.
- ``MAX_OFFSET`` (1,000,000,000): far past any one user's units, far below the 64-bit integers
  SQLite and PostgreSQL overflow at.
- ``MAX_BUDGET_TOKENS`` (100,000): the context of a large model; a budget above it only makes
  ``context`` load and pack more units than any prompt could hold.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from .errors import UsageError

__all__ = [
    "MAX_BUDGET_TOKENS",
    "MAX_ID_CHARS",
    "MAX_K",
    "MAX_LABEL_CHARS",
    "MAX_LIMIT",
    "MAX_MESSAGES",
    "MAX_OFFSET",
    "MAX_QUERY_CHARS",
    "MAX_TURN_CHARS",
    "MAX_YEAR",
    "MIN_YEAR",
    "check_count",
    "check_id",
    "check_label",
    "check_metadata",
    "check_query",
    "check_text",
    "check_time",
    "shown",
]

MIN_YEAR = 1000
MAX_YEAR = 9000
MAX_TURN_CHARS = 4_000_000
MAX_QUERY_CHARS = 10_000
MAX_ID_CHARS = 256
MAX_LABEL_CHARS = 1_000
MAX_MESSAGES = 1_000
MAX_K = 1_000
MAX_LIMIT = 1_000
MAX_OFFSET = 1_000_000_000
MAX_BUDGET_TOKENS = 100_000

_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)  # built once: json.dumps rebuilds
_EARLIEST = datetime(MIN_YEAR, 1, 1, tzinfo=UTC)
_AFTER_LATEST = datetime(MAX_YEAR + 1, 1, 1, tzinfo=UTC)


def shown(value: object) -> str:
    """``value`` as an error message quotes it: short, and safe for integers too long to print."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        return f"an integer of {value.bit_length()} bits"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check_text(field: str, value: object, *, maximum: int = MAX_TURN_CHARS, fix: str = "") -> str:
    """Return ``value`` if it is text every backend can store and index: a string, not blank,
    at most ``maximum`` characters, without NUL (PostgreSQL refuses it) or lone surrogates (not
    UTF-8, so neither tokenizers nor drivers take them).

    ``fix`` follows the limit in the message and says how to get under it; the default suits a turn.
    """
    if not isinstance(value, str):
        raise UsageError(f"{field} must be a string, got {type_name(value)}")
    if len(value) > maximum:  # before strip: a huge text is refused without being copied
        advice = fix or " per turn, so split it into several turns"
        raise UsageError(f"{field} is {len(value):,} characters; the limit is {maximum:,}{advice}")
    if not value.strip():
        raise UsageError(f"{field} is empty")
    _check_clean(field, value)
    return value


def check_query(field: str, value: object) -> str:
    """Return a search query or question if it is non-empty storable text within ``MAX_QUERY_CHARS``."""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{field} must be a non-empty string")
    return check_text(field, value, maximum=MAX_QUERY_CHARS, fix=", so ask a shorter question")


def check_id(field: str, value: object) -> str:
    """Return an id (tenant, user, agent, session, unit) if it is a short storable string."""
    return _check_short(field, value, MAX_ID_CHARS)


def check_label(field: str, value: object) -> str:
    """Return a message's label (speaker name, role, own id) if it is a short storable string."""
    return _check_short(field, value, MAX_LABEL_CHARS)


def check_metadata(field: str, value: object) -> dict[str, Any]:
    """Return a copy of ``value`` (``{}`` for None) if it is a JSON object every reply can carry:
    string keys, no NaN or infinity (a REST reply could never hold the unit again), UTF-8 text."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise UsageError(f"{field} must be an object (dict), got {type_name(value)}")
    if not all(isinstance(key, str) for key in value):
        raise UsageError(f"{field} keys must be strings")
    if value:
        try:
            _JSON.encode(value).encode("utf-8")
        except (TypeError, ValueError, RecursionError) as exc:
            raise UsageError(f"{field} is not JSON-serialisable: {exc}") from None
    return dict(value)


def check_count(field: str, value: object, *, maximum: int, minimum: int = 1, fix: str = "") -> int:
    """Return ``value`` if it is an integer (not a bool) from ``minimum`` (1 or 0) to ``maximum``;
    ``fix`` follows the bound in the message when ``value`` is over it."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        if minimum == 1:
            raise UsageError(f"{field} must be a positive integer, got {shown(value)}")
        if isinstance(value, int) and not isinstance(value, bool) and value < 0:
            raise UsageError(f"{field} must not be negative, got {shown(value)}")
        raise UsageError(f"{field} must be an integer of at least {minimum}, got {shown(value)}")
    if value > maximum:
        raise UsageError(f"{field} must be at most {maximum:,}, got {shown(value)}{fix}")
    return value


def check_flag(field: str, value: object) -> bool:
    """Return ``value`` if it is a bool: a string such as "false" would otherwise read as true."""
    if not isinstance(value, bool):
        raise UsageError(f"{field} must be true or false, got {shown(value)}")
    return value


def check_time(moment: datetime, original: object = None) -> datetime:
    """Return an aware ``moment`` if it lies in the years ``MIN_YEAR`` to ``MAX_YEAR``, in UTC.

    Compared as instants, so a time whose conversion to UTC would overflow ("9999-12-31T23:59:59
    -14:00") is refused rather than raising. ``original`` is what the caller wrote, for the message.
    """
    if not _EARLIEST <= moment < _AFTER_LATEST:
        raise UsageError(
            f"timestamp {shown(moment if original is None else original)} is out of range: times "
            f"must lie in the years {MIN_YEAR} to {MAX_YEAR} (UTC)"
        )
    return moment


def _check_short(field: str, value: object, maximum: int) -> str:
    if not isinstance(value, str):
        raise UsageError(f"{field} must be a string, got {type_name(value)}")
    if not value.strip():
        raise UsageError(f"{field} must not be empty")
    if len(value) > maximum:
        raise UsageError(f"{field} is longer than {maximum:,} characters")
    _check_clean(field, value)
    return value


def _check_clean(field: str, value: str) -> None:
    """Refuse NUL characters and lone surrogates, which no storage backend can round-trip."""
    nul = value.find("\x00")
    if nul >= 0:
        raise UsageError(f"{field} contains a NUL character (\\x00) at offset {nul}; remove it")
    if value.isascii():
        return
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        bad = ord(value[exc.start])
        raise UsageError(
            f"{field} is not valid Unicode text (lone surrogate U+{bad:04X} at offset {exc.start})"
        ) from None


def type_name(value: object) -> str:
    """A value's type as error messages name it ("null" for None, as JSON says)."""
    return "null" if value is None else type(value).__name__
