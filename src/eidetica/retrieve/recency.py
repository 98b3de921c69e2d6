"""Current first where the rules could not tell: of two matching statements about the same thing
by the same speaker, the newer ranks first for a question about now.

Reconciliation closes what it recognises as replaced (``ingest.claims``); everything else stays
current, so "I do my shopping at Lidl" and, later, "Switched to getting groceries delivered from
Ocado" both hold as far as memory knows. For a question in the present tense the later one is the
likelier answer, so it is lifted just above the earlier; both stay in the results. Two statements
count as rivals when they share at least two content words, half of the shorter one's, and one of
the question's; when both are facts or events (short, about one thing) sharing a word of the
question; or when both name the attribute the question asks about, each in words of its own
(``lexicon``: "Who is my babysitter?" makes rivals of "Our babysitter Claudia comes Tuesdays" and
"the sitter left, so Beatriz is covering the afternoons"). A question about the past ("did", "was",
"used to", a year) is left alone.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from datetime import datetime

from ..lexicon import attribute_of
from ..model import MemoryUnit
from .confidence import stem
from .query import lexical_terms

#: How many of the best candidates are compared pairwise.
RIVALS_CONSIDERED = 20

_ABOUT_THE_PAST = re.compile(
    r"\b(?:did|was|were|had|used to|before|previously|originally|first|ago|last (?:year|month|week)|"
    r"(?:19|20)\d\d)\b",
    re.IGNORECASE,
)


def rivals(
    query: str,
    candidates: Iterable[MemoryUnit],
    fused: dict[str, float],
    question_stems: frozenset[str],
    as_of: datetime | None,
    asked: frozenset[str] = frozenset(),
) -> list[tuple[MemoryUnit, MemoryUnit]]:
    """The pairs (older, newer) of rival statements among the best candidates still holding, for
    a question about now (none for a question about the past). ``asked`` adds attributes the
    question asks for in words of its own ("How does Pedro get to work?" asks how he travels)."""
    if _ABOUT_THE_PAST.search(query):
        return []
    ranked = sorted(
        (u for u in candidates if u.id in fused and (u.valid_to is None or (as_of and u.valid_to > as_of))),
        key=lambda u: fused[u.id],
        reverse=True,
    )[:RIVALS_CONSIDERED]
    words = {u.id: content_stems(u) for u in ranked}
    wanted = attributes_named(question_stems) | asked
    attributes = {u.id: attributes_named(words[u.id]) & wanted for u in ranked} if wanted else {}
    pairs: list[tuple[MemoryUnit, MemoryUnit]] = []
    for a, b in itertools.combinations(ranked, 2):  # a ranks above b
        older, newer = (a, b) if a.holds_from < b.holds_from else (b, a)
        if older.holds_from == newer.holds_from or a.speaker != b.speaker or _related(a, b):
            continue
        shared = words[a.id] & words[b.id]
        if (
            (
                len(shared) >= 2
                and len(shared) * 2 >= min(len(words[a.id]), len(words[b.id]))
                and shared & question_stems
            )
            or (wanted and attributes[a.id] & attributes[b.id])
            or (shared & question_stems and _statements(a, b))
        ):
            pairs.append((older, newer))
    return _closed(pairs)


def _closed(pairs: list[tuple[MemoryUnit, MemoryUnit]]) -> list[tuple[MemoryUnit, MemoryUnit]]:
    """Rivalry made transitive: two statements that are each a rival of a third are rivals of
    each other ("report to Pieter now" and "Siobhan took over the team" both replace "My manager
    Olga"), so a chain of three values ranks newest first."""
    group: dict[str, str] = {}

    def root(uid: str) -> str:
        while group.get(uid, uid) != uid:
            uid = group[uid]
        return uid

    units: dict[str, MemoryUnit] = {}
    for older, newer in pairs:
        units[older.id], units[newer.id] = older, newer
        group[root(older.id)] = root(newer.id)
    members: dict[str, list[MemoryUnit]] = {}
    for uid, unit in units.items():
        members.setdefault(root(uid), []).append(unit)
    closed: list[tuple[MemoryUnit, MemoryUnit]] = []
    for rivals_ in members.values():
        in_time = sorted(rivals_, key=lambda unit: unit.holds_from)
        closed += [(a, b) for a, b in itertools.combinations(in_time, 2) if a.holds_from < b.holds_from]
    return closed


def newer_first(pairs: Iterable[tuple[MemoryUnit, MemoryUnit]], fused: dict[str, float]) -> dict[str, float]:
    """How much to add to each newer rival's score so it ranks just above every older one, the
    newest of a chain first."""
    scores = dict(fused)
    for older, newer in sorted(pairs, key=lambda pair: (pair[1].holds_from, pair[0].holds_from)):
        if scores[older.id] >= scores[newer.id]:
            scores[newer.id] = scores[older.id] + 1e-6
    return {uid: scores[uid] - fused[uid] for uid in scores if scores[uid] > fused[uid]}


def content_stems(unit: MemoryUnit) -> set[str]:
    """The stems of a unit's words, its speaker's name left out."""
    names = {stem(part) for part in (unit.speaker or "").split()}
    return {stem(w) for w in lexical_terms(unit.text)} - names


def _statements(*units: MemoryUnit) -> bool:
    """Whether each is a statement drawn from what was said (a fact or an event): short and about
    one thing, so one word of the question both name makes them rivals ("Zoe switched Biscuit to
    Orijen", "Biscuit is on Farmina now" for "What does Biscuit eat?"). A turn says more."""
    return all(unit.kind in ("fact", "event") for unit in units)


def attributes_named(stems: Iterable[str]) -> set[str]:
    """The attributes of the lexicon these word stems name ("live" names "home")."""
    return {a for s in stems if (a := attribute_of(s)) is not None}


def _related(a: MemoryUnit, b: MemoryUnit) -> bool:
    """A turn and what was derived from it say one thing, not two."""
    return a.id in b.derived_from or b.id in a.derived_from or bool(set(a.derived_from) & set(b.derived_from))
