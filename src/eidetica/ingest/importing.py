"""Storing a parsed file batch by batch, tallied into one report: ``Memory`` and ``Client`` alike.

Both validate the whole file first (``read_file``), then hand over batches that are each stored in
one transaction, so an interrupted import keeps every finished batch and a re-run skips them.
They differ only in how a batch is cut and where it is stored (locally, or by a server).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence

from ..errors import UsageError
from ..model import AddResult, ImportReport, TurnInput
from .formats import ParsedFile

#: Users a refusal names before it summarises the rest.
SHOWN_OWNERS = 3


def owned_by(parsed: ParsedFile, user_id: str | None) -> ParsedFile:
    """``parsed`` with its turns given to ``user_id`` when the caller named one.

    A file that names its own user (a LoCoMo sample) goes to the caller's user instead; one that
    names several is refused, since their turn ids would collide in one user's memory.
    """
    if user_id is None:
        return parsed
    owners = list(dict.fromkeys(t.user_id for t in parsed.turns if t.user_id is not None))
    if len(owners) > 1:
        shown = ", ".join(owners[:SHOWN_OWNERS]) + (", ..." if len(owners) > SHOWN_OWNERS else "")
        raise UsageError(
            f"this file holds the conversations of {len(owners)} users ({shown}), each imported "
            f"as its own user: import it without a user id, or split it to give each one yours"
        )
    if not owners:
        return parsed
    return dataclasses.replace(parsed, turns=[dataclasses.replace(t, user_id=None) for t in parsed.turns])


def store_batches(
    parsed: ParsedFile,
    batches: Iterable[Sequence[TurnInput]],
    store: Callable[[Sequence[TurnInput]], AddResult],
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Store each of ``batches`` (cut from ``parsed.turns``, in order) and report the totals."""
    total = len(parsed.turns)
    done = turns = derived = skipped = 0
    warnings: dict[str, None] = {}
    for batch in batches:
        result = store(batch)
        warnings.update(dict.fromkeys(result.warnings))
        turns += len(result.turns)
        derived += len(result.derived)
        skipped += len(result.skipped_refs)
        done += len(batch)
        if progress is not None:
            progress(done, total)
    return ImportReport(turns, derived, skipped, [str(e) for e in parsed.errors], list(warnings))
