"""The server faces against hostile or careless callers, over real loopback HTTP.

DNS rebinding (Host names), replies larger than requests, secrets in output, API keys, bodies
that trickle in, MCP sessions, and what a failure tells a client. Tests that touch the store run
over SQLite and PostgreSQL.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import select
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from typer.main import get_command

from eidetica import config, wire
from eidetica.cli import app
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.errors import AuthError, LLMError, UsageError
from eidetica.model import AddResult
from eidetica.server.hosts import host_allowed, is_loopback, split_host
from eidetica.server.mcp_http import http_app
from eidetica.server.rest import create_app
from eidetica.server.tenants import Tenants
from eidetica.storage import open_store
from eidetica.testing import ScriptedLLM

from ..postgres_server import BACKENDS, store_location
from .conftest import ACME, KEYS, LiveServer, free_port, run_server, wait_until_answering
from .test_mcp import INIT, call, fail, http_session, run
from .test_rest import error_of
from .test_serve import RUNNER, serving

ATTACKER = {"Host": "attacker.example.com"}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}


@pytest.fixture
def sqlite_tenants(tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Tenants]:
    """Keyless tenants over a fresh SQLite file, for tests where the backend plays no part."""
    tenants = Tenants(open_store(tmp_path / "plain.db"), embedder=embedder)
    yield tenants
    tenants.close()


@pytest.fixture(params=BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh SQLite file or PostgreSQL database, for tests that break the store on purpose."""
    return store_location(request, tmp_path / "broken.db")


