"""Pack hits into a token budget: best first, no unit twice, no fact beside the turn it came from.

A derived unit and its source turn carry the same information, so whichever ranks higher takes the
budget and the other is skipped; exact duplicate texts are skipped too. Lines that do not fit are
passed over so a smaller, lower-ranked line can still use the remaining budget.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..ingest.timeparse import format_date
from ..model import Context, Hit, MemoryUnit
from ..tokens import TokenCounter

#: No rendered line (date, speaker and a few words) is shorter; below this the budget is full.
MIN_LINE_TOKENS = 8


def render(unit: MemoryUnit) -> str:
    """One context line: the date it happened (or was said), who said it, and the text."""
    moment = unit.occurred_at or unit.valid_from
    date = f"[{format_date(moment)}] " if moment else ""
    who = f"{unit.speaker}: " if unit.kind == "turn" and unit.speaker else ""
    return f"{date}{who}{unit.text}"


def pack(hits: Sequence[Hit], counter: TokenCounter, budget_tokens: int) -> Context:
    """Choose hits greedily by score until the budget is full; render them in time order."""
    chosen: list[tuple[Hit, str]] = []
    covered: set[str] = set()  # ids of packed units and of the turns/derivations they stand for
    seen_text: set[str] = set()
    used = 0
    for hit in hits:
        if budget_tokens - used < MIN_LINE_TOKENS:
            break
        unit = hit.unit
        if unit.id in covered or unit.text.strip().lower() in seen_text:
            continue
        if unit.derived_from and all(src in covered for src in unit.derived_from):
            continue
        line = render(unit)
        cost = counter.count(line) + 1  # + the newline between lines
        if used + cost > budget_tokens:
            continue
        used += cost
        chosen.append((hit, line))
        covered.add(unit.id)
        covered.update(unit.derived_from)
        seen_text.add(unit.text.strip().lower())
    ordered = sorted(chosen, key=lambda pair: _time_key(pair[0].unit))
    text = "\n".join(line for _, line in ordered)
    hits_out = [h for h, _ in chosen]
    return Context(
        text=text,
        hits=hits_out,
        tokens=counter.count(text) if text else 0,
        budget_tokens=budget_tokens,
    )


def _time_key(unit: MemoryUnit) -> tuple[float, str]:
    moment = unit.occurred_at or unit.recorded_at
    return (moment.timestamp(), unit.id)
