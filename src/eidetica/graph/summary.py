"""A session's summary: its most central current statements, in the order they were said.

Extractive and computed when asked, so it always quotes what memory holds now (a superseded or
deleted statement is no candidate) and can be rebuilt from the turns like every derived unit.
Each fact and event of the session scores by how much of the session it shares words with (the
topic a session keeps returning to), with a bonus for an event (something happened) and for
naming someone or somewhere beyond the speakers; the best fill the token budget, then they are
put back in time order under their day.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from ..dates import format_date
from ..model import MemoryUnit
from ..retrieve.query import lexical_terms
from ..tokens import TokenCounter

__all__ = ["EVENT_BONUS", "NAMED_BONUS", "SUMMARY_SCAN", "summarise"]

#: The most facts and events of one session a summary reads (the first said).
SUMMARY_SCAN = 5000

#: What an event or a named entity adds to a statement's share of the session's words.
EVENT_BONUS = 0.25
NAMED_BONUS = 0.25
_CAPTION = re.compile(r"^\[")


def summarise(
    units: Sequence[MemoryUnit], counter: TokenCounter, budget_tokens: int
) -> tuple[str, list[MemoryUnit]]:
    """The summary text of one session's units and the units it quotes, within ``budget_tokens``."""
    candidates = [u for u in units if u.valid_to is None and not _CAPTION.match(u.text)]
    words = {u.id: set(lexical_terms(u.text)) for u in candidates}
    spread = Counter(w for terms in words.values() for w in terms)
    speakers = {u.speaker.lower() for u in candidates if u.speaker}

    def score(unit: MemoryUnit) -> float:
        terms = words[unit.id]
        shared = sum(spread[w] - 1 for w in terms) / (len(terms) + 3)  # long lines do not win by length
        named = any(e not in speakers for e in unit.entities)
        return shared + EVENT_BONUS * (unit.kind == "event") + NAMED_BONUS * named

    order = {u.id: i for i, u in enumerate(units)}
    chosen: list[MemoryUnit] = []
    text = ""
    for unit in sorted(candidates, key=score, reverse=True):
        trial = sorted([*chosen, unit], key=lambda u: order[u.id])
        rendered = _render(trial)
        if counter.count(rendered) <= budget_tokens:
            chosen, text = trial, rendered
    return text, chosen


def _render(units: Sequence[MemoryUnit]) -> str:
    lines: list[str] = []
    day = None
    for unit in units:
        said = unit.valid_from or unit.occurred_at
        if said is not None and format_date(said) != day:
            day = format_date(said)
            lines.append(f"[{day}]")
        lines.append(unit.text)
    return "\n".join(lines)
