"""Profiles and session summaries over real HTTP, on both backends: ``Client`` returns what
``Memory`` returns for the same store, and the REST API refuses what ``Memory`` refuses, with its
words."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from eidetica import Client, Memory, NotFoundError, UsageError
from eidetica.aio import AsyncClient
from eidetica.api import DEFAULT_SUMMARY_BUDGET

from .conftest import ACME, GLOBEX, LiveServer

#: Sam lives in Lisbon, has a sister and loves jazz (session s1); then moves to Oslo (s2).
SAM = [
    ("s1", "I live in Lisbon. My sister Ana works at Nubank. I love jazz.", "2024-03-01T10:00:00+00:00"),
    ("s2", "I moved from Lisbon to Oslo last week.", "2024-05-02T10:00:00+00:00"),
]
#: Session ids a URL path must carry whole: a slash, spaces, dots that read as a relative path.
ODD_SESSIONS = {
    "trips/2024 spring": "I flew to Porto with my friend Rita last Friday.",
    "..": "I adopted a cat named Miso yesterday.",
}


def seed(client: Client, user: str = "sam") -> list[Any]:
    """Add Sam's two sessions, one request each; return the results in order."""
    return [
        client.add(
            [{"role": "user", "name": "Sam", "content": text}],
            user_id=user,
            session_id=session,
            timestamp=when,
        )
        for session, text, when in SAM
    ]


@pytest.fixture
def client(live: LiveServer) -> Iterator[Client]:
    with live.client() as c:
        yield c


@pytest.fixture
def memory(live: LiveServer) -> Memory:
    """The server-side ``Memory`` of the client's tenant."""
    return live.memory()


def test_the_profile_equals_what_memory_returns_and_holds_only_what_is_current(
    client: Client, memory: Memory
) -> None:
    added = seed(client)
    found = client.profile(user_id="sam")
    assert found == memory.profile(user_id="sam")
    assert found.entity.name == "Sam" and found.entity.kind == "person"
    by_section = {
        section: [line.text for line in found.lines if line.section == section]
        for section in {line.section for line in found.lines}
    }
    assert any("Ana" in text for text in by_section["relationships"])
    assert any("Oslo" in text for text in by_section["attributes"])
    assert "Sam lives in Lisbon." not in [line.text for line in found.lines]  # superseded by the move
    assert "Sam loves jazz." in by_section["preferences"]
    # Each line quotes a unit as it is stored, with its sources and the day it was said.
    for line in found.lines:
        unit = memory.get(line.unit_id, user_id="sam")
        assert (unit.text, unit.sources) == (line.text, line.sources)
        assert line.said_at is not None and line.said_at.tzinfo is not None
    assert found.tokens > 0
    # Anyone else by name, in any case; the same as without a name for the user themself.
    assert client.profile(user_id="sam", name="SAM") == found
    ana = client.profile(user_id="sam", name="ana")
    assert ana == memory.profile(user_id="sam", name="ana")
    assert ana.entity.name == "Ana"
    assert [line.unit_id for line in ana.lines] == [added[0].derived[1].id]


def test_a_summary_quotes_its_own_session_within_the_budget(client: Client, memory: Memory) -> None:
    seed(client)
    found = client.summary("s1", user_id="sam")
    assert found == memory.summary("s1", user_id="sam")
    assert found.session_id == "s1" and found.budget_tokens == DEFAULT_SUMMARY_BUDGET
    assert 0 < found.tokens <= found.budget_tokens
    assert found.unit_ids
    for unit_id in found.unit_ids:
        unit = memory.get(unit_id, user_id="sam")
        assert unit.scope.session_id == "s1" and unit.kind in ("fact", "event")
        assert unit.text in found.text
        assert set(unit.sources) <= set(found.sources)
    assert "Sam lives in Lisbon." not in found.text  # no longer holds
    assert "Oslo" not in found.text  # said in s2
    assert found.text.startswith("[1 March 2024]")
    small = client.summary("s1", user_id="sam", budget_tokens=12)
    assert small == memory.summary("s1", user_id="sam", budget_tokens=12)
    assert small.tokens <= 12 and len(small.unit_ids) < len(found.unit_ids)
    moved = client.summary("s2", user_id="sam")
    assert moved == memory.summary("s2", user_id="sam")
    assert "Oslo" in moved.text and not set(moved.unit_ids) & set(found.unit_ids)


