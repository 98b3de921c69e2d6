"""The one migration loop (``storage.migrations``), on its own and under SQLite's schema module."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from eidetica.storage import sqlite_schema
from eidetica.storage.migrations import apply_pending


class _Book:
    """A ledger kept in a list, logging what the loop asks of it; ``others`` are names another
    process records while this one waits for the lock."""

    def __init__(self, recorded: list[str] | None = None, others: tuple[str, ...] = ()) -> None:
        self.recorded = list(recorded or [])
        self.others = others
        self.log: list[str] = []

    def applied(self) -> list[str]:
        return list(self.recorded)

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.recorded += [name for name in self.others if name not in self.recorded]
        self.log.append("lock")
        snapshot = list(self.recorded)
        try:
            yield
        except BaseException:
            self.recorded = snapshot  # rolled back
            self.log.append("rollback")
            raise
        self.log.append("commit")

    def run(self, step: str) -> None:
        if step == "fail":
            raise RuntimeError("step failed")
        self.log.append(f"run {step}")

    def record(self, name: str) -> None:
        self.recorded.append(name)


MIGRATIONS = [("m001", "a"), ("m002", "b"), ("m003", "c")]


def test_pending_migrations_run_in_order_each_in_its_own_transaction() -> None:
    book = _Book(recorded=["m001"])
    assert apply_pending(MIGRATIONS, book) == ["m002", "m003"]
    assert book.log == ["lock", "run b", "commit", "lock", "run c", "commit"]
    assert book.recorded == ["m001", "m002", "m003"]
    assert apply_pending(MIGRATIONS, book) == []


def test_a_migration_applied_meanwhile_by_another_process_is_not_run_again() -> None:
    book = _Book(others=("m002",))
    assert apply_pending(MIGRATIONS, book) == ["m001", "m003"]
    assert "run b" not in book.log
    assert sorted(book.recorded) == ["m001", "m002", "m003"]


def test_a_failing_step_is_rolled_back_unrecorded_and_stops_the_rest() -> None:
    book = _Book()
    with pytest.raises(RuntimeError, match="step failed"):
        apply_pending([("m001", "a"), ("m002", "fail"), ("m003", "c")], book)
    assert book.recorded == ["m001"]
    assert book.log == ["lock", "run a", "commit", "lock", "rollback"]


def _connect(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)


def test_sqlite_rolls_a_failed_migration_back_whole_and_applies_it_once_fixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = _connect(tmp_path / "m.db")
    broken = [
        ("m001_a", "CREATE TABLE a (x)"),
        ("m002_b", "CREATE TABLE b (x); INSERT INTO nowhere VALUES (1)"),
    ]
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", broken)
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        sqlite_schema.migrate(conn)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"migrations", "a"}
    assert not conn.in_transaction
    monkeypatch.setattr(sqlite_schema, "MIGRATIONS", [broken[0], ("m002_b", "CREATE TABLE b (x)")])
    assert sqlite_schema.migrate(conn) == ["m002_b"]
    assert [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY name")] == ["m001_a", "m002_b"]
    conn.close()


def test_sqlite_processes_migrating_one_fresh_file_at_once_apply_each_migration_once(tmp_path: Path) -> None:
    path = tmp_path / "race.db"
    start = threading.Barrier(4)

    def open_and_migrate(_: int) -> list[str]:
        conn = _connect(path)
        try:
            start.wait()
            return sqlite_schema.migrate(conn)
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        applied = [name for names in pool.map(open_and_migrate, range(4)) for name in names]
    names = [name for name, _ in sqlite_schema.MIGRATIONS]
    assert sorted(applied) == sorted(names)
    conn = _connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM migrations ORDER BY rowid")] == names
    conn.close()
