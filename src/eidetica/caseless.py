"""Case-insensitive regular expressions that find "no match" fast.

Under ``re.IGNORECASE``, Python's ``re`` compares each letter of the text in every case, which
makes a long alternation of words ("instead|switched|swapped|...") three to five times slower
than the same pattern searched on lowercased text. The write path reads every statement with
dozens of such cue patterns, and most statements match none of them. A ``Caseless`` pattern first
searches the lowercased text with a lowercased copy of itself; only when that copy finds something
does the exact ``IGNORECASE`` pattern run, so every match, group and span is the exact pattern's.

The copy may find more than the exact pattern (a case-sensitive part, ``(?-i:[A-Z])``, reads
any letter in it), never less: a text it cannot read the same way lowered is left to the exact
pattern (see ``_lowered_finds``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

#: The characters that ``IGNORECASE`` matches with an ASCII letter although ``str.lower`` maps them
#: to none. "İ" lowers to two characters, which the length check catches.
_DOTLESS_I, _LONG_S = "ı", "ſ"
#: Escapes whose letters name a character, which lowering could change (``\x41`` is "A").
_CHARACTER_ESCAPES = re.compile(r"\\[xuUN0-7]")
_CLASS_OPENING = re.compile(r"\[\^?\]?")
_GROUP_OPENING = re.compile(r"\((?:\?P<\w+>|\?<?[!=:])?")


def _lowered_source(pattern: str) -> str:
    """``pattern`` for lowercased text: literal letters lowercased, escapes (``\\S``, ``\\W``) and
    group names kept, case-sensitive groups (``(?-i:...)``) read as plain groups, which then find
    more, never less; inside a negative lookaround they would find less, so one is refused there."""
    if _CHARACTER_ESCAPES.search(pattern) or "(?i" in pattern:
        raise ValueError(f"a caseless pattern names no character by code nor sets flags: {pattern!r}")
    out: list[str] = []
    negative: list[bool] = []  # per open group: whether it is, or is inside, a negative lookaround
    in_class = False
    i = 0
    while i < len(pattern):  # read in place: no copy of the pattern's rest per character
        char = pattern[i]
        if char == "\\":
            step, text = 2, pattern[i : i + 2]
        elif in_class:
            in_class = char != "]"
            step, text = 1, char.lower()
        elif char == "[":
            # A "]" first in a class ("[]...]", "[^]...]") is one of its characters.
            head = _CLASS_OPENING.match(pattern, i)
            assert head is not None
            in_class = True
            step, text = len(head[0]), head[0]
        elif pattern.startswith("(?P=", i):  # a backreference, no group
            step = pattern.index(")", i) + 1 - i
            text = pattern[i : i + step]
        elif pattern.startswith("(?-i:", i):
            if any(negative):
                raise ValueError(f"a case-sensitive group inside a negative lookaround: {pattern!r}")
            negative.append(False)
            step, text = 5, "(?:"
        elif char == "(":
            opening = _GROUP_OPENING.match(pattern, i)
            assert opening is not None
            if pattern.startswith("(?", i) and opening[0] == "(":
                raise ValueError(f"a caseless pattern uses no other extension (?...): {pattern!r}")
            negative.append(opening[0].endswith("!") or bool(negative and negative[-1]))
            step, text = len(opening[0]), opening[0]
        elif char == ")":
            negative.pop()
            step, text = 1, ")"
        else:
            step, text = 1, char.lower()
        out.append(text)
        i += step
    return "".join(out)


class Caseless:
    """A compiled ``IGNORECASE`` pattern with the methods the ingest rules use, each answering
    at once when the lowered copy finds nothing."""

    def __init__(self, pattern: str, *, needs: str | None = None) -> None:
        """``needs``, when given, is a pattern for the words every match holds ("promot" for
        "was promoted to" and "promotion to"): found in the lowered text in place of the lowered
        copy, which for a pattern with a long optional lead is nearly as slow as the exact one."""
        self.exact = re.compile(pattern, re.IGNORECASE)
        self._lowered = re.compile(_lowered_source(needs or pattern))
        #: Without case-sensitive groups the lowered copy finds exactly what the pattern finds.
        self._decisive = needs is None and "(?-i:" not in pattern
        #: The needed words may lie anywhere in a match that starts the text.
        self._anchorable = needs is None

    @property
    def pattern(self) -> str:
        return self.exact.pattern

    def _lowered_finds(self, text: str, anchored: bool = False) -> bool | None:
        """Whether the lowered copy finds something in ``text`` (at its start, ``anchored``); None
        for a text that does not read the same lowered."""
        lowered = text.lower()
        if len(lowered) != len(text) or _DOTLESS_I in text or _LONG_S in text:
            return None
        found = (
            self._lowered.match(lowered) if anchored and self._anchorable else self._lowered.search(lowered)
        )
        return found is not None

    def _may_match(self, text: str, anchored: bool = False) -> bool:
        return self._lowered_finds(text, anchored) is not False

    def finds(self, text: str) -> bool:
        """What ``search(text) is not None`` says, without the exact pattern where the lowered
        copy decides alone."""
        found = self._lowered_finds(text)
        if found is None or (found and not self._decisive):
            return self.exact.search(text) is not None
        return found

    def search(self, text: str) -> re.Match[str] | None:
        return self.exact.search(text) if self._may_match(text) else None

    def match(self, text: str) -> re.Match[str] | None:
        return self.exact.match(text) if self._may_match(text, anchored=True) else None

    def fullmatch(self, text: str) -> re.Match[str] | None:
        return self.exact.fullmatch(text) if self._may_match(text, anchored=True) else None

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.exact.finditer(text) if self._may_match(text) else iter(())

    def sub(self, replacement: str | Callable[[re.Match[str]], str], text: str) -> str:
        return self.exact.sub(replacement, text) if self._may_match(text) else text
