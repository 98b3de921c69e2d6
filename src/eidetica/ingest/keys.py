"""The key that lets reconciliation recognise a statement it already holds.

``dedupe_key`` makes texts that differ only in case, punctuation, spacing or articles equal, so
"Alice's manager is Carol." said fifteen times is one fact with fifteen sources. Which statements
replace which is read by ``claims``.
"""

from __future__ import annotations

import functools
import re

_ARTICLES = {"a", "an", "the"}
_WORD = re.compile(r"[\w']+")


# Cached: an add asks for the same unit's keys when indexing it and when reconciling it.
@functools.lru_cache(maxsize=65536)
def dedupe_key(text: str) -> str:
    """Lowercase words without punctuation or articles, in order: equal for restatements."""
    words = [w.strip("'") for w in _WORD.findall(text.lower())]
    return " ".join(w for w in words if w and w not in _ARTICLES)
