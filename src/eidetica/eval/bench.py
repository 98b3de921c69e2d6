"""``eidetica bench``: ingest throughput, search latency at several store sizes, bytes per unit.

Turns are synthetic (templated chat about people, places and plans) so the benchmark needs no
dataset; model load time is excluded from throughput because it is paid once per process.
"""

from __future__ import annotations

import random
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ..memory import Memory
from ..storage import Store
from ..storage.sqlite import SQLiteStore
from .bench_history import run_history
from .bench_workload import question, synthetic_turns, time_queries


def _fill(memory: Memory, rng: random.Random, target_units: int, users: int, progress: Progress) -> float:
    """Add turns round-robin over users until the store holds ``target_units``; return seconds."""
    task = progress.add_task(f"filling to {target_units:,} units", total=target_units)
    elapsed = 0.0
    start = datetime(2024, 1, 1, tzinfo=UTC)
    stored = memory.stats().units
    batch_turns = 4  # small adds spread the units over every user
    user = 0
    while stored < target_units:
        turns = synthetic_turns(rng, batch_turns, start + timedelta(days=stored // 1000))
        t0 = time.perf_counter()
        result = memory.add(turns, user_id=f"user-{user % users}", session_id=f"s{stored}")
        elapsed += time.perf_counter() - t0
        stored += len(result.units)
        user += 1
        progress.update(task, completed=min(stored, target_units))
    return elapsed


def _ingest_throughput(memory: Memory, rng: random.Random, turns: int) -> dict[str, float]:
    """Time ``add`` of batches of 100 turns (one transaction each), model already loaded."""
    start = datetime(2023, 1, 1, tzinfo=UTC)
    batches = [synthetic_turns(rng, 100, start + timedelta(days=i)) for i in range(turns // 100)]
    derived = 0
    t0 = time.perf_counter()
    for i, batch in enumerate(batches):
        derived += len(memory.add(batch, user_id=f"ingest-{i % 50}", session_id=f"i{i}").derived)
    seconds = time.perf_counter() - t0
    memory.wait_for_embeddings()  # with deferred embedding: until the last vector is stored
    embedded = time.perf_counter() - t0
    return {
        "turns": len(batches) * 100,
        "derived_units": derived,
        "seconds": round(seconds, 3),
        "turns_per_s": round(len(batches) * 100 / seconds, 1),
        "embedded_s": round(embedded, 3),
    }


def _latency(memory: Memory, rng: random.Random, users: int, queries: int) -> dict[str, float]:
    """Time ``search`` and ``context`` for random questions, each of a random user."""
    asked = [(question(rng), f"user-{rng.randrange(users)}") for _ in range(queries)]
    return {"queries": queries, **time_queries(memory, asked)}


def run_bench(
    *,
    sizes: list[int],
    users: int = 1000,
    queries: int = 500,
    ingest_turns: int = 5000,
    console: Console | None = None,
    seed: int = 7,
    embedder: str = "wordllama",
    defer_embedding: bool = False,
    history: Sequence[int] = (),
    lancedb: bool = True,
    history_db: str | None = None,
) -> dict[str, Any]:
    """Run every measurement on fresh temporary databases and return the report as a dict.

    ``history`` lists the sizes (in units) one user's history is measured at, with LanceDB on
    the same units beside it when ``lancedb`` and the package is installed (``bench_history``);
    ``history_db`` (a ``postgresql://`` URL, say) holds that history instead of a temporary file.

    ``defer_embedding`` times ingest with embedding in the background: ``turns_per_s`` is then
    what an add costs, and ``embedded_s`` when the last vector was stored.
    """
    rng = random.Random(seed)
    report: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "embedder": embedder,
        "defer_embedding": defer_embedding,
    }
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        with Memory(Path(tmp) / "ingest.db", embedder=embedder, defer_embedding=defer_embedding) as memory:
            report["model_load_s"] = round(time.perf_counter() - t0, 3)
            memory.add("warm-up turn so lazy imports are paid before timing", user_id="warm")
            report["ingest"] = _ingest_throughput(memory, rng, ingest_turns)
        report["search"] = []
        with Memory(Path(tmp) / "search.db", embedder=embedder) as memory:
            for size in sorted(sizes):
                # The progress bar's refresh thread would share the interpreter with the timed
                # calls, so it lives only while the store is being filled.
                with Progress(console=console, transient=True) as progress:
                    _fill(memory, rng, size, users, progress)
                _fold_wal(memory.store)
                stats = memory.stats()
                entry = {
                    "stored_units": stats.units,
                    "users": stats.users,
                    "bytes_on_disk": stats.bytes_on_disk,
                    "bytes_per_unit": round((stats.bytes_on_disk or 0) / max(stats.units, 1), 1),
                    **_latency(memory, rng, users, queries),
                }
                report["search"].append(entry)
    if history:
        report["history"] = run_history(
            list(history),
            queries=queries,
            embedder=embedder,
            rng=rng,
            console=console,
            lancedb=lancedb,
            location=history_db,
        )
        report["history_store"] = "postgresql" if history_db else "sqlite"
    return report


def print_report(report: dict[str, Any], console: Console) -> None:
    """Render the report as two tables."""
    ingest = report["ingest"]
    console.print(
        f"ingest ({report['embedder']}): [bold]{ingest['turns_per_s']:,.0f} turns/s[/bold] "
        f"({ingest['turns']} turns → {ingest['derived_units']} derived units in {ingest['seconds']} s; "
        f"model load {report['model_load_s']} s, excluded)"
    )
    if report["defer_embedding"]:
        console.print(
            f"embedded in the background: the last vector stored {ingest['embedded_s']} s after the start"
        )
    table = Table(title="latency per query: search (k=10) and context (400 tokens), one user each")
    columns = ("stored units", "users", "search p50 ms", "search p95 ms", "search p99 ms",
               "context p50 ms", "context p95 ms", "bytes/unit")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for row in report["search"]:
        table.add_row(
            f"{row['stored_units']:,}",
            str(row["users"]),
            f"{row['p50_ms']:.2f}",
            f"{row['p95_ms']:.2f}",
            f"{row['p99_ms']:.2f}",
            f"{row['context_p50_ms']:.2f}",
            f"{row['context_p95_ms']:.2f}",
            f"{row['bytes_per_unit']:,.0f}",
        )
    console.print(table)
    if report.get("history"):
        print_history(report["history"], console)


def print_history(rows: list[dict[str, Any]], console: Console) -> None:
    """Render the long-history case as a table, LanceDB's figures and ratio beside Eidetica's."""
    table = Table(title="one user's history: search (k=10) and context (400 tokens), ms")
    columns = ["units", "ingest turns/s", "search p50", "p95", "context p50", "p95", "first query",
               "bytes/turn"]  # fmt: skip
    with_lance = any("lancedb" in row for row in rows)
    if with_lance:
        columns += ["LanceDB p50", "p95", "p95 ratio", "bytes/turn"]
    for column in columns:
        table.add_column(column, justify="right")
    for row in rows:
        cells = [
            f"{row['units']:,}",
            f"{row['ingest_turns_per_s']:,.0f}",
            f"{row['p50_ms']:.1f}",
            f"{row['p95_ms']:.1f}",
            f"{row['context_p50_ms']:.1f}",
            f"{row['context_p95_ms']:.1f}",
            f"{row['first_query_ms']:.0f}",
            f"{row['bytes_per_turn']:,.0f}",
        ]
        lance = row.get("lancedb")
        if lance:
            ratio = row["p95_ms"] / lance["p95_ms"] if lance["p95_ms"] else float("nan")
            cells += [
                f"{lance['p50_ms']:.1f}",
                f"{lance['p95_ms']:.1f}",
                f"{ratio:.2f}×",
                f"{lance['bytes_per_turn']:,.0f}",
            ]
        elif with_lance:
            cells += ["", "", "", ""]
        table.add_row(*cells)
    console.print(table)
    if with_lance:
        console.print(
            "p95 ratio: Eidetica's hybrid search over LanceDB's per-user vector query "
            "(below 1: Eidetica is faster)"
        )


def _fold_wal(store: Store) -> None:
    """Fold SQLite's WAL into the file, so its size is what the store really holds."""
    if isinstance(store, SQLiteStore):
        store.checkpoint()
