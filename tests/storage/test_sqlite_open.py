"""Opening a file while other processes open it too: "database is locked" is waited out."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from eidetica.storage import sqlite as sqlite_module

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
