"""LanceDB as the benchmark's point of comparison (optional: ``pip install lancedb``).

The same units as the Eidetica store, embedded by the same model, go into one LanceDB table with
a BTREE index on the user column; each query embeds the question and asks for the 10 nearest
vectors of that user (``prefilter=True``, exact: no vector index, as Eidetica). It is a dense
query only, so it does less than Eidetica's hybrid search, which also ranks by words, speakers,
time and session.
"""

from __future__ import annotations

import importlib.util
import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from rich.progress import Progress

from ..memory import Memory
from ..model import Scope
from ..storage.base import UnitFilter
from .bench_workload import percentiles

BATCH = 5000


def lancedb_available() -> bool:
    """Whether the optional ``lancedb`` package is installed."""
    return importlib.util.find_spec("lancedb") is not None


class LanceBaseline:
    """A LanceDB table holding one user's units, and the timing of queries against it."""

    def __init__(self, memory: Memory, table: Any, folder: Path, user_id: str) -> None:
        self._memory = memory
        self._table = table
        self._folder = folder
        self._user = user_id

    @classmethod
    def load(cls, folder: Path, memory: Memory, user_id: str, progress: Progress) -> LanceBaseline:
        """Copy the user's active units into a fresh table (embedding them again)."""
        # Its writer logs a warning per new table (Rust's env_logger, read when first loaded).
        os.environ.setdefault("LANCE_LOG", "error")
        os.environ.setdefault("RUST_LOG", "error")
        import lancedb
        import pyarrow as pa

        units = memory.store.list_units(UnitFilter(Scope(user_id=user_id, tenant=memory.tenant)))
        task = progress.add_task(f"LanceDB: loading {len(units):,} units", total=len(units))
        vectors: list[np.ndarray] = []
        for start in range(0, len(units), BATCH):
            chunk = units[start : start + BATCH]
            vectors.append(np.asarray(memory.embedder.embed([u.text for u in chunk]), dtype=np.float32))
            progress.update(task, advance=len(chunk))
        matrix = np.concatenate(vectors) if vectors else np.zeros((0, memory.embedder.dim), np.float32)
        data = pa.table(
            {
                "id": [u.id for u in units],
                "user_id": [user_id] * len(units),
                "text": [u.text for u in units],
                "vector": pa.FixedSizeListArray.from_arrays(pa.array(matrix.ravel()), matrix.shape[1]),
            }
        )
        db = lancedb.connect(str(folder))
        table = db.create_table("units", data=data, mode="overwrite")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the scalar-index call is marked deprecated, not replaced
            table.create_scalar_index("user_id", replace=True)
        return cls(memory, table, folder, user_id)

    def latency(self, questions: list[str]) -> dict[str, float]:
        """Per-query milliseconds (embedding included) as percentiles; the first question warms
        the table up, untimed."""
        timings = []
        self._query(questions[0])
        for asked in questions[1:]:
            t0 = time.perf_counter()
            self._query(asked)
            timings.append((time.perf_counter() - t0) * 1000)
        return percentiles(timings, "")

    def bytes_on_disk(self) -> int:
        """Bytes of every file of the table."""
        return sum(p.stat().st_size for p in self._folder.rglob("*") if p.is_file())

    def _query(self, asked: str) -> list[dict[str, Any]]:
        vector = self._memory.embedder.embed([asked])[0]
        query = self._table.search(np.asarray(vector, dtype=np.float32)).where(
            f"user_id = '{self._user}'", prefilter=True
        )
        return list(query.limit(10).select(["id", "_distance"]).to_list())
