"""``eidetica.Client`` against a real server: it returns what ``Memory`` returns and raises what it raises."""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.types import Receive, Scope, Send

import eidetica.client
from eidetica import (
    AuthError,
    Client,
    EideticaError,
    InputFormatError,
    Memory,
    NotFoundError,
    ServerError,
    UsageError,
)

from .conftest import ACME, GLOBEX, LiveServer, run_server

README = Path(__file__).resolve().parents[2] / "README.md"

ANA = [
    {
        "role": "user",
        "name": "Ana",
        "content": "I adopted a dog last Saturday, a terrier named Biscuit.",
        "id": "a1",
    },
    {"role": "assistant", "content": "What a lovely name!", "id": "a2"},
    {"role": "user", "name": "Ana", "content": "I work as a nurse at the city hospital.", "id": "a3"},
    {"role": "user", "name": "Ana", "content": "Yesterday I ran my first half marathon.", "id": "a4"},
]
WHEN = datetime(2024, 3, 4, 9, 15, tzinfo=UTC)


@pytest.fixture
def client(live: LiveServer) -> Iterator[Client]:
    with live.client() as c:
        yield c


@pytest.fixture
def memory(live: LiveServer) -> Memory:
    """The server-side ``Memory`` of the client's tenant."""
    return live.memory()


def test_add_returns_the_units_the_server_stored(client: Client, memory: Memory) -> None:
    result = client.add(ANA, user_id="ana", agent_id="helper", session_id="s1", timestamp=WHEN)
    assert [u.text for u in result.turns] == [m["content"] for m in ANA]
    assert result.derived and result.skipped_refs == []
    for unit in result.units:
        stored = memory.get(unit.id, user_id="ana")
        assert (unit.id, unit.text, unit.kind, unit.scope, unit.sources) == (
            stored.id, stored.text, stored.kind, stored.scope, stored.sources
        )  # fmt: skip
    assert result.turns[0].occurred_at == WHEN
    assert result.turns[0].scope.agent_id == "helper" and result.turns[0].scope.tenant == "acme"
    assert client.add(ANA[:1], user_id="ana", session_id="s1").skipped_refs == ["a1"]


def test_reads_equal_what_memory_returns(client: Client, memory: Memory) -> None:
    client.add(ANA, user_id="ana", session_id="s1", timestamp=WHEN)
    client.add("I also like green tea", user_id="ana", session_id="s2", timestamp="2024-03-05T10:00:00")
    query = "What did Ana do on the weekend?"
    assert client.search(query, user_id="ana") == memory.search(query, user_id="ana")
    assert client.search(query, user_id="ana", k=2, kinds=["event", "fact"]) == memory.search(
        query, user_id="ana", k=2, kinds=["event", "fact"]
    )
    since, until = "2024-03-05", datetime(2024, 3, 6, tzinfo=UTC)
    assert client.search("tea", user_id="ana", since=since, until=until) == memory.search(
        "tea", user_id="ana", since=since, until=until
    )
    assert client.search(query, user_id="ana", session_id="s2") == memory.search(
        query, user_id="ana", session_id="s2"
    )
    for budget in (30, 400):
        assert client.context(query, user_id="ana", budget_tokens=budget) == memory.context(
            query, user_id="ana", budget_tokens=budget
        )
    assert client.list(user_id="ana") == memory.list(user_id="ana")
    assert client.list(user_id="ana", kinds=["turn"], limit=2, offset=1) == memory.list(
        user_id="ana", kinds=["turn"], limit=2, offset=1
    )
    unit = memory.list(user_id="ana")[0]
    assert client.get(unit.id) == memory.get(unit.id)
    assert client.get(unit.id, user_id="ana") == unit
    assert client.history(unit.id, user_id="ana") == memory.history(unit.id, user_id="ana")
    assert client.stats(user_id="ana") == memory.stats(user_id="ana")
    assert client.stats().units == memory.stats().units
    client.add("I play chess", user_id="bo")
    assert client.users() == memory.users() == ["ana", "bo"]


