"""Read conversation files (JSONL, JSON messages, LoCoMo JSON, plain text) into turns.

Readers check all their input before returning, so callers store everything or nothing; they take
``skip_invalid=True`` to keep the valid records and list the rest in ``ParsedFile.errors``. Errors
name ``message N`` (0-based list index), ``line N`` (1-based) or ``turn N`` (1-based in a LoCoMo
session, like its ``dia_id``). In-memory messages and text are parsed in ``messages``, whose
``from_messages`` and ``from_text`` are importable from here too.

A turn read from a file without its own ``id`` gets a content ref, ``"h:"`` and 16 hex digits,
hashed from its session, speaker, time and text and how many identical turns came before it in the
file; so importing the same file again, renamed or with its sessions reordered, stores nothing new.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from os import PathLike
from pathlib import Path
from typing import Any

from eidetica.errors import InputFormatError, UsageError
from eidetica.limits import MAX_TURN_CHARS as MAX_TURN_CHARS  # re-exported: callers import it here
from eidetica.limits import type_name
from eidetica.model import TurnInput

from .messages import (
    InvalidField,
    content_field,
    message_turn,
    metadata_field,
    moment_field,
    optional_text,
    text_field,
)
from .messages import from_messages as from_messages  # re-exported: callers import it here
from .messages import from_text as from_text

FORMATS = ("jsonl", "json", "messages", "locomo", "text", "export")
"""Values ``import_file`` accepts for ``format``; ``json`` tells messages from LoCoMo by content,
and ``export`` is a whole memory written by ``Memory.export`` (which ``read_file`` never reads:
its units are stored as they were, not added as turns)."""
#: The ``format`` an export's header line names (``lifecycle.transfer``).
EXPORT_FORMAT = "eidetica-export"


_TOO_LONG_NUMBER = "malformed JSON: a number of more than 4,300 digits"
_SESSION_KEY = re.compile(r"session_(\d+)")
_BOM = b"\xef\xbb\xbf"
_JSON = json.JSONEncoder(ensure_ascii=False, allow_nan=False)  # built once: json.dumps rebuilds
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"} | dict.fromkeys(
    (".txt", ".text", ".md", ".markdown"), "text"
)
_SUPPORTED = ".jsonl (one turn per line), .json (messages or LoCoMo samples), .txt/.md (one turn)"


@dataclass(frozen=True)
class ParsedFile:
    """Turns parsed from one file, plus the invalid records skipped (only with skip_invalid)."""

    turns: list[TurnInput]
    errors: list[InputFormatError] = field(default_factory=list)


_Problems = list[tuple[str, int | None]]  # (message, 1-based line or None)


def _pick(obj: dict[str, Any], keys: tuple[str, ...]) -> tuple[str, object]:
    """Return the first of ``keys`` present in ``obj`` and its value (the first key and None)."""
    for key in keys:
        if key in obj:
            return key, obj[key]
    return keys[0], None


def _jsonl_turn(obj: object) -> TurnInput:
    if not isinstance(obj, dict):
        raise InvalidField(f"expected a JSON object, got {type_name(obj)}")
    key, text = _pick(obj, ("text", "content"))
    if text is None:
        raise InvalidField('missing text (give a "text" or "content" field)')
    content = content_field(text, key)
    speaker_key, speaker = _pick(obj, ("speaker", "name"))
    role = optional_text(obj.get("role"), "role")
    time_key, raw_time = _pick(obj, ("timestamp", "time", "date"))
    session_key, session = _pick(obj, ("session", "session_id"))
    user_key, user = _pick(obj, ("user", "user_id"))
    return TurnInput(
        content=content,
        speaker=optional_text(speaker, speaker_key) or role,
        role=role,
        timestamp=None if raw_time is None else moment_field(raw_time, time_key),
        session_id=optional_text(session, session_key, allow_int=True),
        ref=optional_text(obj.get("id"), "id", allow_int=True),
        user_id=optional_text(user, user_key, allow_int=True),
        metadata=metadata_field(obj.get("metadata")),
    )


def _result(turns: list[TurnInput], problems: _Problems, source: str, skip: bool) -> ParsedFile:
    """Raise the first problem unless skipping; otherwise return turns and the skipped problems."""
    if problems and not skip:
        message, line = problems[0]
        more = len(problems) - 1
        if more:
            message += f" (and {more} more invalid; skip_invalid=True keeps the valid records)"
        raise InputFormatError(message, source=source, line=line)
    errors = [InputFormatError(message, source=source, line=line) for message, line in problems]
    return ParsedFile(_with_content_refs(turns), errors)


def content_ref(turn: TurnInput, occurrence: int = 0) -> str:
    """A ref for a turn without an id: ``"h:"`` and 16 hex digits of a hash of what it says.

    Hashes the session, speaker, time and text, and ``occurrence``: how many identical turns came
    before it (so two "ok" turns stay two). The file's name and the turn's line are left out, so a
    renamed or reordered file gives the same refs and is not imported twice.
    """
    when = None if turn.timestamp is None else _utc(turn.timestamp).isoformat()
    key = _JSON.encode([turn.session_id, turn.speaker, when, turn.content, occurrence])
    return "h:" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _utc(moment: datetime) -> datetime:
    """The same moment in UTC, so "12:00+02:00" and "10:00Z" hash alike."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC)


