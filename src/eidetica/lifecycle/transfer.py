"""Export a user's whole memory as JSON Lines, and import it back as it was.

An export is one JSON object a line:

- first, a header: ``{"type": "header", "format": "eidetica-export", "version": 1, "user_id": ...,
  "exported_at": ..., "embedder": ...}``;
- a ``unit`` line for every unit of the user, whatever its status (active, archived, deleted), in
  the order said: the unit as the REST API answers it, with its ``history``;
- an ``entity`` line for each entity and a ``relation`` line for each typed edge, for the readers
  of the file (a script, a graph tool). Both are read from the units, so an import makes them
  again and skips these lines.

An import writes each unit as it was: id, version, status, validity, sources, links (what it came
from, what it supersedes), metadata, and every history entry at its own time. Vectors and index
entries are made again with the importing memory's embedder, so an export moves between
embedders and backends. A unit whose id the store already holds is skipped, so importing one file
twice stores it once.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .. import wire
from ..embedders.base import Embedder
from ..errors import InputFormatError
from ..graph.entities import entities, relations
from ..graph.graphml import graphml
from ..guard.quarantine import QUARANTINE
from ..ingest.formats import EXPORT_FORMAT, is_export_header
from ..ingest.index_texts import preceding_texts
from ..ingest.write import rows_to_store
from ..model import HistoryEntry, ImportReport, MemoryUnit, Scope
from ..storage import NewUnit, Store, UnitFilter

EXPORT_VERSION = 1
#: Units read from the store, or written to it, at a time.
BATCH = 500

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: units (every status), entities and relations."""

    units: int
    entities: int
    relations: int


def export_records(
    store: Store, owner: Scope, embedder: str, progress: Progress | None = None
) -> Iterator[dict[str, Any]]:
    """The export of ``owner``'s memory, a record per line to be."""
    everything = UnitFilter(owner, include_archived=True)
    total = store.count(everything) + store.stats(owner.tenant, owner.user_id).deleted
    header = {
        "type": "header",
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "user_id": owner.user_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "embedder": embedder,
    }
    yield header
    listed = replace(everything, include_deleted=True)
    done = 0
    while page := store.list_units(listed, limit=BATCH, offset=done):
        for unit in page:
            history = store.history(unit.id, tenant=owner.tenant, user_id=owner.user_id)
            yield {"type": "unit", **wire.to_wire(unit), "history": wire.to_wire(history)}
        done += len(page)
        if progress is not None:
            progress(done, max(total, done))
    # What memory's organisation reads (``Memory.entities``): facts and events not held for review.
    mentioning = UnitFilter(owner, kinds=("fact", "event"), without_flag=QUARANTINE)
    found = entities(store, mentioning)
    for entity in found:
        yield {"type": "entity", **wire.to_wire(entity)}
    keys = [key for e in found for key in (e.key, *e.aliases)]
    for relation in relations(store.list_units(mentioning), keys):
        yield {"type": "relation", **wire.to_wire(relation)}


def write_export(records: Iterable[dict[str, Any]], out: TextIO) -> ExportReport:
    """Write ``records`` (from ``export_records``) to ``out``, one JSON a line; count them."""
    counts: Counter[str] = Counter()
    for record in records:
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        counts[record["type"]] += 1
    return _report(counts)


def write_graph(records: Iterable[dict[str, Any]], out: TextIO) -> ExportReport:
    """Write the graph of ``records`` (from ``export_records``) to ``out`` as GraphML; count them."""
    kept = list(records)
    out.write(graphml(kept))
    return _report(Counter(r["type"] for r in kept))


def _report(counts: Counter[str]) -> ExportReport:
    return ExportReport(counts["unit"], counts["entity"], counts["relation"])


def is_export(path: Path) -> bool:
    """Whether ``path`` starts with an export's header line."""
    try:
        with path.open("rb") as f:
            return is_export_header(f.readline(1 << 16).rstrip(b"\r\n"))
    except OSError:
        return False


def read_export(path: Path) -> tuple[dict[str, Any], list[tuple[MemoryUnit, tuple[HistoryEntry, ...]]]]:
    """The header and the units (each with its history) of an export; ``InputFormatError`` naming
    the line when one cannot be read, before anything is stored."""
    units: list[tuple[MemoryUnit, tuple[HistoryEntry, ...]]] = []
    header: dict[str, Any] = {}
    with path.open(encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                record = json.loads(text)
                kind = record["type"]
                if number == 1:
                    header = _checked_header(record)
                elif kind == "unit":
                    history = tuple(wire.from_wire(HistoryEntry, h) for h in record["history"])
                    units.append((wire.from_wire(MemoryUnit, record), history))
            except (ValueError, KeyError, TypeError) as exc:
                raise InputFormatError(f"{path}: line {number} is not an export record: {exc!s}") from None
    if not header:
        raise InputFormatError(f"{path}: no export header on the first line")
    return header, units


def import_export(
    store: Store,
    embedder: Embedder,
    owner: Scope,
    units: Sequence[tuple[MemoryUnit, tuple[HistoryEntry, ...]]],
    progress: Progress | None = None,
) -> ImportReport:
    """Store the exported ``units`` as ``owner``'s (see the module docstring)."""
    moved = [
        (replace(u, scope=replace(u.scope, tenant=owner.tenant, user_id=owner.user_id)), h) for u, h in units
    ]
    held: set[str] = set()
    for start in range(0, len(moved), BATCH):
        held.update(store.get_many([u.id for u, _ in moved[start : start + BATCH]], tenant=owner.tenant))
    fresh = [(u, h) for u, h in moved if u.id not in held]
    before = _preceding([u for u, _ in fresh])
    for start in range(0, len(fresh), BATCH):
        batch = fresh[start : start + BATCH]
        store.add(_rows(embedder, batch, before))
        if progress is not None:
            progress(start + len(batch), len(fresh))
    turns = sum(u.kind == "turn" for u, _ in fresh)
    return ImportReport(turns=turns, derived=len(fresh) - turns, skipped_refs=len(held), errors=[])


def _rows(
    embedder: Embedder, batch: Sequence[tuple[MemoryUnit, tuple[HistoryEntry, ...]]], before: dict[str, str]
) -> list[NewUnit]:
    """The batch's rows, embedded in one call; a deleted unit is kept, never indexed nor embedded,
    as a deletion leaves it."""
    live = iter(rows_to_store(embedder, [u for u, _ in batch if u.status != "deleted"], before))
    return [
        NewUnit(unit, None, "", "", history)
        if unit.status == "deleted"
        else replace(next(live), history=history)
        for unit, history in batch
    ]


def _preceding(units: Sequence[MemoryUnit]) -> dict[str, str]:
    """What was said before each turn in its session, among the turns not deleted."""
    sessions: dict[str | None, list[MemoryUnit]] = {}
    for unit in units:
        if unit.kind == "turn" and unit.status != "deleted":
            sessions.setdefault(unit.scope.session_id, []).append(unit)
    before: dict[str, str] = {}
    for turns in sessions.values():
        before.update(preceding_texts(sorted(turns, key=lambda t: t.occurred_at or t.recorded_at)))
    return before


def _checked_header(record: dict[str, Any]) -> dict[str, Any]:
    if record.get("type") != "header" or record.get("format") != EXPORT_FORMAT:
        raise ValueError(f"the first line must be the header of an {EXPORT_FORMAT!r} file")
    if record.get("version") != EXPORT_VERSION:
        raise ValueError(
            f"export version {record.get('version')!r}; this release reads version {EXPORT_VERSION}"
        )
    return record
