"""Entities, entity cards and related units over real HTTP: ``Client`` returns what ``Memory``
returns for the same store, and the REST API refuses what ``Memory`` refuses, with its words."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from eidetica import Client, Memory, NotFoundError, UsageError
from eidetica.aio import AsyncClient
from eidetica.model import Link, Relation

from .conftest import ACME, GLOBEX, LiveServer

#: Sam's sister works at a bank; Sam lived in Lisbon, then moved to Oslo (a later statement).
SAM = [
    ("My sister Ana works at Nubank.", "2024-03-01T10:00:00+00:00"),
    ("I live in Lisbon.", "2024-03-02T10:00:00+00:00"),
    ("I moved from Lisbon to Oslo last week.", "2024-05-02T10:00:00+00:00"),
    ("Last summer I flew to São Paulo with my friend Zoë Brandão.", "2024-06-01T10:00:00+00:00"),
]


def seed(client: Client, user: str = "sam") -> list[Any]:
    """Add Sam's four messages, one request each; return the results in order."""
    return [
        client.add([{"role": "user", "name": "Sam", "content": text}], user_id=user, timestamp=when)
        for text, when in SAM
    ]


@pytest.fixture
def client(live: LiveServer) -> Iterator[Client]:
    with live.client() as c:
        yield c


@pytest.fixture
def memory(live: LiveServer) -> Memory:
    """The server-side ``Memory`` of the client's tenant."""
    return live.memory()


def test_entities_equal_what_memory_returns_with_their_kinds(client: Client, memory: Memory) -> None:
    seed(client)
    found = client.entities(user_id="sam")
    assert found == memory.entities(user_id="sam")
    kinds = {e.name: e.kind for e in found}
    assert {name: kinds.get(name) for name in ("Ana", "Lisbon", "Oslo", "Nubank", "São Paulo")} == {
        "Ana": "person",
        "Lisbon": "place",
        "Oslo": "place",
        "Nubank": "organisation",
        "São Paulo": "place",
    }
    assert found[0].name == "Sam"  # the most mentioned first
    places = client.entities(user_id="sam", kind="place")
    assert places == memory.entities(user_id="sam", kind="place")
    assert {e.name for e in places} == {"Lisbon", "Oslo", "São Paulo"}
    assert client.entities(user_id="sam", limit=2) == found[:2]
    assert client.entities(user_id="sam", limit=0) == []
    assert client.entities(user_id="sam", limit=None) == memory.entities(user_id="sam", limit=None)
    assert client.entities(user_id="nobody") == []


def test_an_entity_card_holds_its_units_and_relations(client: Client, memory: Memory) -> None:
    added = seed(client)
    card = client.entity("ana", user_id="sam")
    assert card == memory.entity("ana", user_id="sam")
    assert card.entity.name == "Ana" and card.entity.kind == "person"
    fact = added[0].derived[0]
    assert [u.id for u in card.units] == [fact.id]
    assert Relation("ana", "works at", "nubank", fact.id, fact.sources, fact.valid_from) in card.relations
    assert "Nubank" in card.related
    assert client.entity("ANA", user_id="sam") == card  # any case
    # What no longer holds comes last, with the time it stopped holding.
    lisbon = client.entity("Lisbon", user_id="sam")
    assert lisbon == memory.entity("Lisbon", user_id="sam")
    assert [u.valid_to is None for u in lisbon.units] == [True, False]
    assert lisbon.units[-1].text == "Sam lives in Lisbon."


def test_names_with_spaces_and_accents_reach_their_card(client: Client, memory: Memory) -> None:
    seed(client)
    for name in ("São Paulo", "zoë brandão"):
        card = client.entity(name, user_id="sam")
        assert card == memory.entity(name, user_id="sam")
        assert "São Paulo with Sam's friend Zoë Brandão" in card.units[0].text


def test_an_unknown_entity_is_a_404_in_the_librarys_words(live: LiveServer, client: Client) -> None:
    seed(client)
    for name in ("zed", "AC/DC", "a b/../c"):
        with pytest.raises(NotFoundError) as raised:
            live.memory().entity(name, user_id="sam")
        expected = str(raised.value)
        with pytest.raises(NotFoundError, match="no entity") as remote:
            client.entity(name, user_id="sam")
        assert str(remote.value) == expected
    with live.http() as http:
        answer = http.get("/v1/entities/a%2Fb", params={"user_id": "sam"})
    assert answer.status_code == 404
    assert answer.json()["error"] == {
        "type": "NotFoundError",
        "message": "no entity 'a/b' in this memory; `entities` lists the ones it knows",
    }


