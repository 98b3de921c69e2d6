"""Cutting text into sentences, and a long text into passages of whole sentences.

A passage is a verbatim run of sentences short enough to pack into a small budget: a long turn
is found and shown a passage at a time, while the turn itself stays whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import islice
from math import ceil

from ..model import LONG_TURN_WORDS

__all__ = ["PASSAGE_MAX_WORDS", "PASSAGE_TURN_WORDS", "passage_spans", "passages", "split_sentences"]

PASSAGE_TURN_WORDS = LONG_TURN_WORDS  # a turn longer than this is also kept as passages
PASSAGE_MAX_WORDS = 60  # small enough to pack several into a small budget, long enough to keep context
MAX_PASSAGES_PER_TURN = 1000  # 60,000 words; the rest of a longer turn is reported, not cut up

#: An emoji ends a sentence in chat when a question follows it: "my sister moved to Auckland 😩
#: whats the best time for calls?" states a move and asks a question.
_EMOJI_BEFORE_QUESTION = (
    r"[\u2600-\u27bf\U0001f000-\U0001faff][\ufe0f\u200d\u2600-\u27bf\U0001f000-\U0001faff]*"
    r"(?=\s+(?i:what|whats|what's|how|any|is|are|can|could|should|do|does|did|why|when|where|who|which|"
    r"would|will)\b)"
)
_BOUNDARY_RE = re.compile(rf"[.!?…]+[\"'”’)\]]*(?=\s|$)|\n|{_EMOJI_BEFORE_QUESTION}")
_ABBREV_RE = re.compile(
    r"(?<![\w.])(?:dr|mr|mrs|ms|prof|st|jr|sr|mt|vs|e\.g|i\.e|[b-hj-z])\.$", re.IGNORECASE
)
_NONSPACE_RE = re.compile(r"\S+")


def _sentence_spans(text: str) -> Iterator[tuple[int, int]]:
    """Yield (start, end) of each sentence of ``text``, without the whitespace around it."""
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        end = m.end()
        if m.group() == "." and _ABBREV_RE.search(text, max(start, end - 6), end):
            continue
        yield from _stripped_span(text, start, end)
        start = end
    yield from _stripped_span(text, start, len(text))


def _stripped_span(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    piece = text[start:end]
    core = piece.strip()
    if core:
        first = start + piece.index(core[0])
        yield first, first + len(core)


def split_sentences(text: str) -> Iterator[str]:
    """Yield the sentences of ``text``: cut at . ! ? and newlines, not after "Dr." or in "3.5"."""
    for start, end in _sentence_spans(text):
        yield text[start:end]


def _word_spans(text: str, start: int, end: int, max_words: int) -> Iterator[tuple[int, int, int]]:
    """Cut ``text[start:end]`` (one overlong sentence) into even runs of at most ``max_words`` words."""
    total = len(text[start:end].split())
    size = ceil(total / ceil(total / max_words))
    words = _NONSPACE_RE.finditer(text, start, end)
    while chunk := list(islice(words, size)):
        yield chunk[0].start(), chunk[-1].end(), len(chunk)


def passage_spans(text: str, max_words: int) -> Iterator[tuple[int, int, int]]:
    """Yield (start, end, words) of consecutive passages of whole sentences covering ``text``.

    Passages are balanced (a 130-word text gives two of about 65 words, not 100 and 30) and never
    longer than ``max_words``; only a sentence longer than that is cut, between words.
    """
    left = len(text.split())
    target = first = last = count = 0
    for start, end in _sentence_spans(text):
        if not count:  # aim at an even share of what is left
            target = ceil(left / ceil(left / max_words))
        words = len(text[start:end].split())
        if count and count + words > target:
            yield first, last, count
            left -= count
            count, target = 0, ceil(left / ceil(left / max_words))
        if words > max_words:
            yield from _word_spans(text, start, end, max_words)
            left -= words
            continue
        if not count:
            first = start
        last, count = end, count + words
    if count:
        yield first, last, count


def passages(text: str, max_words: int = PASSAGE_MAX_WORDS) -> list[str]:
    """Cut ``text`` into verbatim passages of whole sentences, each at most ``max_words`` words.

    Together they hold every word of ``text`` in order, so a long turn can be found and packed into
    a prompt one passage at a time.
    """
    return [text[start:end] for start, end, _ in passage_spans(text, max(1, max_words))]
