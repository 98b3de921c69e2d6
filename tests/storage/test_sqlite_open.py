"""Opening a file while other processes open it too: "database is locked" is waited out."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eidetica.errors import StoreError
from eidetica.model import Scope
from eidetica.storage import NewUnit, UnitFilter
from eidetica.storage import sqlite as sqlite_module
from eidetica.storage.sqlite import SQLiteStore

from .test_contract import unit

OPENER = """
import sys, time
from eidetica.storage.sqlite import SQLiteStore
start = float(sys.argv[2])
while time.time() < start:
    pass
SQLiteStore(sys.argv[1]).close()
"""


def test_opening_retries_while_another_connection_holds_the_lock() -> None:
    calls = []

    def locked_twice() -> None:
        calls.append(1)
        if len(calls) < 3:
            raise sqlite3.OperationalError("database is locked")

    sqlite_module._retry_while_locked(locked_twice)
    assert len(calls) == 3


def test_opening_does_not_retry_other_errors() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise sqlite3.OperationalError("no such table: units")

    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        sqlite_module._retry_while_locked(broken)
    assert len(calls) == 1


def test_processes_opening_a_fresh_file_at_the_same_instant_all_succeed(tmp_path: Path) -> None:
    for trial in range(5):
        db = tmp_path / f"race{trial}.db"
        start = time.time() + 1.0
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(db), str(start)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(6)
        ]
        for proc in openers:
            _, err = proc.communicate(timeout=120)
            assert proc.returncode == 0, err
        conn = sqlite3.connect(db)
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        finally:
            conn.close()


def test_a_folder_or_an_sqlite_uri_is_refused_with_what_to_give_instead(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder; give a file in it"):
        SQLiteStore(tmp_path)
    with pytest.raises(StoreError, match="is an SQLite URI; give a plain file path"):
        SQLiteStore(f"file:{tmp_path / 'x.db'}?mode=ro")
    assert list(tmp_path.iterdir()) == []


def test_a_file_sqlite_cannot_write_is_said_to_need_write_access(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    sqlite3.connect(db).close()
    read_only = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            read_only.execute("CREATE TABLE t (x)")
    finally:
        read_only.close()
    assert "may write the file and its folder" in sqlite_module._open_hint(caught.value)


@pytest.mark.parametrize("given", ["folder", "file:memory.db?mode=ro"])
def test_the_cli_answers_a_bad_db_location_with_one_error_line(tmp_path: Path, given: str) -> None:
    (tmp_path / "folder").mkdir()
    cli = Path(sys.executable).with_name("eidetica")
    result = subprocess.run(
        [str(cli), "stats", "--db", given],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")]


def test_an_acknowledged_write_is_synced_to_disk_before_the_call_returns(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    try:
        [(level,)] = store._read("PRAGMA synchronous")
    finally:
        store.close()
    assert level == 2  # FULL: WAL commits are fsynced, so power loss cannot undo an acknowledged add


def test_a_time_past_what_python_holds_reads_as_the_nearest_it_holds(tmp_path: Path) -> None:
    db = tmp_path / "m.db"
    store = SQLiteStore(db)
    try:
        store.add([NewUnit(unit("I moved to Oslo"), None, "I moved to Oslo")])
        with store._write() as conn:  # as a file written before times were bounded holds it
            conn.execute("UPDATE units SET occurred_at = 253402300800.0 + 86400")  # 10000-01-02
        [read] = store.list_units(UnitFilter(Scope(user_id="u1")))
    finally:
        store.close()
    assert read.text == "I moved to Oslo"
    assert read.occurred_at is not None and read.occurred_at.year == 9999


def test_a_store_whose_tables_broke_fails_every_read_as_a_store_error(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "m.db")
    try:
        store.add([NewUnit(unit("I moved to Oslo"), None, "I moved to Oslo")])
        with store._write() as conn:
            conn.execute("ALTER TABLE units RENAME TO units_gone")
        where = UnitFilter(Scope(user_id="u1"))
        for read in (
            lambda: store.speakers(where),
            lambda: store.list_units(where),
            lambda: store.count(where),
        ):
            with pytest.raises(StoreError, match="no such table"):
                read()
    finally:
        store.close()