def _with_content_refs(turns: list[TurnInput]) -> list[TurnInput]:
    """Give each turn without a ref its content ref; identical turns count per user."""
    seen: dict[tuple[str | None, str | None, str | None, datetime | None, str], int] = {}
    result: list[TurnInput] = []
    for turn in turns:
        if turn.ref is None:
            key = (turn.user_id, turn.session_id, turn.speaker, turn.timestamp, turn.content)
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            turn = replace(turn, ref=content_ref(turn, occurrence))
        result.append(turn)
    return result


def _parse_jsonl(data: bytes, source: str, skip: bool) -> ParsedFile:
    turns: list[TurnInput] = []
    problems: _Problems = []
    offset = len(_BOM) if data.startswith(_BOM) else 0
    for number, raw in enumerate(data[offset:].split(b"\n"), start=1):
        start, offset = offset, offset + len(raw) + 1
        if not raw.strip():
            continue
        try:
            turns.append(_jsonl_turn(json.loads(raw.decode("utf-8"))))
        except UnicodeDecodeError as exc:
            problems.append((f"invalid UTF-8 at byte offset {start + exc.start}", number))
        except json.JSONDecodeError as exc:
            problems.append((f"malformed JSON: {exc.msg} (column {exc.colno})", number))
        except RecursionError:
            problems.append(("malformed JSON: nested too deeply", number))
        except InvalidField as exc:
            problems.append((str(exc), number))
        except ValueError:  # json.loads refuses integers of over 4,300 digits with a bare ValueError
            problems.append((_TOO_LONG_NUMBER, number))
    return _result(turns, problems, source, skip)


def _parse_messages(data: object, source: str, skip: bool) -> ParsedFile:
    if isinstance(data, dict) and isinstance(data.get("messages"), list):
        data = data["messages"]
    items = data if isinstance(data, list) else [data]
    turns: list[TurnInput] = []
    problems: _Problems = []
    for i, msg in enumerate(items):
        try:
            turns.append(message_turn(msg, session_id=None, timestamp=None, ref=None))
        except InvalidField as exc:
            problems.append((f"message {i}: {exc}", None))
    return _result(turns, problems, source, skip)


