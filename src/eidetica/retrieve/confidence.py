"""Whether a hit is evidence at all: a question about something memory never held should get
"no relevant memory", not the nearest unrelated lines.

Fused scores cannot say it: reciprocal ranks are relative, so every query's best hit scores
alike. Two absolute signals can:

- **coverage**: the share of the question's content words (speakers it names aside: they are in
  half of all units) that the unit holds, compared by a light stem ("went"/"go" aside);
- **cosine**: the dense channel's similarity of the unit to the question.

A hit is confident when either clears its threshold. A hit is *related* when it is confident,
shares any word with the question, or is at least slightly similar to it: ``context`` returns a
small history whole unless nothing in it is related, since the model that reads it can tell a
kitten from pets better than these signals can. The thresholds were calibrated on the
LoCoMo dev conversations by ``benchmarks/abstention.py`` (see docs/retrieval.md, "Abstention"),
to give up less than 1% of the answerable questions: ``context`` then abstains on 0.8% of them,
and on 21% of the questions of another conversation asked about this one's speakers (a hard kind
of unanswerable question: the right people, the wrong life). Questions about what memory never
touched fare better. A question with no content word of its own ("What did Caroline do?") is
never refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..model import Hit, MemoryUnit
from .query import lexical_terms

#: A hit holding at least this share of the question's content words is confident.
MIN_COVERAGE = 0.5
#: A hit at least this similar to the question (cosine, dense channel) is confident.
MIN_COSINE = 0.25
#: A hit at least this similar to the question is related to it.
MIN_RELATED_COSINE = 0.15

_SUFFIX = re.compile(r"(?:ing|ings|ed|es|s|ly|er|ers|ies|y)$")
#: Words a question uses to ask, not to say what it is about.
_ASKING = frozenset("name names kind type thing things time times long often old new happen happened".split())


def stem(word: str) -> str:
    """A crude stem, applied alike to question and unit: enough to match "painting"/"paints",
    and "live"/"lives"/"lived" (a final "e" goes too, as the suffixes take it)."""
    word = word.lower().removesuffix("'s")
    if len(word) > 4:
        word = _SUFFIX.sub("", word)
    return word[:-1] if len(word) > 3 and word.endswith("e") else word


#: Idioms whose words say nothing of what they ask about: "what do I do for a living?" asks for
#: work named in any words ("head brewer at a craft brewery").
_IDIOMS = re.compile(r"\bfor a living\b", re.IGNORECASE)


def question_stems(question: str, names: Iterable[str]) -> frozenset[str]:
    """The stems of the question's content words, without the speakers it names."""
    question = _IDIOMS.sub(" ", question)
    named = {stem(part) for name in names for part in name.split()}
    return frozenset(
        s for s in (stem(w) for w in lexical_terms(question) if w not in _ASKING) if s not in named
    )


def coverage(stems: frozenset[str], unit: MemoryUnit) -> float:
    """The share of ``stems`` found in the unit's text (or its speaker's name)."""
    if not stems:
        return 1.0
    own = {stem(w) for w in lexical_terms(f"{unit.text} {unit.speaker or ''}")}
    return len(stems & own) / len(stems)


def confident(stems: frozenset[str], unit: MemoryUnit, scores: dict[str, float]) -> bool:
    """Whether a hit matches the question well enough to count as evidence."""
    return coverage(stems, unit) >= MIN_COVERAGE or scores.get("dense", 0.0) >= MIN_COSINE


def related(hit: Hit) -> bool:
    """Whether a hit has anything to do with the question at all (see the module docstring)."""
    return hit.confident or "lexical" in hit.scores or hit.scores.get("dense", 0.0) >= MIN_RELATED_COSINE
