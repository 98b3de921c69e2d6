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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress

from ..memory import Memory
from .bench_lancedb import LanceBaseline, lancedb_available
from .bench_workload import percentiles, question, synthetic_turns

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
) -> list[dict[str, Any]]:
    """Grow one user's history through ``sizes`` (stored units) and measure at each."""
    rows: list[dict[str, Any]] = []
    lance = lancedb and lancedb_available()
    with tempfile.TemporaryDirectory() as tmp, Memory(Path(tmp) / "history.db", embedder=embedder) as memory:
        day = 0
        for size in sorted(sizes):
            with Progress(console=console, transient=True) as progress:
                day = _grow(memory, rng, size, day, progress)
            memory.store.checkpoint()  # type: ignore[attr-defined]
            stats = memory.stats(user_id=USER)
            turns = stats.units_by_kind.get("turn", 0)
            asked = [question(rng) for _ in range(queries + 1)]  # the same questions for both
            row: dict[str, Any] = {
                "units": stats.units,
                "turns": turns,
                "bytes_per_turn": round((stats.bytes_on_disk or 0) / max(turns, 1), 1),
                **_latency(memory, asked),
            }
            if lance:
                with Progress(console=console, transient=True) as progress:
                    baseline = LanceBaseline.load(Path(tmp) / "lance", memory, USER, progress)
                row["lancedb"] = baseline.latency(asked)
                row["lancedb"]["bytes_per_turn"] = round(baseline.bytes_on_disk() / max(turns, 1), 1)
            # Ingest last: its turns grow the history a little past this size.
            row["ingest_turns_per_s"], day = _ingest(memory, rng, day)
            rows.append(row)
    return rows


def _grow(memory: Memory, rng: random.Random, target: int, day: int, progress: Progress) -> int:
    """Add daily sessions until the user holds ``target`` units; return the next day."""
    task = progress.add_task(f"one user's history to {target:,} units", total=target)
    stored = memory.stats(user_id=USER).units
    start = datetime(2020, 1, 1, tzinfo=UTC)
    while stored < target:
        turns = synthetic_turns(rng, SESSION_TURNS, start + timedelta(days=day))
        stored += len(memory.add(turns, user_id=USER, session_id=f"day-{day}").units)
        day += 1
        progress.update(task, completed=min(stored, target))
    return day


def _ingest(memory: Memory, rng: random.Random, day: int) -> tuple[float, int]:
    """Turns per second of adds of 100 turns to the user's history, as it stands."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    batches = [
        synthetic_turns(rng, 100, start + timedelta(days=day + i)) for i in range(INGEST_PROBE_TURNS // 100)
    ]
    t0 = time.perf_counter()
    for i, batch in enumerate(batches):
        memory.add(batch, user_id=USER, session_id=f"day-{day + i}")
    seconds = time.perf_counter() - t0
    return round(INGEST_PROBE_TURNS / seconds, 1), day + len(batches)


def _latency(memory: Memory, questions: list[str]) -> dict[str, float]:
    """Search and context timings; the first question, whose search reads the user's vectors and
    word counts into memory, is timed on its own."""
    search, context = [], []
    t0 = time.perf_counter()
    memory.search(questions[0], user_id=USER)
    first = (time.perf_counter() - t0) * 1000
    for asked in questions[1:]:
        t0 = time.perf_counter()
        memory.search(asked, user_id=USER, k=10)
        t1 = time.perf_counter()
        memory.context(asked, user_id=USER, budget_tokens=400)
        t2 = time.perf_counter()
        search.append((t1 - t0) * 1000)
        context.append((t2 - t1) * 1000)
    return {"first_query_ms": round(first, 1), **percentiles(search, ""), **percentiles(context, "context_")}
