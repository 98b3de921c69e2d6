"""Quarantine: what a write looks like an attack is kept, but not shown, until a person decides.

Nothing an agent is sent is lost, so a flagged message is stored like any other, with its
derived units; the flag (``metadata["quarantine"]``: the reasons, and when) keeps all of them out
of ``search``, ``context`` and ``answer``, and out of reconciliation, so a flagged statement never
closes a true one. ``Memory.quarantined`` lists what waits for review; ``Memory.review`` approves
(the flag goes, the unit is read again) or rejects (the unit is deleted); both are versions in
its ``history``.

Two kinds of write are flagged here: a message that addresses the model (``guard.injection``)
and a flood, one statement said ``FLOOD_REPEATS`` times or more in one write, or one new name
pressed in most of one speaker's turns of a write (``guard.flood``): repetition is how a false
claim is made to outrank the true one.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ..ingest.keys import dedupe_key
from ..model import Lesson, MemoryUnit
from .flood import flooded_turns, pressing_held
from .injection import injection_marks
from .lessons import recognised

__all__ = [
    "FLOOD_REPEATS",
    "QUARANTINE",
    "flagged",
    "flagged_as_their_turns",
    "held_apart",
    "held_reasons",
    "quarantined",
    "reasons_held",
    "reviewed",
    "screen",
    "turns_of_held",
]

#: The metadata key of the flag.
QUARANTINE = "quarantine"
#: The metadata key of a review's decision, kept after the flag goes.
REVIEW = "review"
#: How many times one speaker may say one statement in one write before it is a flood.
FLOOD_REPEATS = 5


def quarantined(unit: MemoryUnit) -> bool:
    """Whether ``unit`` waits for review, out of every read but ``get``, ``list`` and review."""
    return QUARANTINE in unit.metadata


def reasons_held(unit: MemoryUnit) -> list[str]:
    """Why ``unit`` waits for review; empty when it does not."""
    return list(unit.metadata.get(QUARANTINE, {}).get("reasons", []))


def held_apart(units: Sequence[MemoryUnit]) -> tuple[list[MemoryUnit], list[MemoryUnit]]:
    """``units`` that may be reconciled, and those waiting for review, which replace nothing."""
    return [u for u in units if not quarantined(u)], [u for u in units if quarantined(u)]


def flagged(unit: MemoryUnit, reasons: Sequence[str], at: datetime) -> MemoryUnit:
    """``unit`` with the flag; reasons join any it already has."""
    reasons = list(dict.fromkeys([*reasons_held(unit), *reasons]))
    return dataclasses.replace(
        unit, metadata={**unit.metadata, QUARANTINE: {"reasons": reasons, "at": at.isoformat()}}
    )


def reviewed(unit: MemoryUnit, *, approve: bool, at: datetime) -> dict[str, Any]:
    """The metadata of ``unit`` after a review: the flag goes, the decision and its reasons stay."""
    metadata = {k: v for k, v in unit.metadata.items() if k != QUARANTINE}
    metadata[REVIEW] = {
        "decision": "approved" if approve else "rejected",
        "at": at.isoformat(),
        "reasons": reasons_held(unit),
    }
    return metadata


def screen(
    turns: Sequence[MemoryUnit],
    derived: Sequence[MemoryUnit],
    at: datetime,
    lessons: Sequence[Lesson] = (),
    said_before: Callable[[list[str]], set[str]] = set,
) -> tuple[list[MemoryUnit], list[MemoryUnit]]:
    """``turns`` and ``derived`` with the flag on each message that addresses the model, is part
    of a flood or repeats an attack a person rejected (``lessons``), and on what was derived from
    it. ``said_before`` tells which of some words the user's memory holds already (``flood.said_before``):
    a name it holds is no new value pressed. Without it every word counts as held, and only a
    statement said again in the same words makes a flood."""
    reasons = {t.id: injection_marks(t.text) + recognised(t.text, lessons) for t in turns}
    flood = f"a flood: one statement said {FLOOD_REPEATS} or more times in one write"
    sent = Counter((t.speaker, dedupe_key(t.text)) for t in turns)
    said: Counter[tuple[str | None, str]] = Counter()
    for unit in derived:  # a statement said in several turns of one write is one unit already
        said[(unit.speaker, dedupe_key(unit.text))] += len(unit.derived_from)
    flooded = {t.id for t in turns if sent[(t.speaker, dedupe_key(t.text))] >= FLOOD_REPEATS} | {
        turn_id
        for unit in derived
        if said[(unit.speaker, dedupe_key(unit.text))] >= FLOOD_REPEATS
        for turn_id in unit.derived_from
    }
    for turn_id in flooded & reasons.keys():
        reasons[turn_id].append(flood)
    for turn_id, word in flooded_turns(turns, FLOOD_REPEATS, said_before).items():
        if turn_id not in flooded:
            reasons[turn_id].append(f"a flood: the new name '{word}' pressed in most turns of one write")
    held = {turn_id for turn_id, why in reasons.items() if why}
    for turn_id, word in pressing_held(turns, held, said_before).items():
        reasons[turn_id].append(f"presses '{word}', the new name of a message held in the same write")
    return (
        [flagged(t, reasons[t.id], at) if reasons[t.id] else t for t in turns],
        flagged_as_their_turns(derived, reasons, at),
    )


def flagged_as_their_turns(
    units: Sequence[MemoryUnit], reasons: dict[str, list[str]], at: datetime
) -> list[MemoryUnit]:
    """Each of ``units`` with the flag of the turns it came from (``reasons`` by turn id)."""
    flagged_units: list[MemoryUnit] = []
    for unit in units:
        why = list(dict.fromkeys(r for turn_id in unit.derived_from for r in reasons.get(turn_id, [])))
        flagged_units.append(flagged(unit, why, at) if why else unit)
    return flagged_units


def held_reasons(units: Sequence[MemoryUnit]) -> dict[str, list[str]]:
    """Why each of ``units`` that waits for review is held, by id."""
    return {u.id: reasons_held(u) for u in units if quarantined(u)}


def turns_of_held(
    turns: Sequence[MemoryUnit], derived: Sequence[MemoryUnit], at: datetime
) -> list[MemoryUnit]:
    """``turns`` with the flag of any unit derived from them: a message that says what was held
    back (an assistant's claim against the user's word) would say it again in ``context``."""
    reasons: dict[str, list[str]] = {}
    for unit in derived:
        for turn_id in unit.derived_from:
            reasons.setdefault(turn_id, []).extend(reasons_held(unit))
    return [flagged(t, reasons[t.id], at) if reasons.get(t.id) else t for t in turns]
