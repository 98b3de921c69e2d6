"""LongMemEval (Wu et al., 2024) as turns to ingest and questions with evidence.

An item is one question over its own haystack of chat sessions, so each item becomes its own user
(``user_id = question_id``). A turn's ref is ``"<session id>:<turn index>"``; its time is the
session's ``haystack_dates`` entry plus one second per earlier turn, which keeps turns in order.
The evidence of a question is the turns marked ``has_answer``; questions with none (the abstention
items) are skipped, since evidence recall cannot be measured for them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ..dates import parse_timestamp
from ..errors import InputFormatError, UsageError
from ..memory import Memory
from ..model import TurnInput
from .datasets import Question

# "2023/05/20 (Sat) 02:21": the weekday is redundant and ignored.
_DATE = re.compile(r"\s*(\d{4})/(\d{1,2})/(\d{1,2})\s*(?:\([A-Za-z]{2,9}\))?\s*(?:(\d{1,2}):(\d{2}))?\s*")


def parse_haystack_date(value: str) -> datetime:
    """Read a LongMemEval date ("2023/05/20 (Sat) 02:21") as UTC; other forms go to parse_timestamp."""
    match = _DATE.fullmatch(value)
    if match:
        year, month, day, hour, minute = (int(g) if g else 0 for g in match.groups())
        try:
            return datetime(year, month, day, hour, minute, tzinfo=UTC)
        except ValueError as exc:
            raise UsageError(f"cannot read date {value!r}: {exc}") from exc
    return parse_timestamp(value)


def _load(path: Path) -> list[dict[str, Any]]:
    try:
        items = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFormatError(f"cannot read LongMemEval items: {exc}", source=Path(path).name) from exc
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise InputFormatError("expected a JSON list of LongMemEval items", source=Path(path).name)
    return items


def _sessions(item: dict[str, Any], index: int, source: str) -> Iterator[tuple[str, datetime, list[Any]]]:
    """Yield each haystack session of an item as (session id, start time, turns), checked."""
    where = f"item {item.get('question_id', index)}"
    try:
        ids, dates, sessions = item["haystack_session_ids"], item["haystack_dates"], item["haystack_sessions"]
    except KeyError as exc:
        raise InputFormatError(f"{where}: missing {exc.args[0]}", source=source) from None
    if not all(isinstance(x, list) for x in (ids, dates, sessions)) or not len(ids) == len(dates) == len(
        sessions
    ):
        raise InputFormatError(
            f"{where}: haystack_session_ids, haystack_dates and haystack_sessions must be lists "
            "of the same length",
            source=source,
        )
    for session_id, date, turns in zip(ids, dates, sessions, strict=True):
        if not isinstance(turns, list):
            raise InputFormatError(f"{where}, session {session_id}: expected a list of turns", source=source)
        try:
            yield str(session_id), parse_haystack_date(str(date)), turns
        except UsageError as exc:
            raise InputFormatError(f"{where}, session {session_id}: {exc}", source=source) from None


def _item_turns(item: dict[str, Any], index: int, source: str) -> Iterator[tuple[TurnInput, bool]]:
    """Yield an item's turns with their ``has_answer`` flag; empty turns are left out."""
    if "question_id" not in item:
        raise InputFormatError(f"item {index}: missing question_id", source=source)
    user = str(item["question_id"])
    for session_id, start, turns in _sessions(item, index, source):
        for i, turn in enumerate(turns):
            content = turn.get("content") if isinstance(turn, dict) else None
            if not isinstance(content, str):
                raise InputFormatError(
                    f"item {user}, session {session_id}, turn {i}: expected {{role, content}}", source=source
                )
            if not content.strip():
                continue
            role = str(turn.get("role") or "user")
            yield (
                TurnInput(
                    content=content,
                    speaker=role,
                    role=role,
                    timestamp=start + timedelta(seconds=i),
                    session_id=session_id,
                    ref=f"{session_id}:{i}",
                    user_id=user,
                ),
                bool(turn.get("has_answer")),
            )


def longmemeval_turns(path: Path) -> list[TurnInput]:
    """Every haystack turn of every item, each item its own user, in haystack order."""
    source = Path(path).name
    return [turn for index, item in enumerate(_load(path)) for turn, _ in _item_turns(item, index, source)]


def longmemeval_questions(path: Path) -> list[Question]:
    """Each item's question, with the refs of its ``has_answer`` turns as evidence (none: skipped)."""
    source = Path(path).name
    questions = []
    for index, item in enumerate(_load(path)):
        evidence = frozenset(t.ref for t, has in _item_turns(item, index, source) if has and t.ref)
        if not evidence:
            continue
        questions.append(
            Question(
                user_id=str(item["question_id"]),
                question=str(item.get("question", "")),
                answer=str(item.get("answer", "")),
                evidence=evidence,
                category=str(item.get("question_type", "unknown")),
            )
        )
    return questions


def ingest_longmemeval(memory: Memory, path: Path, progress: Callable[[int, int], None] | None = None) -> int:
    """Store every item's haystack through ``Memory.add``, one call per session; return turns stored.

    Turns already stored (same user and ref) are skipped, so ingesting twice is harmless.
    """
    turns = longmemeval_turns(path)
    sessions: dict[tuple[str, str], list[TurnInput]] = {}
    for turn in turns:
        sessions.setdefault((turn.user_id or "", turn.session_id or ""), []).append(turn)
    stored = done = 0
    for (user, session), batch in sessions.items():
        messages = [
            {
                "role": t.role,
                "content": t.content,
                "id": t.ref,
                "timestamp": t.timestamp.isoformat() if t.timestamp else None,
            }
            for t in batch
        ]
        stored += len(memory.add(messages, user_id=user, session_id=session).turns)
        done += len(batch)
        if progress is not None:
            progress(done, len(turns))
    return stored