def test_session_ids_with_slashes_spaces_and_dots_reach_their_summary(client: Client, memory: Memory) -> None:
    for session, text in ODD_SESSIONS.items():
        client.add([{"role": "user", "name": "Sam", "content": text}], user_id="sam", session_id=session)
    for session in ODD_SESSIONS:
        found = client.summary(session, user_id="sam")
        assert found == memory.summary(session, user_id="sam")
        assert found.session_id == session and found.unit_ids
        assert {memory.get(i, user_id="sam").scope.session_id for i in found.unit_ids} == {session}
    assert "Porto" in client.summary("trips/2024 spring", user_id="sam").text
    assert "Miso" in client.summary("..", user_id="sam").text
    with pytest.raises(NotFoundError, match="no session 'trips'"):
        client.summary("trips", user_id="sam")


def test_an_unknown_session_is_a_404_in_the_librarys_words(live: LiveServer, client: Client) -> None:
    seed(client)
    for session, user in (("s3", "sam"), ("s1", "ben"), ("a/b", "sam"), (".", "sam")):
        with pytest.raises(NotFoundError) as local:
            live.memory().summary(session, user_id=user)
        with pytest.raises(NotFoundError, match="no session") as remote:
            client.summary(session, user_id=user)
        assert str(remote.value) == str(local.value)
    with live.http() as http:
        answer = http.get("/v1/sessions/a%2Fb/summary", params={"user_id": "sam"})
    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "type": "NotFoundError",
        "message": "no session 'a/b' in this user's memory",
    }


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/v1/sessions/s1/summary", {"budget_tokens": "0"}, 400, "budget_tokens must be a positive integer"),
        (
            "/v1/sessions/s1/summary",
            {"budget_tokens": "100001"},
            400,
            "budget_tokens must be at most 100,000",
        ),
        ("/v1/sessions/s1/summary", {"budget_tokens": "many"}, 422, "query parameter budget_tokens"),
        ("/v1/sessions/s1/summary", {"budget": "50"}, 422, "unknown query parameter 'budget'"),
        ("/v1/sessions/s1/summary", {"user_id": ""}, 400, "user_id must not be empty"),
        ("/v1/sessions//summary", {}, 400, "session_id must not be empty"),
        ("/v1/sessions/%20/summary", {}, 400, "session_id must not be empty"),
        ("/v1/sessions/s9/summary", {"user_id": "sam"}, 404, "no session 's9' in this user's memory"),
        ("/v1/profile", {"name": ""}, 400, "name must be a non-empty string"),
        ("/v1/profile", {"name": "a\x00b"}, 400, "name contains a NUL character"),
        ("/v1/profile", {"user_id": "sam", "name": "zed"}, 404, "no entity 'zed' in this memory"),
        ("/v1/profile", {"who": "Sam"}, 422, "unknown query parameter 'who'"),
        ("/v1/profile", {}, 400, "this memory has no user who gave a name; name the person"),
    ],
)
def test_bad_requests_are_4xx_with_the_librarys_words(
    live: LiveServer, client: Client, path: str, params: dict[str, str], status: int, words: str
) -> None:
    seed(client)
    with live.http() as http:
        answer = http.get(path, params=params)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]["message"]


