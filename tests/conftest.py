"""Shared fixtures: a fresh SQLite file (or PostgreSQL database) per test, one real embedder per
session, no network."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from eidetica import Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder

from .local_llm_server import local_llm_url  # noqa: F401  (fixtures for every test)
from .postgres_server import postgres_server, postgres_url  # noqa: F401

#: Set (as ``.ci/run`` does) to fail a run in which any test skipped: in CI a skipped test, for a
#: missing PostgreSQL, model or data file, is a test that did not run.
NO_SKIPS = "EIDETICA_TESTS_NO_SKIPS"
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
LOCOMO = SHARED / "data" / "locomo" / "locomo10_dev.json"


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any connection that is not to loopback: tests must never reach the network."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if (
            isinstance(host, str)
            and host not in ("127.0.0.1", "::1", "localhost")
            and not host.startswith("/")
        ):
            raise RuntimeError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def embedder() -> WordLlamaEmbedder:
    return WordLlamaEmbedder()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "memory.db"


@pytest.fixture
def memory(db_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Memory]:
    with Memory(db_path, embedder=embedder) as m:
        yield m


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With ``EIDETICA_TESTS_NO_SKIPS`` set, a run that skipped anything fails, naming what."""
    if not os.environ.get(NO_SKIPS):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter is not None else []
    if skipped:
        names = ", ".join(report.nodeid for report in skipped[:10])
        if reporter is not None:
            reporter.ensure_newline()
            reporter.write_line(f"{NO_SKIPS} is set and {len(skipped)} tests skipped: {names}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
