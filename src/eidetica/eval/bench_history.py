"""``eidetica bench``'s long-history case: one user who talks to their agent every day for years.

The store holds one user's history, grown to each size in turn (50-turn sessions, a day apart).
At each size it sizes the file per stored turn, times ``search`` (k=10) and ``context`` (400
tokens) for that user, then ingest (1,000 more turns in adds of 100). With LanceDB installed
it also loads the same units, embedded by the same model, into a LanceDB table and times a
per-user vector query (embedding the question included, as in ``search``) on the same questions.
"""

from __future__ import annotations

import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from ..memory import Memory
from ..model import Stats
from ..storage.sqlite import SQLiteStore
from .bench_lancedb import LanceBaseline, lancedb_available
from .bench_workload import question, synthetic_turns, time_queries

USER = "long-history"
SESSION_TURNS = 50
INGEST_PROBE_TURNS = 1000


def run_history(
    sizes: list[int],
    *,
    queries: int,
    embedder: str,
    rng: random.Random,
    console: Console | None = None,
    lancedb: bool = True,
    location: str | None = None,
) -> list[dict[str, Any]]:
    """Grow one user's history through ``sizes`` (stored units) and measure at each.

    ``location`` (a ``postgresql://`` URL, say) holds the history instead of a temporary SQLite
    file; the user it fills is a new one, forgotten at the end.
    """
    rows: list[dict[str, Any]] = []
    lance = lancedb and lancedb_available()
    user = f"{USER}-{uuid.uuid4().hex[:8]}" if location else USER
    with (
        tempfile.TemporaryDirectory() as tmp,
        Memory(location or Path(tmp) / "history.db", embedder=embedder) as memory,
    ):
        try:
            lance_folder = Path(tmp) / "lance" if lance else None
            _measure(memory, user, sizes, queries, rng, console, lance_folder, rows, own_file=not location)
        finally:
            if location:
                memory.forget(user_id=user)
    return rows


def _measure(
    memory: Memory,
    user: str,
    sizes: list[int],
    queries: int,
    rng: random.Random,
    console: Console | None,
    lance_folder: Path | None,
    rows: list[dict[str, Any]],
    *,
    own_file: bool,
) -> None:
    """Grow ``user``'s history to each size and append a row of figures for it."""
    day = 0
    for size in sorted(sizes):
        with Progress(console=console, transient=True) as progress:
            day = _grow(memory, user, rng, size, day, progress)
        stats = memory.stats(user_id=user)
        turns = stats.units_by_kind.get("turn", 0)
        asked = [question(rng) for _ in range(queries + 1)]  # the same questions for both
        row: dict[str, Any] = {
            "units": stats.units,
            "turns": turns,
            "bytes_per_turn": round(_bytes_on_disk(memory, stats, own_file) / max(turns, 1), 1),
            **_latency(memory, user, asked),
        }
        if lance_folder is not None:
            with Progress(console=console, transient=True) as progress:
                baseline = LanceBaseline.load(lance_folder, memory, user, progress)
            row["lancedb"] = baseline.latency(asked)
            row["lancedb"]["bytes_per_turn"] = round(baseline.bytes_on_disk() / max(turns, 1), 1)
        # Ingest last: its turns grow the history a little past this size.
        row["ingest_turns_per_s"], day = _ingest(memory, user, rng, day)
        rows.append(row)


def _grow(memory: Memory, user: str, rng: random.Random, target: int, day: int, progress: Progress) -> int:
    """Add daily sessions until the user holds ``target`` units; return the next day."""
    task = progress.add_task(f"one user's history to {target:,} units", total=target)
    stored = memory.stats(user_id=user).units
    start = datetime(2020, 1, 1, tzinfo=UTC)
    while stored < target:
        turns = synthetic_turns(rng, SESSION_TURNS, start + timedelta(days=day))
        stored += len(memory.add(turns, user_id=user, session_id=f"day-{day}").units)
        day += 1
        progress.update(task, completed=min(stored, target))
    return day


def _ingest(memory: Memory, user: str, rng: random.Random, day: int) -> tuple[float, int]:
    """Turns per second of adds of 100 turns to the user's history, as it stands."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    days = range(day, day + INGEST_PROBE_TURNS // 100)
    batches = [synthetic_turns(rng, 100, start + timedelta(days=d)) for d in days]
    t0 = time.perf_counter()
    for d, batch in zip(days, batches, strict=True):
        memory.add(batch, user_id=user, session_id=f"day-{d}")
    seconds = time.perf_counter() - t0
    return round(INGEST_PROBE_TURNS / seconds, 1), day + len(batches)


def _latency(memory: Memory, user: str, questions: list[str]) -> dict[str, float]:
    """Search and context timings; the first question, whose search reads the user's vectors and
    word counts into memory, is timed on its own."""
    t0 = time.perf_counter()
    memory.search(questions[0], user_id=user)
    first = (time.perf_counter() - t0) * 1000
    return {"first_query_ms": round(first, 1), **time_queries(memory, [(q, user) for q in questions[1:]])}


def _bytes_on_disk(memory: Memory, stats: Stats, own_file: bool) -> int:
    """Everything the user's memory takes: in the bench's own SQLite file, which holds this user
    alone, the whole file (indexes, history and the lexical index included); elsewhere the size of
    the user's rows and vectors."""
    if own_file and isinstance(memory.store, SQLiteStore):
        return memory.store.file_bytes()
    return stats.bytes_on_disk or 0
