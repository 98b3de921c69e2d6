"""Storing a parsed file batch by batch, tallied into one report: ``Memory`` and ``Client`` alike.

Both validate the whole file first (``read_file``), then hand over batches that are each stored in
one transaction, so an interrupted import keeps every finished batch and a re-run skips them.
They differ only in how a batch is cut and where it is stored (locally, or by a server).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from ..model import AddResult, ImportReport, TurnInput
from .formats import ParsedFile


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