def test_the_client_raises_what_memory_raises(client: Client, memory: Memory) -> None:
    seed(client)
    for call in (
        lambda face: face.profile(name=""),
        lambda face: face.profile(name=7),
        lambda face: face.profile(user_id=""),
        lambda face: face.summary("s1", budget_tokens=0),
        lambda face: face.summary("s1", budget_tokens="200"),
        lambda face: face.summary("s1", budget_tokens=True),
        lambda face: face.summary("s1", budget_tokens=10**6),
        lambda face: face.summary(""),
        lambda face: face.summary(7),
    ):
        with pytest.raises(UsageError) as local:
            call(memory)
        with pytest.raises(UsageError) as remote:
            call(client)
        assert str(remote.value) == str(local.value)


def test_a_user_who_never_gave_a_name_needs_one_named(client: Client, memory: Memory) -> None:
    client.add("I like green tea.", user_id="anon", session_id="s1")
    with pytest.raises(UsageError) as local:
        memory.profile(user_id="anon")
    with pytest.raises(UsageError) as remote:
        client.profile(user_id="anon")
    assert str(remote.value) == str(local.value) == "this memory has no user who gave a name; name the person"
    # Two people speaking as the user: the message names them.
    for name, text in (("Sam", "I love jazz."), ("Eve", "I love chess.")):
        client.add([{"role": "user", "name": name, "content": text}], user_id="pair")
    with pytest.raises(UsageError, match=r"several people speak as the user \(Eve, Sam\); name one"):
        client.profile(user_id="pair")
    assert client.profile(user_id="pair", name="Eve") == memory.profile(user_id="pair", name="Eve")


def test_another_tenant_sees_no_profile_or_summary(live: LiveServer) -> None:
    with live.client(ACME) as acme, live.client(GLOBEX) as globex:
        seed(acme)
        assert acme.profile(user_id="sam").lines
        with pytest.raises(NotFoundError):
            globex.profile(user_id="sam", name="Sam")
        with pytest.raises(UsageError, match="no user who gave a name"):
            globex.profile(user_id="sam")
        with pytest.raises(NotFoundError):
            globex.summary("s1", user_id="sam")


def test_the_async_client_returns_what_memory_returns(live: LiveServer, memory: Memory) -> None:
    with live.client() as client:
        seed(client)

    async def scenario() -> None:
        async with AsyncClient(live.url, api_key=ACME) as remote:
            found, summary = await asyncio.gather(
                remote.profile(user_id="sam", name="Sam"),
                remote.summary("s1", user_id="sam", budget_tokens=50),
            )
        assert found == memory.profile(user_id="sam", name="Sam")
        assert summary == memory.summary("s1", user_id="sam", budget_tokens=50)

    asyncio.run(scenario())


def test_the_openapi_document_describes_the_routes(live: LiveServer) -> None:
    document = httpx.get(f"{live.url}/openapi.json", timeout=30).json()
    assert "profiles" in [tag["name"] for tag in document["tags"]]
    routes = {"/v1/profile": "Profile", "/v1/sessions/{session_id}/summary": "Summary"}
    for path, model in routes.items():
        spec = document["paths"][path]["get"]
        assert spec["tags"] == ["profiles"], path
        answer = spec["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["$ref"].endswith(f"/{model}"), path
        for status in ("400", "404", "422"):
            assert spec["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith(
                "/ErrorResponse"
            ), (path, status)
    schemas = document["components"]["schemas"]
    assert set(schemas["Profile"]["properties"]) == {"entity", "lines", "tokens", "summary", "written_by"}
    assert set(schemas["ProfileLine"]["properties"]) == {"section", "text", "unit_id", "sources", "said_at"}
    assert schemas["ProfileLine"]["properties"]["section"]["enum"] == [
        "attributes",
        "relationships",
        "preferences",
        "activities",
    ]
    assert set(schemas["Summary"]["properties"]) == {
        "session_id",
        "text",
        "unit_ids",
        "sources",
        "tokens",
        "budget_tokens",
        "written_by",
    }