def test_list_without_a_limit_fetches_every_page(
    client: Client, memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eidetica.client, "PAGE", 3)
    client.add([{"content": f"note number {i}"} for i in range(8)], user_id="ana", infer=False)
    everything = client.list(user_id="ana", limit=None)
    assert len(everything) == 8 and everything == memory.list(user_id="ana", limit=None)
    assert client.list(user_id="ana", limit=None, offset=5) == everything[5:]


def test_update_delete_forget_change_what_memory_sees(client: Client, memory: Memory) -> None:
    result = client.add(ANA, user_id="ana", session_id="s1", timestamp=WHEN)
    fact = result.derived[0]
    updated = client.update(fact.id, "Ana has a terrier.", user_id="ana", metadata={"checked": True})
    assert updated == memory.get(fact.id) and updated.version == 2 and updated.metadata == {"checked": True}
    deleted = client.delete(fact.id, user_id="ana")
    assert deleted.status == "deleted" and deleted == memory.get(fact.id)
    assert [e.op for e in client.history(fact.id)] == ["add", "update", "delete"]
    assert client.history(fact.id) == memory.history(fact.id)
    remaining = len(memory.list(user_id="ana"))
    assert client.forget(user_id="ana") == remaining + 1  # the deleted unit goes too
    assert memory.list(user_id="ana") == [] and client.list(user_id="ana") == []


def test_errors_are_the_ones_memory_raises(client: Client, memory: Memory) -> None:
    turn = client.add("I like tea", user_id="ana").turns[0]
    stored = memory.list(user_id="ana")
    calls: list[tuple[str, Any, dict[str, Any]]] = [
        ("get", ("01NOSUCHUNIT",), {}),
        ("get", (turn.id,), {"user_id": "ben"}),
        ("delete", ("01NOSUCHUNIT",), {}),
        ("history", ("01NOSUCHUNIT",), {}),
        ("update", (turn.id, "changed"), {}),
        ("update", (turn.id, "  "), {}),
        ("search", ("",), {}),
        ("search", ("tea",), {"k": 0}),
        ("search", ("tea",), {"kinds": ["fish"]}),
        ("search", ("tea",), {"since": "not a date"}),
        ("context", ("tea",), {"budget_tokens": 0}),
        ("list", (), {"limit": -1}),
        ("add", ([{"role": "user", "content": ""}],), {}),
        ("add", ("x",), {"user_id": " "}),
        ("add", ("x",), {"session_id": "s" * 300}),
        ("forget", (), {"user_id": "  "}),
        ("forget", (), {"user_id": None}),
        ("stats", (), {"user_id": ""}),
    ]
    for name, args, kwargs in calls:
        with pytest.raises(EideticaError) as local:
            getattr(memory, name)(*args, **kwargs)
        with pytest.raises(EideticaError) as remote:
            getattr(client, name)(*args, **kwargs)
        assert type(remote.value) is type(local.value), (name, args, kwargs)
        assert str(remote.value) == str(local.value), (name, args, kwargs)
    assert memory.list(user_id="ana") == stored  # no failed call changed anything


def test_wrong_types_raise_usage_error(client: Client) -> None:
    with pytest.raises(UsageError, match="k"):
        client.search("tea", k="ten")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="messages"):
        client.add(42)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="JSON"):
        client.add({"content": "hi", "metadata": {"when": object()}})
    with pytest.raises(NotFoundError, match="string"):
        client.get(42)  # type: ignore[arg-type]


def test_keys_and_tenants(live: LiveServer) -> None:
    with live.client(ACME) as acme, live.client(GLOBEX) as globex:
        unit = acme.add("I like tea", user_id="ana").turns[0]
        assert globex.search("tea", user_id="ana") == []
        with pytest.raises(NotFoundError):
            globex.get(unit.id)
        assert globex.list(user_id="ana") == [] and globex.stats().units == 0
        assert acme.get(unit.id) == unit
    for key in (None, "wrong-key"):
        with live.client(key) as stranger, pytest.raises(AuthError, match="API key"):
            stranger.stats()


