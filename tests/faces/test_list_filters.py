"""``list``'s browsing filters on every face, over SQLite and PostgreSQL: ``since`` and ``until``
(when a unit happened, as ``search`` reads them), ``derived_from`` (what was drawn from one unit)
and ``include_deleted`` (deleted units too, marked so).

One conversation is stored per test through the real ``Memory``; ``Memory``, ``Client`` (over a
real uvicorn), the CLI and the MCP tools (over streamable HTTP) then list it, and each answer is
compared with the ids the filters must select.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from eidetica import Client, Memory, UsageError
from eidetica.aio import AsyncClient, AsyncMemory
from eidetica.cli import app
from eidetica.model import MemoryUnit
from eidetica.server.rest import create_app
from eidetica.server.tenants import Tenants

from ..server.conftest import run_server
from ..server.test_mcp import call, fail, http_session, serve

USER = "ana"
#: Three turns a day apart; each yields one derived unit (see ``Seeded``).
TURNS = [
    ("2024-03-01T10:00:00Z", "I moved to Lisbon last month."),
    ("2024-03-02T10:00:00Z", "I work as a nurse at the city hospital."),
    ("2024-03-03T10:00:00Z", "My sister Maya lives in Porto and she adopted a dog yesterday."),
]
SECOND_TURN_SAID = "2024-03-02T10:00:00Z"
RUNNER = CliRunner(env={"COLUMNS": "200", "EIDETICA_DB": None})
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class Seeded:
    """The stored units' ids: turn ``t1`` (1 March) and the event ``e1`` drawn from it (it
    happened in February); turn ``t2`` (2 March) and its fact ``f2`` (undated, as facts are);
    turn ``t3`` (3 March) and its event ``e3`` (2 March, "yesterday")."""

    t1: str
    e1: str
    t2: str
    f2: str
    t3: str
    e3: str


@pytest.fixture
def seeded(memory: Memory) -> Seeded:
    stored: list[str] = []
    for when, text in TURNS:
        result = memory.add(text, user_id=USER, timestamp=when)
        assert len(result.turns) == 1 and len(result.derived) == 1, result
        stored += [result.turns[0].id, result.derived[0].id]
    seeded = Seeded(*stored)
    units = {u.id: u for u in memory.list(user_id=USER)}
    assert units[seeded.f2].kind == "fact" and units[seeded.f2].occurred_at is None
    assert units[seeded.e1].occurred_at == datetime(2024, 2, 1, 12, tzinfo=UTC)
    assert units[seeded.e3].occurred_at == datetime(2024, 3, 2, 12, tzinfo=UTC)
    return seeded


def ids(units: list[MemoryUnit]) -> list[str]:
    return [u.id for u in units]


def delete_some(memory: Memory, seeded: Seeded) -> None:
    """Delete the fact ``f2`` and the turn ``t3`` (which retires ``e3``, drawn from it alone)."""
    memory.delete(seeded.f2, user_id=USER)
    memory.delete(seeded.t3, user_id=USER)


def expected(seeded: Seeded) -> dict[str, list[str]]:
    """What each filter of ``FILTERS`` selects, in list order, before anything is deleted."""
    s = seeded
    return {
        "since": [s.t2, s.e3, s.t3],  # from t2's very moment on; the undated fact is out
        "until": [s.e1, s.t1],  # strictly before t2's moment
        "range": [s.t1, s.t2, s.e3],
        "derived": [s.f2],
        "unknown": [],
    }


FILTERS: dict[str, dict[str, Any]] = {
    "since": {"since": SECOND_TURN_SAID},
    "until": {"until": SECOND_TURN_SAID},
    "range": {"since": "2024-03-01", "until": "2024-03-03"},
    "unknown": {"derived_from": "01NOSUCHUNIT0000000000000"},
}


def filters(seeded: Seeded) -> dict[str, dict[str, Any]]:
    return {**FILTERS, "derived": {"derived_from": seeded.t2}}


# -- Memory ---------------------------------------------------------------------------------------


def test_since_and_until_keep_what_happened_in_the_range(memory: Memory, seeded: Seeded) -> None:
    everything = memory.list(user_id=USER)
    for name in ("since", "until", "range"):
        assert ids(memory.list(user_id=USER, **FILTERS[name])) == expected(seeded)[name], name
    # The same rule, spelled out: happened at or after since, before until; undated units never.
    start, end = datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 3, tzinfo=UTC)
    by_hand = [u.id for u in everything if u.occurred_at is not None and start <= u.occurred_at < end]
    assert ids(memory.list(user_id=USER, since=start, until=end)) == by_hand
    # Naive datetimes and zone-less strings are UTC, as everywhere else.
    assert ids(memory.list(user_id=USER, since=datetime(2024, 3, 2, 10))) == expected(seeded)["since"]
    assert ids(memory.list(user_id=USER, until="2024-03-02T10:00:00")) == expected(seeded)["until"]


def test_since_and_until_mean_what_they_mean_for_search(memory: Memory, seeded: Seeded) -> None:
    window = {"since": "2024-03-01T12:00:00Z", "until": "2024-03-03T12:00:00Z"}
    listed = set(ids(memory.list(user_id=USER, **window)))
    assert listed == {seeded.t2, seeded.e3, seeded.t3}
    hits = memory.search("nurse hospital sister Porto Lisbon", user_id=USER, k=50, **window)
    assert hits and {h.id for h in hits} <= listed


def test_derived_from_keeps_what_was_drawn_from_one_unit(memory: Memory, seeded: Seeded) -> None:
    assert ids(memory.list(user_id=USER, derived_from=seeded.t1)) == [seeded.e1]
    assert ids(memory.list(user_id=USER, derived_from=seeded.t2)) == [seeded.f2]
    assert memory.list(user_id=USER, derived_from=seeded.t2, kinds=["event"]) == []
    assert memory.list(user_id=USER, derived_from=seeded.f2) == []  # nothing is drawn from a fact
    assert memory.list(user_id=USER, derived_from="01NOSUCHUNIT0000000000000") == []
    # Another user's turn is not reached through lineage.
    assert memory.list(user_id="someone-else", derived_from=seeded.t2) == []
    # LIKE's wildcards in an id are taken literally.
    assert memory.list(user_id=USER, derived_from="%") == []
    assert memory.list(user_id=USER, derived_from="_") == []


def test_include_deleted_adds_the_deleted_units_marked_so(memory: Memory, seeded: Seeded) -> None:
    before = memory.list(user_id=USER)
    delete_some(memory, seeded)
    gone = {seeded.f2, seeded.t3, seeded.e3}
    assert set(ids(memory.list(user_id=USER))) == set(ids(before)) - gone
    every = memory.list(user_id=USER, include_deleted=True)
    assert ids(every) == ids(before)  # the same units, in the same order
    assert {u.id for u in every if u.status == "deleted"} == gone
    assert ids(memory.list(user_id=USER, include_deleted=False)) == ids(memory.list(user_id=USER))
    # It composes with the other filters.
    assert memory.list(user_id=USER, derived_from=seeded.t2) == []
    derived = memory.list(user_id=USER, derived_from=seeded.t2, include_deleted=True)
    assert [(u.id, u.status) for u in derived] == [(seeded.f2, "deleted")]
    late = memory.list(user_id=USER, since="2024-03-02T11:00:00Z", include_deleted=True)
    assert [(u.id, u.status) for u in late] == [(seeded.e3, "deleted"), (seeded.t3, "deleted")]


def test_the_async_face_takes_the_same_filters(memory: Memory, seeded: Seeded) -> None:
    async def listed() -> list[MemoryUnit]:
        # Closing the wrapper would close the shared store: it is left open on purpose.
        return await AsyncMemory(memory).list(user_id=USER, derived_from=seeded.t1, until="2024-03-01")

    assert ids(asyncio.run(listed())) == [seeded.e1]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"since": "someday"}, r"^since must be a time: cannot read timestamp 'someday': use ISO 8601"),
        ({"until": "31 Foo 2024"}, r"^until must be a time: cannot read timestamp '31 Foo 2024'"),
        ({"since": "0001-01-01T00:00:00Z"}, r"^since must be a time: timestamp .* is out of range"),
        ({"until": True}, r"^until must be a time: cannot read timestamp True \(a bool\)"),
        ({"derived_from": ""}, r"^derived_from must not be empty$"),
        ({"derived_from": 7}, r"^derived_from must be a string, got int$"),
    ],
)
def test_bad_filters_are_refused_naming_the_parameter(
    memory: Memory, arguments: dict[str, Any], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        memory.list(user_id=USER, **arguments)


# -- Client over HTTP -----------------------------------------------------------------------------


@pytest.fixture
def url(tenants: Tenants) -> Iterator[str]:
    with run_server(create_app(tenants)) as base:
        yield base


def test_the_client_lists_what_memory_lists(url: str, memory: Memory, seeded: Seeded) -> None:
    with Client(url) as client:
        for name, arguments in filters(seeded).items():
            listed = client.list(user_id=USER, **arguments)
            assert ids(listed) == expected(seeded)[name], name
            assert listed == memory.list(user_id=USER, **arguments), name
        # Datetimes travel as ISO 8601, naive ones read as UTC on the server as in Memory.
        moment = datetime(2024, 3, 2, 10)
        assert ids(client.list(user_id=USER, since=moment)) == expected(seeded)["since"]
        assert ids(client.list(user_id=USER, until=moment.replace(tzinfo=UTC))) == expected(seeded)["until"]
        delete_some(memory, seeded)
        every = client.list(user_id=USER, include_deleted=True)
        assert every == memory.list(user_id=USER, include_deleted=True)
        assert {u.id for u in every if u.status == "deleted"} == {seeded.f2, seeded.t3, seeded.e3}
        assert seeded.f2 not in ids(client.list(user_id=USER))
        # Paging without a limit keeps the filters on every page.
        assert ids(client.list(user_id=USER, include_deleted=True, limit=None, until="2024-03-03")) == [
            seeded.e1,
            seeded.t1,
            seeded.t2,
            seeded.e3,
        ]


def test_the_async_client_takes_the_same_filters(url: str, seeded: Seeded) -> None:
    async def listed() -> list[MemoryUnit]:
        async with AsyncClient(url) as client:
            return await client.list(user_id=USER, derived_from=seeded.t3, since="2024-03-02")

    assert ids(asyncio.run(listed())) == [seeded.e3]


def test_the_client_gets_the_servers_words_for_a_bad_filter(url: str, seeded: Seeded) -> None:
    with Client(url) as client:
        with pytest.raises(UsageError, match=r"^since must be a time: cannot read timestamp 'someday'"):
            client.list(user_id=USER, since="someday")
        with pytest.raises(UsageError, match=r"^until must be a time: cannot read timestamp 'never'"):
            client.list(user_id=USER, until="never")
        assert client.list(user_id=USER, derived_from="01NOSUCHUNIT0000000000000") == []


def test_the_rest_query_takes_the_filters_by_name(url: str, seeded: Seeded) -> None:
    with httpx.Client(base_url=url, timeout=30) as http:

        def listed(**params: str) -> list[dict[str, Any]]:
            response = http.get("/v1/memories", params={"user_id": USER, **params})
            assert response.status_code == 200, response.text
            memories: list[dict[str, Any]] = response.json()["memories"]
            return memories

        window = listed(since="2024-03-01", until="2024-03-03")
        assert [u["id"] for u in window] == expected(seeded)["range"]
        assert [u["id"] for u in listed(derived_from=seeded.t1)] == [seeded.e1]
        assert [u["status"] for u in listed(include_deleted="true")] == ["active"] * 6
        bad_time = http.get("/v1/memories", params={"since": "someday"})
        assert bad_time.status_code == 400
        assert bad_time.json()["error"]["type"] == "UsageError"
        assert bad_time.json()["error"]["message"].startswith("since must be a time: ")
        bad_flag = http.get("/v1/memories", params={"include_deleted": "perhaps"})
        assert bad_flag.status_code == 422
        assert "include_deleted" in bad_flag.json()["error"]["message"]


# -- the CLI --------------------------------------------------------------------------------------


def cli(location: str, *args: str) -> tuple[int, str, str]:
    result = RUNNER.invoke(app, ["list", "--user", USER, *args, "--db", location], catch_exceptions=False)
    return result.exit_code, result.stdout, ANSI.sub("", result.stderr).strip()


def cli_ids(location: str, *args: str) -> list[str]:
    code, out, err = cli(location, *args, "--json")
    assert code == 0, err
    return [u["id"] for u in json.loads(out)]


def test_the_cli_lists_with_the_filters(location: str, memory: Memory, seeded: Seeded) -> None:
    assert cli_ids(location, "--since", SECOND_TURN_SAID) == expected(seeded)["since"]
    assert cli_ids(location, "--until", SECOND_TURN_SAID) == expected(seeded)["until"]
    assert cli_ids(location, "--since", "2024-03-01", "--until", "2024-03-03") == expected(seeded)["range"]
    assert cli_ids(location, "--derived-from", seeded.t2) == [seeded.f2]
    assert cli_ids(location, "--derived-from", "01NOSUCHUNIT0000000000000") == []
    delete_some(memory, seeded)
    assert seeded.f2 not in cli_ids(location)
    code, out, err = cli(location, "--include-deleted", "--json")
    assert code == 0, err
    statuses = {u["id"]: u["status"] for u in json.loads(out)}
    assert {i for i, status in statuses.items() if status == "deleted"} == {seeded.f2, seeded.t3, seeded.e3}
    # The table says which rows are deleted.
    code, table, err = cli(location, "--include-deleted", "--derived-from", seeded.t2)
    assert code == 0, err
    assert "status" in table and "deleted" in table and seeded.f2 in table
    code, table, err = cli(location, "--derived-from", seeded.t2)
    assert code == 0 and seeded.f2 not in table and "status" not in table


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--since", "someday"), "error: --since must be a time: cannot read timestamp 'someday'"),
        (("--until", "later"), "error: --until must be a time: cannot read timestamp 'later'"),
        (("--derived-from", ""), "error: --derived-from must not be empty"),
    ],
)
def test_the_cli_refuses_a_bad_filter_naming_its_option(
    location: str, args: tuple[str, ...], message: str
) -> None:
    code, out, err = cli(location, *args)
    assert code == 1 and out == ""
    assert err.startswith(message), err


# -- the MCP tools --------------------------------------------------------------------------------


def test_the_mcp_tool_lists_with_the_filters(tenants: Tenants, memory: Memory, seeded: Seeded) -> None:
    async def scenario(url: str) -> None:
        async with http_session(url, None) as session:

            async def listed(**arguments: Any) -> list[dict[str, Any]]:
                page = await call(session, "list_memories", user_id=USER, **arguments)
                units: list[dict[str, Any]] = page["units"]
                return units

            for name, arguments in filters(seeded).items():
                assert [u["id"] for u in await listed(**arguments)] == expected(seeded)[name], name
            assert {u["status"] for u in await listed()} == {"active"}
            delete_some(memory, seeded)
            every = await listed(include_deleted=True)
            deleted = {u["id"] for u in every if u["status"] == "deleted"}
            assert deleted == {seeded.f2, seeded.t3, seeded.e3}
            assert seeded.f2 not in {u["id"] for u in await listed()}
            error = await fail(session, "list_memories", user_id=USER, since="someday")
            assert error.startswith("UsageError: since must be a time: cannot read timestamp 'someday'")

    with serve(tenants) as url:
        asyncio.run(scenario(url))
