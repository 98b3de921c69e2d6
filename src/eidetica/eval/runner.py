"""One evaluation run: ingest a dataset once, then ask every question of every system."""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import InputFormatError, UsageError
from ..memory import Memory
from ..retrieve.baselines import BASELINES
from ..storage.sqlite import SQLiteStore
from ..tokens import load_token_counter
from .datasets import Question, locomo_questions
from .harness import evaluate
from .longmemeval import ingest_longmemeval, longmemeval_questions

Progress = Callable[[int, int], None]
Ingest = Callable[[Memory, Path, Progress], object]


@dataclass(frozen=True)
class Benchmark:
    """A dataset an evaluation reads: its name in reports, how its file goes into a memory, and
    how its questions (with their evidence) are read from the same file."""

    name: str
    ingest: Ingest
    questions: Callable[[Path], Sequence[Question]]


def _ingest_locomo(memory: Memory, source: Path, progress: Progress) -> object:
    return memory.import_file(source, format="locomo", progress=progress)


LOCOMO = Benchmark("LoCoMo", _ingest_locomo, locomo_questions)
#: Each item's haystack is a user of its own.
LONGMEMEVAL = Benchmark("LongMemEval", ingest_longmemeval, longmemeval_questions)


def first_items(path: Path, limit: int | None, workdir: Path) -> Path:
    """The dataset file itself, or a copy in ``workdir`` holding only its first ``limit`` items."""
    if limit is None:
        return path
    if limit < 1:
        raise UsageError(f"--limit must be a positive integer, got {limit}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"file not found: {path}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputFormatError(f"cannot read the dataset: {exc}", source=path.name) from exc
    items = data if isinstance(data, list) else [data]
    copy = workdir / path.name
    copy.write_text(json.dumps(items[:limit]), encoding="utf-8")
    return copy


def run_evaluation(
    benchmark: Benchmark,
    path: Path,
    *,
    budgets: Sequence[int],
    db: str | Path | None = None,
    baselines: bool = True,
    limit: int | None = None,
    embedder: str = "wordllama",
    tokenizer: str = "wordpiece",
    ingest_progress: Progress | None = None,
    ask_progress: Progress | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Ingest ``path`` into a fresh (or the given) database and score Eidetica and the baselines.

    ``db`` is whatever ``Memory`` opens: an SQLite path, or a ``postgresql://`` URL naming an
    empty database (to score the PostgreSQL backend); ``embedder`` names the embedding model and
    ``tokenizer`` the token counter that budgets are stated in (``tokens.TOKEN_COUNTERS``).
    Returns the nested results of ``evaluate`` and the run's metadata, whose ``store`` names the
    backend that held the memory.
    """
    from .. import __version__

    with tempfile.TemporaryDirectory(prefix="eidetica-eval-") as tmp:
        source = first_items(path, limit, Path(tmp))
        counter = load_token_counter(tokenizer)
        with Memory(db or Path(tmp) / "eval.db", embedder=embedder, token_counter=counter) as memory:
            started = time.perf_counter()
            benchmark.ingest(memory, source, ingest_progress or _ignore)
            ingest_s = time.perf_counter() - started
            questions = benchmark.questions(source)
            if not questions:
                raise UsageError(f"{path} holds no questions whose evidence points at a stored turn")
            systems = [memory.retriever, *(BASELINES if baselines else ())]
            started = time.perf_counter()
            results = evaluate(memory, questions, systems, budgets, progress=ask_progress)
            meta = {
                "dataset": benchmark.name,
                "source": path.name,
                "limit": limit,
                "budgets": list(budgets),
                "systems": [s.name for s in systems],
                "ours": memory.retriever.name,
                "questions": len(questions),
                "turns": memory.stats().units_by_kind.get("turn", 0),
                "embedder": memory.embedder.name,
                "tokenizer": tokenizer,
                "store": type(memory.store).__name__,
                "bytes_per_turn": _bytes_per_turn(memory, own_file=db is None),
                "eidetica": __version__,
                "ingest_s": round(ingest_s, 2),
                "eval_s": round(time.perf_counter() - started, 2),
                "created": datetime.now(UTC).isoformat(timespec="seconds"),
            }
    return results, meta


def _bytes_per_turn(memory: Memory, *, own_file: bool) -> float | None:
    """The SQLite file the evaluation built, everything included, over the turns it holds; None
    when the memory lives elsewhere (a given database, PostgreSQL)."""
    turns = memory.stats().units_by_kind.get("turn", 0)
    if not own_file or not isinstance(memory.store, SQLiteStore) or not turns:
        return None
    return round(memory.store.file_bytes() / turns, 1)


def _ignore(done: int, total: int) -> None:
    """Progress callback that does nothing."""
