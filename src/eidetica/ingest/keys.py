"""Keys that let reconciliation recognise a fact it already holds, or a newer value of one.

``dedupe_key`` makes texts that differ only in case, punctuation, spacing or articles equal, so
"Alice's manager is Carol." said fifteen times is one fact with fifteen sources.

``slot_of`` finds the attribute a fact sets ("Alice's manager", "Bob lives in") and its value: a
new value for a slot the user already has closes the old fact instead of sitting beside it. Only
clear, single-valued patterns count as slots; "Alice likes jazz" and "Alice likes tea" are both
true, so liking is not a slot.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_ARTICLES = {"a", "an", "the"}
_WORD = re.compile(r"[\w']+")


# Cached: an add asks for the same unit's keys when indexing it and when reconciling it.
@functools.lru_cache(maxsize=65536)
def dedupe_key(text: str) -> str:
    """Lowercase words without punctuation or articles, in order: equal for restatements."""
    words = [w.strip("'") for w in _WORD.findall(text.lower())]
    return " ".join(w for w in words if w and w not in _ARTICLES)


@dataclass(frozen=True)
class Slot:
    """One single-valued attribute of a subject: ``key`` names it, ``value`` is what it holds."""

    key: str
    value: str


_SUBJECT = r"(?P<subject>[A-Z][\w.-]*(?: [A-Z][\w.-]*){0,3}(?:'s [a-z]+)?)"
_VALUE = r"(?P<value>[^.;!?]{1,80}?)"
#: When the value ends with a time ("in April 2024", "since May"), the time is not part of it.
_TRAILING_TIME = re.compile(
    r"\s+(?:in|on|since|from|last|this|yesterday|today|(?:\d+ \w+ ago))\b.*$|\s+\d{4}$", re.IGNORECASE
)
_END = r"\s*(?:now|currently)?\s*[.!]?\s*$"
_PATTERNS = [
    # "Alice's manager is Carol", "Bob's favourite colour is green"
    (re.compile(rf"^{_SUBJECT}'s (?P<attr>[a-z][a-z -]{{1,40}}?) (?:is|are) (?:now )?{_VALUE}{_END}"), None),
    # "Alice lives in Lisbon", "Alice moved to Lisbon" set where Alice lives
    (
        re.compile(
            rf"^{_SUBJECT} (?:now )?(?:lives|is living|moved|has moved|relocated) (?:in|to) {_VALUE}{_END}"
        ),
        "lives in",
    ),
    # "Alice works at Acme", "Alice works for Acme", "Alice joined Acme"
    (re.compile(rf"^{_SUBJECT} (?:now )?(?:works|is working) (?:at|for) {_VALUE}{_END}"), "works at"),
    (re.compile(rf"^{_SUBJECT} (?:is|was) (?:now )?married to {_VALUE}{_END}"), "married to"),
]


@functools.lru_cache(maxsize=65536)
def slot_of(text: str) -> Slot | None:
    """The single-valued attribute a fact states, or None when it states no such thing."""
    sentence = text.strip()
    for pattern, attribute in _PATTERNS:
        match = pattern.match(sentence)
        if match is None:
            continue
        attr = attribute or match.group("attr").strip()
        value = dedupe_key(_TRAILING_TIME.sub("", match.group("value")))
        if not value:
            return None
        return Slot(key=f"{match.group('subject').lower()}|{attr}", value=value)
    return None