def test_an_unreachable_server_is_a_server_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with Client(f"http://127.0.0.1:{port}") as client, pytest.raises(ServerError, match="cannot reach"):
        client.stats()


def test_a_server_that_does_not_answer_in_time_is_a_server_error() -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with (
            Client(f"http://127.0.0.1:{port}", timeout=0.3) as client,
            pytest.raises(ServerError, match="no answer"),
        ):
            client.stats()


async def not_eidetica(scope: Scope, receive: Receive, send: Send) -> None:
    """A server that is not Eidetica's: HTML errors, and JSON of another shape."""
    if scope["type"] != "http":
        return
    status, body, kind = (
        (502, b"<html>Bad Gateway</html>", b"text/html")
        if scope["path"] == "/v1/stats"
        else (200, b'{"something": "else"}', b"application/json")
    )
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", kind)]})
    await send({"type": "http.response.body", "body": body})


def test_answers_that_are_not_eideticas_are_server_errors() -> None:
    with run_server(not_eidetica) as url, Client(url) as client:
        with pytest.raises(ServerError, match="HTTP 502"):
            client.stats()
        with pytest.raises(ServerError, match="not Eidetica's JSON"):
            client.search("tea")


@pytest.mark.parametrize("url", ["localhost:8000", "ftp://example", "http://", ""])
def test_a_bad_url_is_a_usage_error(url: str) -> None:
    with pytest.raises(UsageError, match="not a server URL"):
        Client(url)


def test_input_format_errors_keep_their_class(live: LiveServer) -> None:
    # A Client only sends valid JSON; a raw request shows the class the wire carries back.
    with live.http() as http:
        response = http.post("/v1/search", content=b"{", headers={"Content-Type": "application/json"})
    from eidetica import wire

    assert isinstance(wire.error_from_wire(response.json(), "x"), InputFormatError)


def _import_rows() -> list[dict[str, Any]]:
    """Two users, two sessions each, speakers, times, metadata, and lines without an id."""
    rows: list[dict[str, Any]] = []
    for user, (me, friend) in {"u1": ("Ann", "Bob"), "u2": ("Cy", "Di")}.items():
        for session in ("s1", "s2"):
            for i, text in enumerate(
                [
                    f"Yesterday I adopted a cat called Miso ({session}).",
                    "Lovely! Did you also start the pottery class you mentioned?",
                    "Yes, I made my first bowl last week and my sister Eva loved it.",
                ]
            ):
                row = {
                    "user_id": user,
                    "session_id": session,
                    "role": "user",
                    "name": friend if i % 2 else me,
                    "content": text,
                    "timestamp": f"2023-0{5 + (session == 's2')}-0{i + 1}T10:00:00Z",
                }
                if i != 1:
                    row["id"] = f"{user}-{session}-{i}"
                    row["metadata"] = {"n": i}
                rows.append(row)
    return rows


def _units(memory: Memory | Client, user: str) -> list[tuple[Any, ...]]:
    return sorted(
        (u.kind, u.text, u.speaker, u.role, u.occurred_at, u.sources, u.scope.session_id, str(u.metadata))
        for u in memory.list(user_id=user, limit=None)
    )


