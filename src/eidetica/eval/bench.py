"""``eidetica bench``: ingest throughput, search latency at several store sizes, bytes per unit.

Turns are synthetic (templated chat about people, places and plans) so the benchmark needs no
dataset; model load time is excluded from throughput because it is paid once per process.
"""

from __future__ import annotations

import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from ..memory import Memory

_NAMES = "Alice Bruno Chen Dana Emeka Farah Goran Hana Ivan Jia Kofi Lena Mateo Nadia Omar Priya".split()
_PLACES = "Lisbon Kyoto Nairobi Oslo Lima Hanoi Denver Porto Cairo Quebec Tbilisi Perth".split()
_THINGS = (
    "pottery class|half marathon|book club|new job|garden|guitar lessons|camping trip|"
    "birthday party|cooking course|yoga retreat|chess tournament|art exhibition"
).split("|")
_TEMPLATES = [
    "I went to the {thing} in {place} yesterday with {name} and it was wonderful.",
    "My friend {name} just started a {thing} near {place}, we should go next week.",
    "Honestly the {thing} last weekend was exhausting but {name} loved it.",
    "I've been thinking about moving to {place} since {name} told me about the {thing}.",
    "Do you remember when we talked about the {thing}? {name} finally signed up!",
    "{name} and I are planning a trip to {place} next month for the {thing}.",
    "I prefer quiet evenings, but the {thing} with {name} two days ago was fun.",
]
_QUESTIONS = [
    "When did {name} go to the {thing}?",
    "Who is planning a trip to {place}?",
    "What did {name} think of the {thing}?",
    "Where is the {thing}?",
]


def synthetic_turns(rng: random.Random, count: int, start: datetime) -> list[dict[str, Any]]:
    """Chat turns with names, places and relative dates, one minute apart."""
    turns = []
    for i in range(count):
        words = {
            "name": rng.choice(_NAMES),
            "place": rng.choice(_PLACES),
            "thing": rng.choice(_THINGS),
        }
        turns.append(
            {
                "role": "user" if i % 2 == 0 else "assistant",
                "name": "Sam" if i % 2 == 0 else "Assistant",
                "content": rng.choice(_TEMPLATES).format(**words),
                "timestamp": (start + timedelta(minutes=i)).isoformat(),
            }
        )
    return turns


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
    """Time ``search`` (k=10) and ``context`` (400 tokens) for random questions and users."""
    timings: dict[str, list[float]] = {"search": [], "context": []}
    for _ in range(queries):
        words = {"name": rng.choice(_NAMES), "place": rng.choice(_PLACES), "thing": rng.choice(_THINGS)}
        question = rng.choice(_QUESTIONS).format(**words)
        user = f"user-{rng.randrange(users)}"
        t0 = time.perf_counter()
        memory.search(question, user_id=user, k=10)
        t1 = time.perf_counter()
        memory.context(question, user_id=user, budget_tokens=400)
        t2 = time.perf_counter()
        timings["search"].append((t1 - t0) * 1000)
        timings["context"].append((t2 - t1) * 1000)
    result: dict[str, float] = {"queries": queries}
    for name, values in timings.items():
        prefix = "" if name == "search" else "context_"
        for pct in (50, 95, 99):
            result[f"{prefix}p{pct}_ms"] = round(float(np.percentile(values, pct)), 3)
    return result


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
) -> dict[str, Any]:
    """Run every measurement on fresh temporary databases and return the report as a dict.

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
                memory.store.checkpoint()  # type: ignore[attr-defined]
                stats = memory.stats()
                entry = {
                    "stored_units": stats.units,
                    "users": stats.users,
                    "bytes_on_disk": stats.bytes_on_disk,
                    "bytes_per_unit": round((stats.bytes_on_disk or 0) / max(stats.units, 1), 1),
                    **_latency(memory, rng, users, queries),
                }
                report["search"].append(entry)
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
