"""What each index sees of a unit: the dense model's text, BM25's text, and the words said before.

Written once here, for adds, rebuilds, updates and the reindexing a deleted turn's neighbour needs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from ..dates import format_date
from ..model import MemoryUnit
from ..retrieve.query import without_names
from .names import is_role_label
from .reconcile import marker_words


def preceding_texts(turns: Sequence[MemoryUnit]) -> dict[str, str]:
    """Map each turn of one session (in order) to the text of the turn before it."""
    return {turn.id: embed_text(prev) for prev, turn in itertools.pairwise(turns)}


def preceding(unit: MemoryUnit, before: dict[str, str]) -> str:
    """What was said before a turn, or before the turn a derived unit comes from."""
    turn_id = unit.derived_from[0] if unit.derived_from else unit.id
    return before.get(turn_id, "")


def embed_text(unit: MemoryUnit) -> str:
    """What the dense model sees: the speaker once, then what was said."""
    unnamed = unnamed_text(unit)
    return f"{unit.speaker}: {unnamed}" if unit.speaker else unnamed


def lexical_text(unit: MemoryUnit) -> str:
    """What BM25 sees: the text, who said it, and the date it happened (for "when" questions).

    A derived unit names its speaker wherever the turn said "I"; for matching, the name counts
    once, or every unit of a talkative speaker would outrank the one that answers.
    """
    parts = [unnamed_text(unit)]
    if unit.speaker:
        parts.append(unit.speaker)
    if unit.occurred_at is not None:
        parts.append(format_date(unit.occurred_at))
    return " ".join(parts + marker_words(unit))


def unnamed_text(unit: MemoryUnit) -> str:
    """The unit's text without its speaker's name (and the possessive after it)."""
    # "The user lives in Paris" keeps its subject: a role is no name the speaker channel carries.
    if unit.speaker and not is_role_label(unit.speaker):
        return without_names(unit.text, [unit.speaker])
    return unit.text
