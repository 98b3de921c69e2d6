"""Archived units on every face, over SQLite and PostgreSQL: ``include_archived`` on search,
context and list, ``maintain`` (and its dry run) and ``restore``, through the REST API (a real
uvicorn), ``Client`` and the async faces, the CLI and the MCP tools (over streamable HTTP).

Each test stores, through the real ``Memory``, a statement said once in 2021 (with the default
decay it has long faded) and one said today; ``archived`` has ``Memory.maintain`` archive the old
one, the other tests maintain through the face under test.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from eidetica import Client, MaintainReport, Memory, NotFoundError, UsageError
from eidetica.aio import AsyncClient, AsyncMemory
from eidetica.cli import app
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.server.rest import create_app
from eidetica.server.tenants import Tenants
from eidetica.storage import open_store

from ..server.conftest import run_server
from ..server.test_mcp import call, fail, http_session, serve

USER = "sam"
OLD = "2021-03-01T10:00:00Z"
QUERY = "greyhound called Pixel"
QUESTION = "Which greyhound did Sam adopt?"
RUNNER = CliRunner(env={"COLUMNS": "200", "EIDETICA_DB": None})
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Seeded:
    """The ids said in 2021 (the turn first, then what was drawn from it) and today."""

    old: tuple[str, ...]
    new: tuple[str, ...]

    @property
    def turn(self) -> str:
        return self.old[0]


def say(memory: Memory, text: str, at: str | None = None) -> tuple[str, ...]:
    result = memory.add([{"role": "user", "name": "Sam", "content": text}], user_id=USER, timestamp=at)
    return tuple(u.id for u in result.turns + result.derived)


@pytest.fixture
def seeded(memory: Memory) -> Seeded:
    return Seeded(
        say(memory, "I adopted a greyhound called Pixel.", OLD),
        say(memory, "I went running by the river this morning."),
    )


@pytest.fixture
def archived(memory: Memory, seeded: Seeded) -> Seeded:
    assert set(memory.maintain().sample) == set(seeded.old)
    return seeded


@pytest.fixture
def url(tenants: Tenants) -> Iterator[str]:
    with run_server(create_app(tenants)) as base:
        yield base


def unchanged(memory: Memory, seeded: Seeded) -> bool:
    """Nothing archived: a dry run left the store as it was."""
    listed = {u.id for u in memory.list(user_id=USER)}
    return memory.stats(user_id=USER).archived == 0 and listed == {*seeded.old, *seeded.new}


# -- REST -----------------------------------------------------------------------------------------


def test_rest_reads_leave_archived_units_out_unless_asked(url: str, archived: Seeded) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:

        def found(**asked: Any) -> dict[str, str]:
            response = http.post("/v1/search", json={"query": QUERY, "user_id": USER, **asked})
            assert response.status_code == 200, response.text
            return {h["unit"]["id"]: h["unit"]["status"] for h in response.json()["hits"]}

        def listed(**asked: str) -> dict[str, str]:
            response = http.get("/v1/memories", params={"user_id": USER, **asked})
            assert response.status_code == 200, response.text
            return {u["id"]: u["status"] for u in response.json()["memories"]}

        def context(**asked: Any) -> str:
            response = http.post("/v1/context", json={"query": QUESTION, "user_id": USER, **asked})
            assert response.status_code == 200, response.text
            text: str = response.json()["text"]
            return text

        assert found().keys().isdisjoint(archived.old)
        assert found(include_archived=True)[archived.turn] == "archived"
        assert set(listed()) == set(archived.new)
        every = listed(include_archived="true")
        assert {i for i, status in every.items() if status == "archived"} == set(archived.old)
        assert "Pixel" not in context() and "Pixel" in context(include_archived=True)


def test_rest_maintains_and_restores(url: str, memory: Memory, seeded: Seeded) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:
        dry = http.post("/v1/maintain", json={"dry_run": True})
        assert dry.status_code == 200, dry.text
        assert dry.json()["dry_run"] is True and set(dry.json()["sample"]) == set(seeded.old)
        assert unchanged(memory, seeded)
        done = http.post("/v1/maintain", json={"user_id": USER})
        assert done.status_code == 200, done.text
        report = done.json()
        assert report["users"] == 1 and sum(report["archived"].values()) == len(seeded.old)
        assert memory.stats(user_id=USER).archived == len(seeded.old)

        restore = f"/v1/memories/{seeded.turn}/restore"
        back = http.post(restore, params={"user_id": USER})
        assert back.status_code == 200, back.text
        assert back.json()["id"] == seeded.turn and back.json()["status"] == "active"
        history = http.get(f"/v1/memories/{seeded.turn}/history", params={"user_id": USER}).json()
        assert [e["op"] for e in history["history"]] == ["add", "archive", "restore"]
        again = http.post(restore, params={"user_id": USER})
        assert again.status_code == 400 and again.json()["error"]["type"] == "UsageError"
        assert again.json()["error"]["message"] == f"unit {seeded.turn} is not archived (it is active)"
        assert http.post("/v1/memories/01NOSUCHUNIT0000000000000/restore").status_code == 404
        assert http.post("/v1/maintain", json={"dry_run": "yes"}).status_code == 422


def test_a_tenant_maintains_and_restores_its_own_units_only(
    location: str, embedder: WordLlamaEmbedder
) -> None:
    keyed = Tenants(
        open_store(location), embedder=embedder, api_keys={"key-acme": "acme", "key-globex": "globex"}
    )
    try:
        acme = Seeded(say(keyed.memory("acme"), "I adopted a greyhound called Pixel.", OLD), ())
        with run_server(create_app(keyed)) as base:
            with Client(base, api_key="key-globex") as globex:
                assert globex.maintain().archived_total == 0
                assert keyed.memory("acme").stats().archived == 0
            with Client(base, api_key="key-acme") as client:
                assert client.maintain().archived_total == len(acme.old)
            with Client(base, api_key="key-globex") as globex, pytest.raises(NotFoundError):
                globex.restore(acme.turn, user_id=USER)
    finally:
        keyed.close()


# -- Client and the async faces ---------------------------------------------------------------------


def test_the_client_answers_what_memory_answers(url: str, memory: Memory, seeded: Seeded) -> None:
    seen: list[tuple[int, int]] = []
    with Client(url) as client:
        dry = client.maintain(user_id=USER, dry_run=True, progress=lambda *done: seen.append(done))
        assert dry == memory.maintain(user_id=USER, dry_run=True) and dry.dry_run
        assert seen == [(dry.examined, dry.examined)] and unchanged(memory, seeded)
        report = client.maintain()
        assert report == MaintainReport(1, dry.examined, dry.archived, False, dry.sample)
        for asked in ({}, {"include_archived": True}):
            assert client.list(user_id=USER, **asked) == memory.list(user_id=USER, **asked)
            hits = client.search(QUERY, user_id=USER, **asked)
            assert [h.id for h in hits] == [h.id for h in memory.search(QUERY, user_id=USER, **asked)]
        assert seeded.turn in {h.id for h in client.search(QUERY, user_id=USER, include_archived=True)}
        assert "Pixel" in client.context(QUESTION, user_id=USER, include_archived=True).text
        assert client.restore(seeded.turn, user_id=USER).status == "active"
        assert client.history(seeded.turn)[-1].op == "restore"
        for call_it in (
            lambda face: face.restore(seeded.turn),
            lambda face: face.search(QUERY, include_archived="yes"),
            lambda face: face.maintain(dry_run=1),
        ):
            with pytest.raises(UsageError) as local:
                call_it(memory)
            with pytest.raises(UsageError) as remote:
                call_it(client)
            assert str(remote.value) == str(local.value)


def test_the_async_faces_maintain_and_restore(url: str, memory: Memory, seeded: Seeded) -> None:
    async def scenario() -> None:
        # Closing the wrapper would close the shared store: AsyncMemory is left open on purpose.
        local = AsyncMemory(memory)
        assert (await local.maintain(dry_run=True)).archived_total == len(seeded.old)
        async with AsyncClient(url) as client:
            assert (await client.maintain(user_id=USER)).archived_total == len(seeded.old)
            listed = await client.list(user_id=USER, include_archived=True)
            assert {u.id for u in listed if u.status == "archived"} == set(seeded.old)
            assert (await client.restore(seeded.turn)).status == "active"
        assert (await local.restore(seeded.old[-1])).status == "active"

    asyncio.run(scenario())
    assert memory.stats(user_id=USER).archived == len(seeded.old) - 2


# -- the CLI --------------------------------------------------------------------------------------


def cli(location: str, *args: str) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, [*args, "--db", location], catch_exceptions=False)
    return result.exit_code, result.stdout, ANSI.sub("", result.stderr).strip()


def cli_json(location: str, *args: str) -> Any:
    code, out, err = cli(location, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def test_the_cli_maintains_lists_and_restores(location: str, memory: Memory, seeded: Seeded) -> None:
    code, out, err = cli(location, "maintain", "--dry-run")
    assert code == 0, err
    assert "units examined" in out and "to archive" in out and "nothing was changed" in out
    assert all(unit_id in out for unit_id in seeded.old)
    dry = cli_json(location, "maintain", "--dry-run", "--user", USER)
    assert dry["dry_run"] is True and set(dry["sample"]) == set(seeded.old)
    assert unchanged(memory, seeded)
    code, out, err = cli(location, "maintain", "--user", USER)
    assert code == 0, err
    assert "turn units archived" in out and "nothing was changed" not in out

    assert {u["id"] for u in cli_json(location, "list", "--user", USER)} == set(seeded.new)
    every = cli_json(location, "list", "--user", USER, "--include-archived")
    assert {u["id"] for u in every if u["status"] == "archived"} == set(seeded.old)
    code, table, err = cli(location, "list", "--user", USER, "--include-archived")
    assert code == 0 and "status" in table and "archived" in table, err
    hits = cli_json(location, "search", QUERY, "--user", USER)
    assert {h["unit"]["id"] for h in hits}.isdisjoint(seeded.old)
    hits = cli_json(location, "search", QUERY, "--user", USER, "--include-archived")
    assert seeded.turn in {h["unit"]["id"] for h in hits}
    code, out, err = cli(location, "context", QUESTION, "--user", USER, "--include-archived")
    assert code == 0 and "Pixel" in out, err

    restored = cli_json(location, "restore", seeded.turn, "--user", USER)
    assert restored["id"] == seeded.turn and restored["status"] == "active"
    assert memory.history(seeded.turn)[-1].op == "restore"
    code, out, err = cli(location, "restore", seeded.turn)
    assert code == 1 and out == ""
    assert err == f"error: unit {seeded.turn} is not archived (it is active)"


# -- the MCP tools --------------------------------------------------------------------------------


def test_the_mcp_tools_read_archived_units_when_asked_and_restore_them(
    tenants: Tenants, archived: Seeded
) -> None:
    async def scenario(url: str) -> None:
        async with http_session(url, None) as session:
            user = {"user_id": USER}
            found = await call(session, "search_memories", query=QUERY, **user)
            assert {h["id"] for h in found["hits"]}.isdisjoint(archived.old)
            found = await call(session, "search_memories", query=QUERY, include_archived=True, **user)
            assert {h["id"]: h["status"] for h in found["hits"]}[archived.turn] == "archived"
            page = await call(session, "list_memories", include_archived=True, **user)
            assert {u["id"] for u in page["units"] if u["status"] == "archived"} == set(archived.old)
            assert {u["id"] for u in (await call(session, "list_memories", **user))["units"]} == set(
                archived.new
            )
            packed = await call(session, "get_context", query=QUESTION, include_archived=True, **user)
            assert "Pixel" in packed["text"]
            assert (await call(session, "get_memory", id=archived.turn, **user))["status"] == "archived"

            back = await call(session, "restore_memory", id=archived.turn, **user)
            assert back["status"] == "active"
            history = await call(session, "memory_history", id=archived.turn, **user)
            assert [v["op"] for v in history["history"]] == ["add", "archive", "restore"]
            error = await fail(session, "restore_memory", id=archived.turn, **user)
            assert error == f"UsageError: unit {archived.turn} is not archived (it is active)"

    with serve(tenants) as url:
        asyncio.run(scenario(url))