def break_store(location: str) -> list[str]:
    """Take the store's main table away behind its back; return the internals its errors name."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location, autocommit=True) as conn:
            conn.execute("ALTER SCHEMA eidetica RENAME TO eidetica_gone")
        parts = urlsplit(location)
        return [str(parts.hostname), str(parts.port), parts.path.lstrip("/"), "PostgreSQL", "relation"]
    with sqlite3.connect(location) as conn:
        conn.execute("ALTER TABLE units RENAME TO units_gone")
    conn.close()
    return [location, Path(location).name, "no such table"]


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def logged(caplog: pytest.LogCaptureFixture) -> list[dict[str, Any]]:
    """The JSON lines the server logged."""
    lines = []
    for record in caplog.records:
        if record.name.startswith("eidetica.server") and record.getMessage().startswith("{"):
            lines.append(json.loads(record.getMessage()))
    return lines


# -- DNS rebinding -------------------------------------------------------------------------------------


def test_a_keyless_server_answers_other_host_names_with_421_and_stores_nothing(open_live: LiveServer) -> None:
    port = port_of(open_live.url)
    with open_live.http(None) as http:
        message = error_of(
            http.post("/v1/memories", json={"messages": "I like tea"}, headers=ATTACKER), 421, "UsageError"
        )
        assert "attacker.example.com" in message and "--allowed-host" in message
        error_of(http.get("/v1/memories", headers=ATTACKER), 421, "UsageError")
        error_of(http.post("/v1/search", json={"query": "tea"}, headers=ATTACKER), 421, "UsageError")
        error_of(http.delete("/v1/users/default", headers=ATTACKER), 421, "UsageError")
        error_of(
            http.get("/openapi.json", headers={"Host": f"attacker.example.com:{port}"}), 421, "UsageError"
        )
        for near_miss in ("localhost.attacker.example.com", "127.0.0.1.nip.io", "[::2]", "localhost:x"):
            error_of(http.get("/v1/stats", headers={"Host": near_miss}), 421, "UsageError")
        assert open_live.tenants.memory("default").stats().units == 0
        # Probes tell nothing, and container probes use an address: answered whatever the name.
        assert http.get("/healthz", headers=ATTACKER).status_code == 200
        for name in (
            "localhost",
            "127.0.0.1",
            "[::1]",
            f"localhost:{port}",
            f"127.0.0.1:{port}",
            "LOCALHOST:1",
        ):
            assert http.get("/v1/stats", headers={"Host": name}).status_code == 200, name
        added = http.post("/v1/memories", json={"messages": "I like tea"}, headers={"Host": f"[::1]:{port}"})
        assert added.status_code == 201
    assert open_live.tenants.memory("default").stats().units_by_kind["turn"] == 1


def test_a_keyless_server_answers_the_names_it_is_told_to(sqlite_tenants: Tenants) -> None:
    app = create_app(sqlite_tenants, allowed_hosts=["memory.lan", "box:8000"])
    with run_server(app) as url, httpx.Client(base_url=url) as http:
        for name in ("memory.lan", "memory.lan:1234", "MEMORY.LAN", "box:8000", "localhost"):
            assert http.get("/v1/stats", headers={"Host": name}).status_code == 200, name
        for name in ("box", "box:9000", "memory.lan.attacker.example.com", "attacker.example.com"):
            error_of(http.get("/v1/stats", headers={"Host": name}), 421, "UsageError")


def test_a_server_with_keys_answers_any_host_name_for_a_valid_key(live: LiveServer) -> None:
    with live.http(ACME) as http:
        assert http.get("/v1/stats", headers=ATTACKER).status_code == 200
    with live.http(None) as anonymous:
        error_of(anonymous.get("/v1/stats", headers=ATTACKER), 401, "AuthError")


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("localhost:8000", ("localhost", "8000")),
        ("[::1]:80", ("[::1]", "80")),
        ("[::1]", ("[::1]", None)),
        ("Memory.LAN", ("memory.lan", None)),
        ("::1", None),
        ("[::1", None),
        ("host:", None),
        ("host:port", None),
        ("", None),
    ],
)
def test_split_host(header: str, expected: tuple[str, str | None] | None) -> None:
    assert split_host(header) == expected


def test_host_allowed_and_loopback_binds() -> None:
    assert host_allowed("127.0.0.1:9") and not host_allowed(None) and not host_allowed("10.0.0.1")
    assert host_allowed("10.0.0.1:80", ["10.0.0.1"]) and not host_allowed("10.0.0.1:80", ["10.0.0.1:81"])
    assert all(is_loopback(bind) for bind in ("127.0.0.1", "127.0.0.2", "::1", "localhost"))
    assert not any(is_loopback(bind) for bind in ("0.0.0.0", "::", "192.168.1.5", "example.com"))


@pytest.mark.slow
def test_serve_on_every_interface_without_keys_warns_and_answers_only_allowed_names(tmp_path: Path) -> None:
    args = ["--db", str(tmp_path / "open.db"), "--host", "0.0.0.0", "--allowed-host", "memory.lan"]
    with serving(args, tmp_path) as served, httpx.Client(base_url=served.url) as http:
        error_of(http.get("/v1/stats", headers=ATTACKER), 421, "UsageError")
        assert http.get("/v1/stats", headers={"Host": "memory.lan:8000"}).status_code == 200
        assert http.get("/v1/stats").status_code == 200
    assert "WARNING" in served.log and "without API keys" in served.log
    assert "anyone who can reach this port" in served.log


@pytest.mark.parametrize(
    ("args", "warned"),
    [(["--host", "0.0.0.0"], True), (["--host", "0.0.0.0", "--api-keys", "k=acme"], False), ([], False)],
)
def test_serve_warns_only_when_it_listens_beyond_loopback_without_keys(
    tmp_path: Path, args: list[str], warned: bool
) -> None:
    # An unknown store scheme stops serve after its first lines and before it listens.
    result = RUNNER.invoke(app, ["serve", "--db", "nosuch://x", *args])
    assert result.exit_code == 1
    assert ("WARNING" in result.output) is warned


# -- amplification -----------------------------------------------------------------------------------


def test_add_answers_ids_and_counts_not_the_texts(open_live: LiveServer) -> None:
    padding = "and then we talked about the weather for a long while " * 12
    messages = [
        {"role": "user", "content": f"I visited city number {i} last week {padding}"} for i in range(30)
    ]
    request = json.dumps({"messages": messages, "user_id": "ana"}).encode()
    with open_live.http(None) as http:
        response = http.post("/v1/memories", content=request, headers={"Content-Type": "application/json"})
        assert response.status_code == 201, response.text
        summary = response.json()
        assert set(summary) == {
            "turn_ids",
            "derived_ids",
            "revised_ids",
            "skipped_refs",
            "warnings",
            "counts",
        }
        assert "weather" not in response.text and len(response.content) * 4 < len(request)
        assert len(summary["turn_ids"]) == summary["counts"]["turns"] == 30
        assert len(summary["derived_ids"]) == summary["counts"]["derived"]
        stored = open_live.tenants.memory("default").list(user_id="ana", limit=1000)
        assert {u.id for u in stored} == set(summary["turn_ids"] + summary["derived_ids"])

        full = http.post(
            "/v1/memories", json={"messages": messages[:2], "user_id": "bo", "return_units": True}
        )
        assert [u["text"] for u in full.json()["turns"]] == [m["content"] for m in messages[:2]]
        document = http.get("/openapi.json").json()
    flag = document["components"]["schemas"]["AddRequest"]["properties"]["return_units"]
    assert flag["type"] == "boolean" and flag["default"] is False and flag["description"]
    answer = document["paths"]["/v1/memories"]["post"]["responses"]["201"]["content"]["application/json"]
    shapes = {schema["$ref"].rsplit("/", 1)[-1] for schema in answer["schema"]["anyOf"]}
    assert shapes == {"AddSummary", "AddResult"}
    assert set(document["components"]["schemas"]["AddSummary"]["required"]) >= {"turn_ids", "counts"}
    with open_live.client(None) as client:  # Client.add asks for the units: the same AddResult as Memory
        result = client.add("I play the cello", user_id="cy")
    assert isinstance(result, AddResult) and result.turns[0].text == "I play the cello"


def test_the_wire_refuses_to_read_a_summary_as_a_whole_result() -> None:
    summary = wire.add_summary_to_wire(AddResult(turns=[], derived=[]))
    assert summary["counts"] == {"turns": 0, "derived": 0, "revised": 0, "skipped": 0}
    with pytest.raises(ValueError, match="return_units"):
        wire.add_result_from_wire(summary)


# -- secrets -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("postgresql://ana:s3cret@db:5432/mem", "postgresql://ana:***@db:5432/mem"),
        ("postgres://ana:p@ss@db/mem and more", "postgres://ana:***@db/mem and more"),
        (
            "cannot open postgresql://ana:s3cret@db/mem: refused",
            "cannot open postgresql://ana:***@db/mem: refused",
        ),
        ("host=db password=s3cret dbname=mem", "host=db password=*** dbname=mem"),
        ("postgresql://db/mem?user=ana&password=s3cret", "postgresql://db/mem?user=ana&password=***"),
        ("postgresql://ana@db/mem", "postgresql://ana@db/mem"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
        ("/var/lib/eidetica/memory.db", "/var/lib/eidetica/memory.db"),
    ],
)
def test_redact_hides_passwords_only(text: str, expected: str) -> None:
    assert config.redact(text) == expected


@pytest.mark.parametrize(
    "db", ["postgresql://ana:hunter2@127.0.0.1:1/mem", "mysql://ana:hunter2@127.0.0.1/mem"]
)
def test_serve_never_prints_a_database_password(db: str) -> None:
    result = RUNNER.invoke(app, ["serve", "--db", db])
    assert result.exit_code == 1
    assert "hunter2" not in result.output
    assert "ana:***@" in result.output


def test_server_settings_do_not_show_keys_or_passwords() -> None:
    settings = config.ServerSettings("postgresql://ana:hunter2@db/mem", {"sekrit-key": "acme"}, 1024)
    shown = repr(settings)
    assert "hunter2" not in shown and "sekrit-key" not in shown and "ana:***@db/mem" in shown


def test_a_store_failure_is_a_503_that_names_no_internals(
    location: str, embedder: WordLlamaEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="eidetica.server")
    tenants = Tenants(open_store(location), embedder=embedder, api_keys=KEYS)
    try:
        with run_server(create_app(tenants)) as url, httpx.Client(base_url=url, timeout=30) as http:
            http.headers["Authorization"] = f"Bearer {ACME}"
            assert http.get("/v1/stats").status_code == 200
            internals = break_store(location)
            for response in (
                http.get("/v1/stats"),
                http.get("/v1/memories"),
                http.get("/readyz"),
            ):
                message = error_of(response, 503, "StoreError")
                request_id = response.headers["X-Request-ID"]
                assert request_id in message and "retry" in message
                assert not [word for word in internals if word in message], message
                details = [line for line in logged(caplog) if line.get("request_id") == request_id]
                assert details and details[0]["event"] == "internal_error"
                assert any(word in details[0]["error"] for word in internals)
    finally:
        tenants.close()


def test_an_mcp_store_failure_names_no_internals(location: str, embedder: WordLlamaEmbedder) -> None:
    tenants = Tenants(open_store(location), embedder=embedder, api_keys=KEYS)
    try:
        with run_server(http_app(tenants)) as url:
            internals = break_store(location)

            async def scenario() -> None:
                async with http_session(url, ACME) as session:
                    text = await fail(session, "list_memories")
                    assert text.startswith("StoreError:") and "request id" in text
                    assert not [word for word in internals if word in text], text

            run(scenario)
    finally:
        tenants.close()


# -- API keys ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["--api-keys", "sekrit=acme,sekrit=globex"],
        ["--api-keys", "sekrit=acme,sekrit=acme"],
    ],
)
def test_a_key_listed_twice_is_refused_without_showing_it(args: list[str]) -> None:
    # The unknown store scheme stops serve before it listens, should the keys get through.
    result = RUNNER.invoke(app, ["serve", "--db", "nosuch://x", *args])
    assert result.exit_code == 1
    assert "already listed" in result.output and "sekrit" not in result.output


def test_keys_come_from_a_file_with_comments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = tmp_path / "keys"
    keys.write_text(
        "# the team's keys\nk-acme = acme  # Ana's team\n\nk-globex=globex, k-initech=initech\n",
        encoding="utf-8",
    )
    expected = {"k-acme": "acme", "k-globex": "globex", "k-initech": "initech"}
    assert config.api_keys(f"@{keys}") == expected
    monkeypatch.setenv("EIDETICA_API_KEYS", f"@{keys}")
    assert config.api_keys() == expected
    assert config.api_keys("k-other=umbrella") == {"k-other": "umbrella"}  # the option wins over the variable
    keys.write_text("k-acme=acme\n# moved to globex:\nk-acme=globex\n", encoding="utf-8")
    with pytest.raises(UsageError, match="already listed") as refused:
        config.api_keys()
    assert str(keys) in str(refused.value) and "k-acme" not in str(refused.value)
    with pytest.raises(UsageError, match="cannot read the API key file"):
        config.api_keys(f"@{tmp_path / 'missing'}")
    serve = get_command(app).commands["serve"]  # type: ignore[attr-defined]
    option = next(param for param in serve.params if "--api-keys" in param.opts)
    assert "@path" in option.help and "one per line" in option.help and "EIDETICA_API_KEYS" in option.help


@pytest.mark.slow
def test_serve_with_a_key_file_and_two_workers(tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    keys.write_text("k-acme=acme\n", encoding="utf-8")
    args = ["--db", str(tmp_path / "keyed.db"), "--api-keys", f"@{keys}", "--workers", "2"]
    with serving(args, tmp_path) as served, httpx.Client(base_url=served.url) as http:
        for _ in range(6):  # requests spread over both workers; each must know the key, once
            assert http.get("/v1/stats", headers={"Authorization": "Bearer k-acme"}).status_code == 200
            error_of(http.get("/v1/stats"), 401, "AuthError")
    assert "1 API key(s) for tenant(s) acme" in served.stdout and "k-acme" not in served.stdout + served.log


def test_settings_reach_worker_processes_unchanged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers read what ``serve`` exported: the same keys, without reading the key file again."""
    keys = tmp_path / "keys"
    keys.write_text("k-acme=acme  # Ana's team\nk-globex=globex\n", encoding="utf-8")
    for name in ("EIDETICA_DB", "EIDETICA_ALLOWED_HOSTS", "EIDETICA_MAX_BODY_MB"):
        monkeypatch.setenv(name, "")  # restored after the test, whatever export writes
    monkeypatch.setenv("EIDETICA_API_KEYS", f"@{keys}")
    settings = config.server_settings(str(tmp_path / "x.db"), allowed_host_names=["memory.lan"])
    assert settings.api_keys == {"k-acme": "acme", "k-globex": "globex"}
    config.export_server_settings(settings)
    keys.unlink()  # a worker that read the file again would fail now
    assert config.server_settings() == settings


