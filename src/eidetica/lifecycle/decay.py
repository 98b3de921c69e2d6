"""Forgetting that archives: each unit's retention on MemoryBank's forgetting curve.

A unit's retention is ``R = exp(-t / S)`` (Ebbinghaus, as MemoryBank uses it):

- ``t`` is the time since the unit was last *used*: said, said again (a mention), or recalled
  (returned by ``search``, packed into a ``context``, cited by an ``answer``);
- ``S``, its stability, is ``stability_days`` for a unit used once and grows by as much again
  with each further use, as MemoryBank adds one to ``S`` at each recall and starts ``t`` again.
  A current fact's stability is ``fact_weight`` times longer: it is what memory knows, where a
  turn or an event is what happened once.

A unit whose retention falls below ``threshold`` is archived (``Memory.maintain``): kept, with
its vector and index entries, out of every read unless asked for (``include_archived=True``),
and restored when it is said again or asked for (``Memory.restore``). Nothing is archived that
is younger than ``min_age_days``, waits for review, or is pinned (``metadata["pinned"]`` true).

With the defaults a turn said once and never recalled is archived after about nine months, a
fact after about three years; each use moves that further away. Nothing fades on its own:
``maintain`` runs when it is called.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from ..dates import parse_timestamp
from ..errors import UsageError
from ..guard.quarantine import quarantined
from ..metadata import MENTIONED, RECALLED, times_said
from ..model import MemoryUnit

__all__ = ["Decay", "fading", "last_used", "retention", "uses"]

_DAY = 86_400.0


@dataclass(frozen=True)
class Decay:
    """How fast memory fades (see the module docstring)."""

    #: Days until a unit used once has faded to 1/e of its strength.
    stability_days: float = 90.0
    #: Retention below which a unit is archived: 0.05 is three stabilities without a use.
    threshold: float = 0.05
    #: How many times longer a current fact lasts than a turn or an event.
    fact_weight: float = 4.0
    #: Nothing younger than this is archived, whatever its retention.
    min_age_days: float = 30.0

    def __post_init__(self) -> None:
        if not (self.stability_days > 0 and self.fact_weight > 0 and self.min_age_days >= 0):
            raise UsageError("decay stability_days and fact_weight must be above 0, min_age_days at least 0")
        if not 0 < self.threshold < 1:
            raise UsageError(f"decay threshold must be between 0 and 1, not {self.threshold}")


def uses(unit: MemoryUnit) -> int:
    """How many times ``unit`` was used: said (and said again), and recalled."""
    recalled = unit.metadata.get(RECALLED) or {}
    return times_said(unit.metadata) + int(recalled.get("times", 0))


def last_used(unit: MemoryUnit) -> datetime:
    """When ``unit`` was last said, said again or recalled."""
    moments = [unit.occurred_at or unit.recorded_at]
    recalled = unit.metadata.get(RECALLED) or {}
    for value in (unit.metadata.get(MENTIONED), recalled.get("last")):
        if isinstance(value, str):
            moments.append(parse_timestamp(value))
    return max(moments)


def retention(unit: MemoryUnit, now: datetime, decay: Decay) -> float:
    """How much of ``unit`` memory still holds at ``now``, from 1 (just used) towards 0."""
    stability = decay.stability_days * uses(unit)
    if unit.kind == "fact" and unit.valid_to is None:
        stability *= decay.fact_weight
    idle_days = max((now - last_used(unit)).total_seconds(), 0.0) / _DAY
    return math.exp(-idle_days / stability)


def fading(units: Iterable[MemoryUnit], now: datetime, decay: Decay) -> list[tuple[MemoryUnit, float]]:
    """The active ``units`` to archive at ``now``, each with its retention."""
    found = []
    for unit in units:
        if unit.status != "active" or quarantined(unit) or unit.metadata.get("pinned") is True:
            continue
        age_days = (now - (unit.occurred_at or unit.recorded_at)).total_seconds() / _DAY
        if age_days < decay.min_age_days:
            continue
        if (kept := retention(unit, now, decay)) < decay.threshold:
            found.append((unit, kept))
    return found
