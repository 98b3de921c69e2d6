"""A session's summary: its most central current statements, in the order they were said, or
the configured model's summary of them (``llms.summary``).

Extractive and computed when asked, so it always quotes what memory holds now (a superseded or
deleted statement is no candidate) and can be rebuilt from the turns like every derived unit.
Each fact and event of the session scores by how much of the session it shares words with (the
topic a session keeps returning to), with a bonus for an event (something happened) and for
naming someone or somewhere beyond the speakers; the best fill the token budget, then they are
put back in time order under their day.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Sequence
from typing import Literal

from ..errors import NotFoundError
from ..llms.base import LLMClient
from ..llms.summary import write_summary
from ..model import MemoryUnit, Summary
from ..retrieve.pack import render_by_day, said_order
from ..retrieve.query import lexical_terms
from ..storage.base import Store, UnitFilter
from ..tokens import TokenCounter

__all__ = ["EVENT_BONUS", "NAMED_BONUS", "SUMMARY_SCAN", "session_summary", "summarise"]

#: The most facts and events of one session a summary reads (the first said).
SUMMARY_SCAN = 5000
#: A model writing the summary reads the session's most central statements, up to this many
#: times the summary's budget.
LLM_READS = 4

#: What an event or a named entity adds to a statement's share of the session's words.
EVENT_BONUS = 0.25
NAMED_BONUS = 0.25
_CAPTION = re.compile(r"^\[")


def session_summary(
    store: Store,
    where: UnitFilter,
    session_id: str,
    counter: TokenCounter,
    budget_tokens: int,
    llm: LLMClient | None = None,
) -> Summary:
    """The summary of the session ``session_id`` among the units ``where`` selects, written by
    ``llm`` when one is given and it succeeds; ``NotFoundError`` when the session holds none."""
    scope = dataclasses.replace(where.scope, session_id=session_id)
    if not store.count(dataclasses.replace(where, scope=scope, kinds=None), at_most=1):
        raise NotFoundError(f"no session {session_id!r} in this user's memory")
    session = dataclasses.replace(where, scope=scope, kinds=("fact", "event"))
    units = store.list_units(session, limit=SUMMARY_SCAN)
    text, quoted = summarise(units, counter, budget_tokens)
    written_by: Literal["rules", "llm"] = "rules"
    if llm is not None:
        _, shown = summarise(units, counter, budget_tokens * LLM_READS)
        written = write_summary(llm, shown, counter, budget_tokens)
        if written is not None:
            (text, quoted), written_by = written, "llm"
    return Summary(
        session_id=session_id,
        text=text,
        unit_ids=tuple(u.id for u in quoted),
        sources=tuple(dict.fromkeys(s for u in quoted for s in u.sources)),
        tokens=counter.count(text),
        budget_tokens=budget_tokens,
        written_by=written_by,
    )


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

    chosen: list[MemoryUnit] = []
    text = ""
    for unit in sorted(candidates, key=score, reverse=True):
        trial = sorted([*chosen, unit], key=said_order)
        rendered = render_by_day(trial)
        if counter.count(rendered) <= budget_tokens:
            chosen, text = trial, rendered
    return text, chosen