def test_key_lookup_compares_with_every_key(monkeypatch: pytest.MonkeyPatch, sqlite_tenants: Tenants) -> None:
    keys = {f"key-{i}": f"tenant-{i}" for i in range(5)}
    tenants = Tenants(sqlite_tenants.store, embedder=sqlite_tenants.embedder, api_keys=keys)
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def counting(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    for key, tenant in keys.items():
        compared.clear()
        assert tenants.tenant_for(key) == tenant
        # Every configured key, even after the match; and only fixed-length values.
        assert len(compared) == len(keys)
        assert {len(a) for a, _ in compared} == {len(b) for _, b in compared} == {32}
    compared.clear()
    with pytest.raises(AuthError, match="unknown API key"):
        tenants.tenant_for("key-")
    assert len(compared) == len(keys)


# -- slow bodies ---------------------------------------------------------------------------------------


def trickle(url: str, path: str, headers: bytes) -> tuple[bytes, bytes]:
    """POST a body one byte every 0.1 s until the server answers; its status line and headers,
    and its body, once it closed the connection."""
    with socket.create_connection(("127.0.0.1", port_of(url)), timeout=10) as raw:
        raw.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n".encode()
            + headers
            + b"Content-Length: 1000\r\n\r\n"
        )
        for byte in b'{"messages": "' + b"x" * 100:  # 11 s for all of them
            readable, _, _ = select.select([raw], [], [], 0)
            if readable:
                break
            raw.sendall(bytes([byte]))
            time.sleep(0.1)
        answer = b""
        try:
            while chunk := raw.recv(65536):  # the server closes the connection after its answer
                answer += chunk
        except ConnectionResetError:
            # A byte sent after the server closed is answered with a reset, which can stand in
            # for the end of the stream; the answer itself was read before it.
            pass
    head, _, body = answer.partition(b"\r\n\r\n")
    return head, body


