"""Lexical answer metrics: token F1 and BLEU-1 against a gold answer, and the abstention check.

Normalisation follows LoCoMo's ``task_eval/evaluation.py`` (snap-research/locomo): commas dropped,
lower case, punctuation stripped, the words "a", "an", "the" and "and" removed, whitespace
collapsed. Unlike that script, words are not Porter-stemmed (it would need nltk) and multi-hop
answers are not split on commas, so the figures are close to, not identical with, the paper's.
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter

__all__ = ["bleu1", "normalize_answer", "says_not_mentioned", "token_f1"]

_ARTICLES = re.compile(r"\b(a|an|the|and)\b")
_PUNCTUATION = str.maketrans("", "", string.punctuation)
#: What LoCoMo accepts as the answer to an adversarial (category 5) question.
_NOT_MENTIONED = ("not mentioned", "no information available")


def normalize_answer(text: str) -> str:
    """Lower-case ``text`` and strip commas, punctuation, articles and extra whitespace."""
    text = text.replace(",", "").lower().translate(_PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def token_f1(prediction: str, gold: str) -> float:
    """Harmonic mean of token precision and recall (multiset overlap); 0.0 when nothing overlaps."""
    predicted, wanted = _tokens(prediction), _tokens(gold)
    same = sum((Counter(predicted) & Counter(wanted)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(predicted), same / len(wanted)
    return 2 * precision * recall / (precision + recall)


def bleu1(prediction: str, gold: str) -> float:
    """BLEU with unigrams only: clipped unigram precision times the brevity penalty.

    The penalty is ``exp(1 - r/c)`` when the prediction (``c`` tokens) is shorter than the gold
    answer (``r`` tokens), else 1, as in Papineni et al. (2002) for one reference.
    """
    predicted, wanted = _tokens(prediction), _tokens(gold)
    if not predicted or not wanted:
        return 0.0
    clipped = sum((Counter(predicted) & Counter(wanted)).values())
    penalty = 1.0 if len(predicted) > len(wanted) else math.exp(1 - len(wanted) / len(predicted))
    return penalty * clipped / len(predicted)


def says_not_mentioned(text: str) -> bool:
    """Whether an answer declines, in the words LoCoMo's scorer looks for."""
    lowered = text.lower()
    return any(phrase in lowered for phrase in _NOT_MENTIONED)