def _locomo_turn(item: object, sample_id: str, key: str, i: int, when: datetime | None) -> TurnInput:
    if not isinstance(item, dict):
        raise InvalidField(f"expected an object, got {type_name(item)}")
    text = item.get("text")
    if text is None:
        raise InvalidField("missing text")
    if not isinstance(text, str):
        raise InvalidField(f"text must be a string, got {type_name(text)}")
    caption = item.get("blip_caption")
    if caption is not None and not isinstance(caption, str):
        raise InvalidField(f"blip_caption must be a string, got {type_name(caption)}")
    if caption and caption.strip():
        photo = f"[shares a photo: {caption.strip()}]"
        text = f"{text} {photo}" if text.strip() else photo
    speaker = optional_text(item.get("speaker"), "speaker")
    dia_id = optional_text(item.get("dia_id"), "dia_id")
    if speaker is None or dia_id is None:
        raise InvalidField("missing speaker" if speaker is None else "missing dia_id")
    return TurnInput(
        content=text_field(text, "text"),
        speaker=speaker,
        role=None,
        # Turns of a session share its start time; a second apiece keeps them in order.
        timestamp=None if when is None else when + timedelta(seconds=i),
        session_id=f"{sample_id}/{key}",
        ref=dia_id,
        user_id=sample_id,
        metadata={},
    )


def _locomo_sample(sample: object, index: int, turns: list[TurnInput], problems: _Problems) -> None:
    if not isinstance(sample, dict):
        raise InvalidField(f"sample {index}: expected an object, got {type_name(sample)}")
    try:
        sample_id = optional_text(sample.get("sample_id"), "sample_id", allow_int=True)
    except InvalidField as exc:
        raise InvalidField(f"sample {index}: {exc}") from None
    if sample_id is None:
        raise InvalidField(f"sample {index}: missing sample_id")
    if "conversation" not in sample:
        raise InvalidField(
            f'sample {sample_id}: missing the "conversation" key (an object of session_N turn lists '
            "and their session_N_date_time)"
        )
    conv = sample["conversation"]
    if not isinstance(conv, dict):
        raise InvalidField(f"sample {sample_id}: conversation must be an object, got {type_name(conv)}")
    # Iterate sessions, not dates: some samples have dates for sessions that do not exist.
    found = ((_SESSION_KEY.fullmatch(key), key) for key in conv if isinstance(key, str))
    sessions = sorted((int(match.group(1)), key) for match, key in found if match)
    for _, key in sessions:
        where = f"sample {sample_id}, {key}"
        items = conv[key]
        try:
            raw_time = conv.get(f"{key}_date_time")
            when = None if raw_time is None else moment_field(raw_time, f"{key}_date_time")
            if not isinstance(items, list):
                raise InvalidField(f"expected a list of turns, got {type_name(items)}")
        except InvalidField as exc:
            problems.append((f"{where}: {exc}", None))
            continue
        for i, item in enumerate(items):
            try:
                turns.append(_locomo_turn(item, sample_id, key, i, when))
            except InvalidField as exc:
                problems.append((f"{where}, turn {i + 1}: {exc}", None))


def _parse_locomo(data: object, source: str, skip: bool) -> ParsedFile:
    samples = [data] if isinstance(data, dict) else data
    if not isinstance(samples, list):
        raise InputFormatError(f"expected a list of LoCoMo samples, got {type_name(samples)}", source=source)
    turns: list[TurnInput] = []
    problems: _Problems = []
    for index, sample in enumerate(samples):
        try:
            _locomo_sample(sample, index, turns, problems)
        except InvalidField as exc:
            problems.append((str(exc), None))
    return _result(turns, problems, source, skip)