def test_a_body_that_trickles_in_is_cut_off_with_408(sqlite_tenants: Tenants) -> None:
    with run_server(create_app(sqlite_tenants, body_timeout_s=0.5)) as url:
        head, body = trickle(url, "/v1/memories", b"")
    assert head.startswith(b"HTTP/1.1 408"), head
    error = json.loads(body)["error"]
    assert error["type"] == "UsageError" and "0.5 s" in error["message"]
    assert sqlite_tenants.memory("default").stats().units == 0


def test_an_mcp_body_that_trickles_in_is_cut_off_with_408(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    tenants = Tenants(open_store(tmp_path / "mcp.db"), embedder=embedder, api_keys=KEYS)
    try:
        with run_server(http_app(tenants, body_timeout_s=0.5)) as url:
            accept = b"Accept: application/json, text/event-stream\r\n"
            head, body = trickle(url, "/mcp", accept + f"Authorization: Bearer {ACME}\r\n".encode())
    finally:
        tenants.close()
    assert head.startswith(b"HTTP/1.1 408"), head
    assert json.loads(body)["error"]["type"] == "UsageError"


def test_the_body_time_limit_must_be_positive(sqlite_tenants: Tenants) -> None:
    with pytest.raises(UsageError, match="positive"):
        create_app(sqlite_tenants, body_timeout_s=0)


# -- MCP sessions and hosts ----------------------------------------------------------------------------


def open_session(http: httpx.Client, key: str | None = ACME) -> httpx.Response:
    auth = {"Authorization": f"Bearer {key}"} if key else {}
    return http.post("/mcp", json=INIT, headers={**MCP_HEADERS, **auth})


def test_mcp_sessions_left_idle_are_closed(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    tenants = Tenants(open_store(tmp_path / "idle.db"), embedder=embedder, api_keys=KEYS)
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    try:
        with (
            run_server(http_app(tenants, session_idle_s=0.2)) as url,
            httpx.Client(base_url=url, timeout=30) as http,
        ):
            session = open_session(http).headers["mcp-session-id"]
            headers = {**MCP_HEADERS, "Authorization": f"Bearer {ACME}", "Mcp-Session-Id": session}
            status = 200
            for _ in range(20):  # each ping that still finds the session starts its idle time again
                time.sleep(1.0)
                status = http.post("/mcp", json=ping, headers=headers).status_code
                if status == 404:
                    break
            assert status == 404
    finally:
        tenants.close()


def test_mcp_sessions_are_capped(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    tenants = Tenants(open_store(tmp_path / "cap.db"), embedder=embedder, api_keys=KEYS)
    try:
        with (
            run_server(http_app(tenants, max_sessions=2)) as url,
            httpx.Client(base_url=url, timeout=30) as http,
        ):
            first, second = open_session(http), open_session(http, "key-globex")
            assert first.status_code == second.status_code == 200
            assert open_session(http).status_code == 503
            ended = http.delete(
                "/mcp",
                headers={
                    **MCP_HEADERS,
                    "Authorization": f"Bearer {ACME}",
                    "Mcp-Session-Id": first.headers["mcp-session-id"],
                },
            )
            assert ended.status_code == 200
            assert open_session(http).status_code == 200
    finally:
        tenants.close()


@pytest.mark.parametrize("bind", ["0.0.0.0", "127.0.0.1"])
def test_keyless_mcp_answers_other_host_names_with_421(sqlite_tenants: Tenants, bind: str) -> None:
    app = http_app(sqlite_tenants, host=bind, allowed_hosts=["memory.lan"])
    with run_server(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        refused = http.post("/mcp", json=INIT, headers={**MCP_HEADERS, **ATTACKER})
        error_of(refused, 421, "UsageError")
        for name in ("memory.lan:8765", f"localhost:{port_of(url)}"):
            assert http.post("/mcp", json=INIT, headers={**MCP_HEADERS, "Host": name}).status_code == 200
        evil = {**MCP_HEADERS, "Origin": "http://attacker.example.com"}
        assert http.post("/mcp", json=INIT, headers=evil).status_code == 403


def test_mcp_command_on_every_interface_without_keys_warns_and_refuses_other_names(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "eidetica", "mcp", "--transport", "http", "--port", str(port)]
    command += ["--host", "0.0.0.0", "--db", str(tmp_path / "cli.db"), "--allowed-host", "memory.lan"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("EIDETICA_")}
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(server, f"{url}/mcp")
        with httpx.Client(base_url=url, timeout=30) as http:
            error_of(http.post("/mcp", json=INIT, headers={**MCP_HEADERS, **ATTACKER}), 421, "UsageError")
            allowed = http.post("/mcp", json=INIT, headers={**MCP_HEADERS, "Host": "memory.lan"})
            assert allowed.status_code == 200
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert "WARNING" in output and "without API keys" in output


# -- failures of the server's own ---------------------------------------------------------------------


class ExplodingEmbedder:
    """The real embedder's name and size; embedding fails with an error nobody planned for."""

    def __init__(self, inner: WordLlamaEmbedder) -> None:
        self.name, self.dim = inner.name, inner.dim

    def embed(self, texts: Any) -> Any:
        raise RuntimeError("secret internal detail at /srv/eidetica")


def test_an_llm_failure_over_rest_names_no_endpoint(
    sqlite_tenants: Tenants, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="eidetica.server")
    down = LLMError("cannot reach http://10.9.8.7:8080/v1/chat/completions: connection refused")
    sqlite_tenants.llm = ScriptedLLM([down, down, down])  # before the tenant's Memory is built
    sqlite_tenants.memory("default").add("Ana adopted a terrier named Biscuit", infer=False)
    with run_server(create_app(sqlite_tenants)) as url, httpx.Client(base_url=url, timeout=30) as http:
        response = http.post("/v1/answer", json={"question": "What is Ana's dog called?"})
    message = error_of(response, 500, "LLMError")
    assert "10.9.8.7" not in message and response.headers["X-Request-ID"] in message
    assert any(
        "10.9.8.7" in line["error"] for line in logged(caplog) if line.get("event") == "internal_error"
    )


def test_an_unexpected_mcp_failure_names_an_id_not_the_exception(
    tmp_path: Path, embedder: WordLlamaEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="eidetica.server")
    tenants = Tenants(open_store(tmp_path / "boom.db"), embedder=ExplodingEmbedder(embedder), api_keys=KEYS)
    try:
        with run_server(http_app(tenants)) as url:

            async def scenario() -> None:
                async with http_session(url, ACME) as session:
                    text = await fail(session, "add_memory", messages="I like tea")
                    assert text.startswith("ServerError:") and "request id" in text
                    assert "RuntimeError" not in text and "secret" not in text
                    assert (await call(session, "list_memories"))["units"] == []

            run(scenario)
    finally:
        tenants.close()
    failures = [line for line in logged(caplog) if line.get("event") == "unexpected_error"]
    assert failures and "secret internal detail" in failures[0]["traceback"]