@pytest.mark.parametrize(
    ("path", "params", "status", "words"),
    [
        ("/v1/entities", {"kind": "robot"}, 400, "unknown entity kind 'robot': use person, pet, place"),
        ("/v1/entities", {"limit": "-1"}, 400, "limit must not be negative, got -1"),
        ("/v1/entities", {"limit": "100000"}, 400, "limit must be at most 1,000"),
        ("/v1/entities", {"limit": "many"}, 422, "query parameter limit"),
        ("/v1/entities", {"kinds": "place"}, 422, "unknown query parameter 'kinds'"),
        ("/v1/entities", {"user_id": ""}, 400, "user_id must not be empty"),
        ("/v1/entities/", {}, 400, "name must be a non-empty string"),
        ("/v1/entities/%20", {}, 400, "name must be a non-empty string"),
        ("/v1/memories/01NOSUCHUNIT/related", {}, 404, "no memory unit with id '01NOSUCHUNIT'"),
    ],
)
def test_bad_requests_are_4xx_with_the_librarys_words(
    live: LiveServer, path: str, params: dict[str, str], status: int, words: str
) -> None:
    with live.http() as http:
        answer = http.get(path, params=params)
    assert answer.status_code == status, answer.text
    assert words in answer.json()["error"]["message"]


def test_the_client_raises_what_memory_raises(client: Client, memory: Memory) -> None:
    seed(client)
    for call in (
        lambda face: face.entities(kind="robot"),  # type: ignore[arg-type]
        lambda face: face.entities(limit=-1),
        lambda face: face.entity(""),
        lambda face: face.entity(7),
    ):
        with pytest.raises(UsageError) as local:
            call(memory)
        with pytest.raises(UsageError) as remote:
            call(client)
        assert str(remote.value) == str(local.value)


def test_related_links_a_derived_unit_to_its_turn_and_what_it_replaced(
    client: Client, memory: Memory
) -> None:
    added = seed(client)
    moved = added[2].derived[0]
    links = client.related(moved.id, user_id="sam")
    assert links == memory.related(moved.id, user_id="sam")
    assert links[0] == Link("derived_from", memory.get(added[2].turns[0].id))
    lived = added[1].derived[0]
    assert ("supersedes", lived.id) in [(link.kind, link.unit.id) for link in links]
    # A turn links to what was drawn from it.
    turn = added[0].turns[0]
    drawn = client.related(turn.id, user_id="sam")
    assert drawn == memory.related(turn.id)
    assert ("derived", added[0].derived[0].id) in [(link.kind, link.unit.id) for link in drawn]
    with pytest.raises(NotFoundError, match="no memory unit with id"):
        client.related(moved.id, user_id="ben")


def test_another_tenant_sees_no_entity_card_or_link(live: LiveServer) -> None:
    with live.client(ACME) as acme, live.client(GLOBEX) as globex:
        added = seed(acme)
        assert acme.entities(user_id="sam")
        assert globex.entities(user_id="sam") == []
        with pytest.raises(NotFoundError):
            globex.entity("ana", user_id="sam")
        with pytest.raises(NotFoundError):
            globex.related(added[0].derived[0].id, user_id="sam")


def test_the_async_client_returns_what_memory_returns(live: LiveServer, memory: Memory) -> None:
    with live.client() as client:
        fact = seed(client)[0].derived[0]

    async def scenario() -> None:
        async with AsyncClient(live.url, api_key=ACME) as remote:
            found, card, links = await asyncio.gather(
                remote.entities(user_id="sam", kind="person"),
                remote.entity("Ana", user_id="sam"),
                remote.related(fact.id, user_id="sam"),
            )
        assert found == memory.entities(user_id="sam", kind="person")
        assert card == memory.entity("Ana", user_id="sam")
        assert links == memory.related(fact.id, user_id="sam")

    asyncio.run(scenario())


def test_the_openapi_document_describes_the_routes(live: LiveServer) -> None:
    document = httpx.get(f"{live.url}/openapi.json", timeout=30).json()
    assert "entities" in [tag["name"] for tag in document["tags"]]
    routes = {
        "/v1/entities": "EntityList",
        "/v1/entities/{name}": "EntityCard",
        "/v1/memories/{unit_id}/related": "RelatedUnits",
    }
    for path, model in routes.items():
        spec = document["paths"][path]["get"]
        assert spec["tags"] == ["entities"], path
        answer = spec["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer["$ref"].endswith(f"/{model}"), path
        for status in ("400", "404", "422"):
            assert spec["responses"][status]["content"]["application/json"]["schema"]["$ref"].endswith(
                "/ErrorResponse"
            ), (path, status)
    schemas = document["components"]["schemas"]
    assert set(schemas["EntityCard"]["properties"]) == {"entity", "units", "relations", "related"}
    assert set(schemas["Link"]["properties"]) == {"kind", "unit", "via"}
