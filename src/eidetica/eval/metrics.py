"""Retrieval metrics computed from what a context actually holds."""

from __future__ import annotations

import re

from ..model import Context
from ..retrieve.query import STOPWORDS

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def content_words(text: str) -> set[str]:
    """Lower-cased words that carry meaning (no stop words)."""
    return {w for w in (m.lower() for m in _WORD.findall(text)) if w not in STOPWORDS}


def evidence_recall(ctx: Context, evidence: frozenset[str]) -> float:
    """Share of the evidence turns named in the ``sources`` of the packed hits."""
    covered = {source for hit in ctx.hits for source in hit.sources}
    return len(evidence & covered) / len(evidence)


def answer_word_recall(ctx: Context, answer: str) -> float | None:
    """Share of the gold answer's content words present in the context text (None: no words).

    Guards against a context that covers evidence ids without carrying what they say.
    """
    wanted = content_words(answer)
    if not wanted:
        return None
    return len(wanted & content_words(ctx.text)) / len(wanted)
