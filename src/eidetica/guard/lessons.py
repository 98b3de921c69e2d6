"""Lessons from confirmed attacks: a write like one a person rejected is held for review too.

A-MemGuard keeps a memory of the attacks it detected and checks new writes against it. Here a
lesson is learned when a person rejects a quarantined unit (``Memory.review(approve=False)``):
its content words become a pattern, kept per tenant with who wrote it and whose memory it
targeted. Every later write to any user of the tenant is compared with the tenant's newest
lessons; a message sharing half the words of the shorter of the two with a lesson is
quarantined with the reason, however else it is worded. So an attack that got past the rules
once and was caught by a person is caught by memory itself the next time, against this user or
another one.

A lesson's words are the attacker's, written into the target's memory: forgetting the target
erases them (``Store.forget``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from ..dates import format_date
from ..model import Lesson, MemoryUnit
from ..retrieve.query import lexical_terms

__all__ = ["MAX_LESSONS", "learned", "recognised"]

#: A pattern needs this many content words: fewer would match ordinary talk.
MIN_WORDS = 4
#: The share of the shorter word set (the lesson's or the message's) the two must share to be
#: taken for the same attack: a replay reworded, cut down or padded with small talk still is,
#: and four content words of a confirmed attack in common are rarely chance.
SHARED = 0.5
#: Lessons compared with each write, newest first: a tenant's confirmed attacks are few.
MAX_LESSONS = 500


def learned(unit: MemoryUnit, at: datetime) -> Lesson | None:
    """The lesson a rejected ``unit`` teaches, or None when it has too few words to be a pattern."""
    words = tuple(sorted(set(lexical_terms(unit.text))))
    if len(words) < MIN_WORDS:
        return None
    source = " ".join(part for part in (unit.role, unit.speaker) if part) or "unknown"
    return Lesson(words, source, unit.scope.user_id, unit.id, at)


def recognised(text: str, lessons: Sequence[Lesson]) -> list[str]:
    """Why ``text`` is held, for each lesson it repeats: at least ``MIN_WORDS`` content words
    shared, and at least ``SHARED`` of the words of the shorter of the two."""
    if not lessons:
        return []  # the common case, on every write: no words to read
    words = set(lexical_terms(text))
    if len(words) < MIN_WORDS:
        return []
    return [
        f"like an attack a person rejected on {format_date(lesson.at)} (unit {lesson.unit_id})"
        for lesson in lessons
        if (shared := len(words.intersection(lesson.words))) >= MIN_WORDS
        and shared >= SHARED * min(len(words), len(lesson.words))
    ]