def _looks_like_locomo(first: object) -> bool:
    """Whether a JSON file's first object is a LoCoMo sample, even one missing its conversation
    (which then gets an error naming that key, not "message 0: missing content")."""
    return isinstance(first, dict) and (
        "conversation" in first or ("sample_id" in first and "content" not in first)
    )


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise UsageError(f"file not found: {path}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None


def _decode(data: bytes, source: str) -> str:
    """Decode a whole file, naming the line and byte offset of the first invalid UTF-8."""
    start = len(_BOM) if data.startswith(_BOM) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        line = data.count(b"\n", 0, offset) + 1
        raise InputFormatError(f"invalid UTF-8 at byte offset {offset}", source=source, line=line) from None


def _load_json(data: bytes, source: str) -> object:
    text = _decode(data, source)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputFormatError(
            f"malformed JSON: {exc.msg} (column {exc.colno})", source=source, line=exc.lineno
        ) from None
    except RecursionError:
        raise InputFormatError("malformed JSON: nested too deeply", source=source) from None
    except ValueError:  # an integer of over 4,300 digits
        raise InputFormatError(_TOO_LONG_NUMBER, source=source) from None


def read_jsonl(path: Path, *, skip_invalid: bool = False) -> ParsedFile:
    """Read one turn per line of a JSONL file; blank lines are skipped.

    Keys: ``text``|``content``, ``speaker``|``name``, ``role``, ``timestamp``|``time``|``date``,
    ``session``|``session_id``, ``id``, ``user``|``user_id``, ``metadata``. A line without ``id``
    gets a content ref (see ``content_ref``). Raises InputFormatError naming the line of the first
    invalid record unless ``skip_invalid``.
    """
    return read_file(path, format="jsonl", skip_invalid=skip_invalid)


def read_locomo(path: Path, *, skip_invalid: bool = False) -> ParsedFile:
    """Read LoCoMo samples (a JSON list, or one sample object) as turns, one per dialogue line.

    Each turn's ref is its ``dia_id``, its user the sample id, its session ``<sample>/session_N``,
    and its time the session's date plus one second per earlier turn of the session.
    """
    return read_file(path, format="locomo", skip_invalid=skip_invalid)


def read_text_file(path: Path) -> ParsedFile:
    """Read a whole UTF-8 text file as one turn whose ref is a hash of its text (``content_ref``)."""
    return read_file(path, format="text")


def is_export_header(first_line: bytes) -> bool:
    """Whether a file's first line is the header of an export (``lifecycle.transfer``)."""
    try:
        record = json.loads(first_line.removeprefix(_BOM) or b"null")
    except ValueError:  # not JSON, or not UTF-8
        return False
    return (
        isinstance(record, dict) and record.get("type") == "header" and record.get("format") == EXPORT_FORMAT
    )


def read_file(
    path: Path | str | PathLike[str], *, format: str | None = None, skip_invalid: bool = False
) -> ParsedFile:
    """Read a conversation file, choosing the parser from ``format`` or the file's extension.

    ``.json`` files holding objects with a ``conversation`` key (or a ``sample_id`` and no
    ``content``) are LoCoMo; other ``.json`` files are OpenAI-style messages (a list, one message,
    or ``{"messages": [...]}``). A turn without an
    ``id`` (a JSONL line, a message, a text file) gets a content ref (``content_ref``), the same
    whatever the file is called.
    """
    path = Path(path)
    if format is not None and format not in FORMATS:
        raise UsageError(f"unknown format {format!r}; use one of: {', '.join(FORMATS)}")
    kind = format or _EXTENSIONS.get(path.suffix.lower())
    data = _read_bytes(path)
    source = path.name
    if kind is None:
        what = f"unsupported file type {path.suffix!r}" if path.suffix else "no file extension"
        raise InputFormatError(
            f"{what}; supported: {_SUPPORTED}; or pass format= one of {', '.join(FORMATS)}",
            source=source,
        )
    if kind == "export" or (kind == "jsonl" and is_export_header(data.split(b"\n", 1)[0])):
        raise UsageError(
            f"{source} is an Eidetica export, a whole memory with its history: import it where the "
            "store is (Memory.import_file, or eidetica import on the server's machine)"
        )
    if kind == "jsonl":
        return _parse_jsonl(data, source, skip_invalid)
    if kind == "text":
        try:
            return ParsedFile(_with_content_refs([TurnInput(text_field(_decode(data, source), "file"))]))
        except InvalidField as exc:
            raise InputFormatError(str(exc), source=source) from None
    loaded = _load_json(data, source)
    first = loaded[0] if isinstance(loaded, list) and loaded else loaded
    if kind == "locomo" or (kind == "json" and _looks_like_locomo(first)):
        return _parse_locomo(loaded, source, skip_invalid)
    return _parse_messages(loaded, source, skip_invalid)
