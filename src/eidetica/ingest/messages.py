"""Parse in-memory conversation input (OpenAI-style messages, a text) into turns.

Also the checks of one record's fields (text, labels, times, metadata) that the file readers in
``formats`` share. Parsers check all their input before returning, so callers store everything or
nothing; errors name ``message N`` (0-based list index).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eidetica.dates import parse_timestamp
from eidetica.errors import UsageError
from eidetica.limits import (
    MAX_LABEL_CHARS,
    MAX_MESSAGES,
    check_count,
    check_label,
    check_text,
    type_name,
)
from eidetica.metadata import check_tags
from eidetica.model import TurnInput

# An integer id with this many digits is longer than a label may be (and str() of one with
# thousands of digits raises ValueError instead of saying so).
_LONGEST_INT_LABEL = 10**MAX_LABEL_CHARS
_TEXT_PART_TYPES = ("text", "input_text", "output_text")  # a tuple: part types may be unhashable


class InvalidField(Exception):
    """One record is invalid; the message lacks its position, which the caller prepends."""


def text_field(value: object, what: str) -> str:
    """Return ``value`` if it is storable turn text (``limits.check_text``, the check ``update``
    runs too)."""
    try:
        return check_text(what, value)
    except UsageError as exc:
        raise InvalidField(str(exc)) from None


def content_field(value: object, what: str) -> str:
    """Return turn text from a string or from OpenAI content parts (text parts joined by lines)."""
    if isinstance(value, list):
        texts: list[str] = []
        for i, part in enumerate(value):
            if not isinstance(part, dict):
                raise InvalidField(f"{what}[{i}] must be a content part object, got {type_name(part)}")
            if part.get("type") in _TEXT_PART_TYPES:
                text = part.get("text")
                if not isinstance(text, str):
                    raise InvalidField(f"{what}[{i}].text must be a string, got {type_name(text)}")
                texts.append(text)
        if not texts:
            raise InvalidField(f"{what} has no text parts; only text can be stored")
        value = "\n".join(texts)
    return text_field(value, what)


def optional_text(value: object, what: str, *, allow_int: bool = False) -> str | None:
    """Return a short label (speaker, role, id) or None; ids may also be integers."""
    if value is None:
        return None
    if allow_int and isinstance(value, int) and not isinstance(value, bool):
        if abs(value) >= _LONGEST_INT_LABEL:
            raise InvalidField(f"{what} is longer than {MAX_LABEL_CHARS:,} characters")
        return str(value)
    if not isinstance(value, str):
        kinds = "a string or an integer" if allow_int else "a string"
        raise InvalidField(f"{what} must be {kinds}, got {type_name(value)}")
    if not value.strip():
        raise InvalidField(f"{what} is empty")
    try:
        return check_label(what, value)
    except UsageError as exc:
        raise InvalidField(str(exc)) from None


def metadata_field(value: object) -> dict[str, Any]:
    """Return a copy of a JSON-serialisable metadata dict ({} for None) without a key Eidetica
    keeps itself: the checks ``update`` runs too."""
    try:
        return check_tags("metadata", value)
    except UsageError as exc:
        raise InvalidField(str(exc)) from None


def moment_field(value: object, what: str = "timestamp") -> datetime:
    try:
        return parse_timestamp(value)
    except (ValueError, TypeError, OverflowError) as exc:  # UsageError is a ValueError
        raise InvalidField(f"{what}: {exc}") from None


def _call_args(session_id: object, timestamp: object) -> tuple[str | None, datetime | None]:
    """Validate the session and time a caller gives for a whole batch."""
    try:
        return optional_text(session_id, "session_id"), None if timestamp is None else moment_field(timestamp)
    except InvalidField as exc:
        raise UsageError(str(exc)) from None


def message_turn(
    msg: object, *, session_id: str | None, timestamp: datetime | None, ref: str | None
) -> TurnInput:
    if not isinstance(msg, dict):
        raise InvalidField(f"must be a dict with 'role' and 'content', got {type_name(msg)}")
    if "content" not in msg:
        raise InvalidField("missing content")
    if msg["content"] is None:
        raise InvalidField("content is null; messages without text (tool calls) cannot be stored")
    content = content_field(msg["content"], "content")
    role = optional_text(msg.get("role"), "role")
    name = optional_text(msg.get("name"), "name")
    raw_time = msg.get("timestamp")
    return TurnInput(
        content=content,
        speaker=name or role,
        role=role,
        timestamp=timestamp if raw_time is None else moment_field(raw_time),
        session_id=session_id,
        ref=optional_text(msg.get("id"), "id", allow_int=True) or ref,
        metadata=metadata_field(msg.get("metadata")),
    )


def from_messages(
    messages: object, *, session_id: str | None = None, timestamp: datetime | None = None
) -> list[TurnInput]:
    """Parse OpenAI-style messages: a string (one user turn), one message dict, or a list of them.

    Speaker is the message's ``name``, else its ``role``. A message's own ``timestamp`` overrides
    the call's. Raises UsageError naming the index of the first invalid message, or when there
    are more than ``limits.MAX_MESSAGES``.
    """
    session, when = _call_args(session_id, timestamp)
    if isinstance(messages, str):
        return from_text(messages, session_id=session, timestamp=when)
    if isinstance(messages, dict):
        items: list[object] = [messages]
    elif isinstance(messages, list | tuple):
        items = list(messages)
    else:
        raise UsageError(f"messages must be a str, a dict or a list of dicts, not {type_name(messages)}")
    check_count(
        "messages per add",
        len(items),
        maximum=MAX_MESSAGES,
        minimum=0,
        fix="; send fewer per request (import_file cuts a file into batches itself)",
    )
    turns: list[TurnInput] = []
    for i, msg in enumerate(items):
        try:
            turns.append(message_turn(msg, session_id=session, timestamp=when, ref=None))
        except InvalidField as exc:
            raise UsageError(f"message {i}: {exc}") from None
    return turns


def from_text(
    text: str,
    *,
    session_id: str | None = None,
    timestamp: datetime | None = None,
    ref: str | None = None,
) -> list[TurnInput]:
    """Wrap one text as a single user turn; raises UsageError if it is empty or not storable."""
    session, when = _call_args(session_id, timestamp)
    try:
        content = text_field(text, "text")
        ref = optional_text(ref, "ref")
    except InvalidField as exc:
        raise UsageError(str(exc)) from None
    return [TurnInput(content, speaker="user", role="user", timestamp=when, session_id=session, ref=ref)]
