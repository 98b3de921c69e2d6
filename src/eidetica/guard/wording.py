"""What the guard's rules read a message by, and how a reason quotes it."""

from __future__ import annotations

import re

__all__ = ["quote", "words_of"]

_LETTERS = re.compile(r"[^\W\d_]+")


def words_of(text: str) -> set[str]:
    """The lower-cased runs of letters of ``text``: what a rule looks at before it tries a long
    pattern, which only a text holding one of its words can match."""
    return set(_LETTERS.findall(text.lower()))


def quote(found: str, limit: int = 60) -> str:
    """``found`` as a reason quotes it: on one line, at most ``limit`` characters."""
    return "'" + " ".join(found.split())[:limit] + "'"
