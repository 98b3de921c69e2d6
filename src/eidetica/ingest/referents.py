"""What a sentence leaves to the sentence before it, written back in so each statement stands alone.

A memory unit is one sentence, so it must say what it is about. Two shapes of text leave that to
an earlier sentence, and both are how facts arrive in bulk, from documents and agents' records:

- an article names a thing, then goes on with "Its": "Tessaly is a landlocked republic. Its
  capital city is Dorvik." The second unit becomes "Tessaly's capital city is Dorvik.";
- a record heads its fields with the thing they describe: "Product: Lumen X2 desk lamp. List
  price: 89 USD." The second unit becomes "Lumen X2 desk lamp - list price: 89 USD.", the form
  ``claims`` reads as that thing's field.

Chat rarely has either shape, and nothing else is rewritten: "it", "he" and "they" are left alone,
since guessing their referent wrong would put words in the speaker's mouth.
"""

from __future__ import annotations

import re

__all__ = ["Referents"]

#: A sentence that names the thing it is about first: "Orvane Systems is a maker of ...".
_NAMED_FIRST = re.compile(
    r"^(?:The )?(?P<name>[A-Z][\w&'.-]*(?: (?:[A-Z0-9][\w&'.-]*|&|of|and|de|la|du|von|van))*)"
    r"(?:,[^,]{1,80},)? (?:is|are|was|were|has|have|had|remains)\b"
)
_ITS = re.compile(r"^Its\b")
#: The field a record opens with, naming what its other fields describe.
_HEAD_FIELDS = (
    "product|item|name|project|client|customer|company|organisation|organization|employee|patient|"
    "ticket|asset|account|service|vendor|supplier|property|venue|event|course|team|member|contact"
)
_RECORD_HEAD = re.compile(rf"^(?:{_HEAD_FIELDS})\s*:\s*(?P<thing>[^.;:]{{2,80}}?)\s*[.;]?$", re.IGNORECASE)
_FIELD = re.compile(r"^(?P<field>[A-Z][a-z][\w /-]{0,30}):\s+(?P<value>\S.*)$")


class Referents:
    """Reads one turn's sentences in order and writes back what each leaves to the one before."""

    def __init__(self) -> None:
        self._named: str | None = None  # the thing the last sentence named first
        self._record: str | None = None  # the thing the record's head field named

    def resolve(self, sentence: str) -> str:
        """``sentence`` with its "Its" or its bare field made explicit."""
        if head := _RECORD_HEAD.match(sentence):
            self._record, self._named = head["thing"].strip(), None
            return sentence
        if self._record is not None and (field := _FIELD.match(sentence)):
            return f"{self._record} - {field['field'].lower()}: {field['value']}"
        self._record = None
        if self._named is not None and _ITS.match(sentence):
            return f"{self._named}'s{sentence[3:]}"  # the article goes on about the same thing
        named = _NAMED_FIRST.match(sentence)
        self._named = named["name"] if named else None
        return sentence
