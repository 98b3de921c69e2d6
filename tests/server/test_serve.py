"""``eidetica serve`` as a user runs it: the console script in a subprocess, answering real requests."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from eidetica import AuthError, Client
from eidetica.cli import app

from .conftest import free_port, wait_until_answering

EIDETICA = Path(sys.executable).parent / "eidetica"
RUNNER = CliRunner(
    env={
        "EIDETICA_DB": None,
        "EIDETICA_API_KEYS": None,
        "EIDETICA_ALLOWED_HOSTS": None,
        "EIDETICA_MAX_BODY_MB": None,
    }
)


@dataclass
class Served:
    """A running ``eidetica serve``: its URL; after it stopped, what it printed and logged."""

    url: str
    stdout: str = ""
    log: str = ""
    returncode: int | None = None


@contextmanager
def serving(args: list[str], tmp_path: Path) -> Iterator[Served]:
    """Start ``eidetica serve`` on a free port, wait until /healthz answers; stop it afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIDETICA_")}
    log_path = tmp_path / f"serve-{port}.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [str(EIDETICA), "serve", "--port", str(port), *args],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
            env=env,
        )
    served = Served(f"http://127.0.0.1:{port}")
    try:
        wait_until_answering(
            process,
            f"{served.url}/healthz",
            ready=lambda response: response.status_code == 200,
            timeout=120,
            exited=lambda: f"serve exited early: {log_path.read_text()}",
        )
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            served.stdout, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        served.returncode = process.returncode
        served.log = log_path.read_text()


@pytest.mark.slow
def test_serve_answers_with_api_keys_and_logs_json(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    with serving(["--db", str(db), "--api-keys", "k1=acme,k2=globex"], tmp_path) as served:
        with Client(served.url, "k1") as acme, Client(served.url, "k2") as globex:
            unit = acme.add("I like green tea", user_id="ana").turns[0]
            assert unit.id in {hit.id for hit in acme.search("tea", user_id="ana")}
            assert globex.list(user_id="ana") == []
        with Client(served.url) as anonymous, pytest.raises(AuthError):
            anonymous.stats()
        assert httpx.get(f"{served.url}/readyz").json() == {"status": "ready"}
        assert "/v1/search" in httpx.get(f"{served.url}/openapi.json").json()["paths"]
    assert f"on {served.url}" in served.stdout and "authentication on" in served.stdout
    assert "acme, globex" in served.stdout
    assert "Application shutdown complete" in served.log
    # uvicorn re-raises the SIGTERM it handled once it has shut down cleanly
    assert served.returncode in (0, -signal.SIGTERM)
    lines = [json.loads(line) for line in served.log.splitlines() if line.startswith("{")]
    assert any(line["path"] == "/v1/memories" and line["tenant"] == "acme" for line in lines)
    assert all(line["request_id"] and "duration_ms" in line for line in lines)


@pytest.mark.slow
def test_serve_with_two_workers_shares_one_store(tmp_path: Path) -> None:
    db = tmp_path / "served.db"
    with serving(["--db", str(db), "--workers", "2"], tmp_path) as served, Client(served.url) as client:
        ids = {client.add(f"note {i} about tea", user_id="ana", infer=False).turns[0].id for i in range(20)}
        assert {u.id for u in client.list(user_id="ana")} == ids
    assert "2 worker(s)" in served.stdout and "authentication off" in served.stdout
    assert served.returncode in (0, -signal.SIGTERM)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--api-keys", "no-tenant"], "must look like key=tenant"),
        (["--max-body-mb", "0"], "positive number"),
        (["--db", "/nonexistent-folder/x.db"], "does not exist"),
    ],
)
def test_serve_refuses_bad_settings_in_one_line(args: list[str], expected: str) -> None:
    result = RUNNER.invoke(app, ["serve", *args])
    assert result.exit_code == 1
    assert expected in result.output


def test_serve_names_the_extra_when_the_server_packages_are_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn", None)  # makes `import uvicorn` fail
    result = RUNNER.invoke(app, ["serve"])
    assert result.exit_code == 1
    assert "pip install 'eidetica[server]'" in result.output