def test_import_file_stores_what_a_local_import_stores(
    client: Client, memory: Memory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "chats.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in _import_rows()) + "\n", encoding="utf-8")
    with Memory(tmp_path / "local.db", embedder=memory.embedder) as local:
        expected = local.import_file(path)
        expected_units = {user: _units(local, user) for user in ("u1", "u2")}
    seen: list[tuple[int, int]] = []
    monkeypatch.setattr(eidetica.client, "IMPORT_REQUEST_TURNS", 2)  # sessions span requests too

    report = client.import_file(path, progress=lambda done, total: seen.append((done, total)))

    assert report == expected
    assert report.turns == 12 and report.derived > 0
    assert seen[-1] == (12, 12) and len(seen) == 8  # 4 sessions of 3 turns, 2 per request
    for user, units in expected_units.items():
        assert _units(memory, user) == _units(client, user) == units
    again = client.import_file(path)
    assert (again.turns, again.skipped_refs) == (0, 12)  # resumes by id or file line
    assert memory.stats(user_id="u1").units == len(expected_units["u1"])


def test_import_file_sends_nothing_from_an_invalid_file(
    client: Client, memory: Memory, tmp_path: Path
) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"role": "user", "content": "I live in Oslo."}\n{"role": "user"\n', encoding="utf-8")
    with pytest.raises(InputFormatError, match="line 2"):
        client.import_file(path)
    assert memory.stats().units == 0
    report = client.import_file(path, skip_invalid=True)
    assert report.turns == 1 and len(report.errors) == 1 and "line 2" in report.errors[0]


def test_concurrent_clients_write_and_read_without_errors_or_lost_writes(live: LiveServer) -> None:
    threads, per_thread = 8, 6
    failures: list[BaseException] = []
    written: list[str] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            with live.client(ACME if n % 2 else GLOBEX) as client:
                for i in range(per_thread):
                    result = client.add(
                        f"worker {n} wrote note {i} about tea", user_id=f"user{n % 3}", infer=False
                    )
                    with lock:
                        written.append(result.turns[0].id)
                    client.search("tea", user_id=f"user{n % 3}", k=5)
                    client.list(user_id=f"user{n % 3}", limit=5)
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert failures == []
    assert len(written) == len(set(written)) == threads * per_thread
    stored = {
        u.id
        for key in (ACME, GLOBEX)
        for user in ("user0", "user1", "user2")
        for u in live.memory(key).list(user_id=user, limit=None)
    }
    assert stored == set(written)


def test_readme_client_snippet_runs(live: LiveServer) -> None:
    text = README.read_text(encoding="utf-8")
    start = text.index("## REST server and Python client")
    match = re.search(r"```python\n(.*?)```", text[start:], re.S)
    assert match, "the README's REST section has a Python block"
    code = (
        match.group(1).replace("http://127.0.0.1:8000", live.url).replace('api_key="k1"', f'api_key="{ACME}"')
    )
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(compile(code, "README.md", "exec"), {})
    assert "oolong" in printed.getvalue()
    assert live.memory().list(user_id="alice")


def test_metadata_tags_and_filters_travel_over_http(client: Client, memory: Memory, live: LiveServer) -> None:
    client.add(ANA[:2], user_id="ana", timestamp=WHEN, metadata={"project": "apollo", "n": 1})
    client.add(ANA[2:], user_id="ana", timestamp=WHEN)
    tags = {"project": "apollo", "n": 1.0}
    over_http = client.list(user_id="ana", metadata=tags)
    assert over_http and [u.id for u in over_http] == [
        u.id for u in memory.list(user_id="ana", metadata=tags)
    ]
    assert all(u.metadata["project"] == "apollo" for u in over_http)
    hits = client.search("dog", user_id="ana", metadata={"project": "apollo"})
    assert hits and {h.id for h in hits} == {h.id for h in memory.search("dog", user_id="ana", metadata=tags)}
    packed = client.context("what does Ana do for work", user_id="ana", metadata={"project": "apollo"})
    assert "nurse" not in packed.text
    with pytest.raises(UsageError, match="string, number, boolean or null"):
        client.list(user_id="ana", metadata={"project": ["apollo"]})
    with pytest.raises(UsageError, match="string, number, boolean or null"):
        client.search("dog", user_id="ana", metadata={"project": {"a": 1}})
    with live.http() as http:
        both = http.get("/v1/memories", params={"user_id": "ana", "metadata": '{"project": "apollo"}'})
        assert both.status_code == 200 and len(both.json()["memories"]) == len(over_http)
        bad = http.get("/v1/memories", params={"user_id": "ana", "metadata": "project=apollo"})
        assert bad.status_code == 400 and "metadata is not JSON" in bad.text
        reserved = http.post("/v1/memories", json={"messages": "hi", "metadata": {"quarantine": 1}})
        assert reserved.status_code == 400 and "kept by eidetica" in reserved.text
