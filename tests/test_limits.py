"""The bounds of ``eidetica.limits``: what the review found getting past them is refused with a
``UsageError`` that names the bound, by the library and the REST server alike, on both backends,
and what lies at a bound is still taken."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from eidetica import Memory
from eidetica.cli import app
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.errors import InputFormatError, UsageError
from eidetica.limits import (
    MAX_BUDGET_TOKENS,
    MAX_ID_CHARS,
    MAX_K,
    MAX_LIMIT,
    MAX_MESSAGES,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_TURN_CHARS,
    check_id,
)
from eidetica.memory import IMPORT_BATCH
from eidetica.server.rest import create_app
from eidetica.server.tenants import Tenants
from eidetica.storage import open_store

from .postgres_server import BACKENDS, store_location
from .server.conftest import run_server

TOO_LATE = "9999-12-31T23:59:59-14:00"  # year 10000 in UTC
RANGE = "times must lie in the years 1000 to 9000 (UTC)"
HUGE = 2**63  # one past the largest 64-bit integer either backend stores
BAD_IDS = ["a\x00b", "a\ud800b"]


@pytest.fixture(params=BACKENDS)
def mem(request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Memory]:
    """A ``Memory`` over a fresh SQLite file or PostgreSQL database."""
    with Memory(store=open_store(store_location(request, tmp_path / "m.db")), embedder=embedder) as m:
        yield m


@pytest.fixture(params=BACKENDS)
def http(
    request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder
) -> Iterator[httpx.Client]:
    """A real REST server (uvicorn on loopback) over either backend, and a client for it."""
    store = open_store(store_location(request, tmp_path / "server.db"))
    try:
        with (
            run_server(create_app(Tenants(store, embedder=embedder))) as url,
            httpx.Client(base_url=url, timeout=60) as client,
        ):
            yield client
    finally:
        store.close()


def derived_id(memory: Memory) -> str:
    """Add a turn that yields a derived unit; return its id."""
    derived = memory.add("I adopted a terrier named Biscuit", user_id="u").derived
    assert derived, "the rules derive a fact from this turn"
    return derived[0].id


def message_of(call: Callable[[], object]) -> str:
    with pytest.raises(UsageError) as info:
        call()
    return str(info.value)


def error_of(response: httpx.Response, status: int) -> str:
    """The message of an error response, after checking its status and that it is a UsageError."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["type"] == "UsageError", error
    return str(error["message"])


# --- 1: timestamps -------------------------------------------------------------------------------


def test_a_time_past_year_9000_is_refused_and_the_user_stays_readable(mem: Memory) -> None:
    with pytest.raises(UsageError, match=RANGE.replace("(", r"\(").replace(")", r"\)")):
        mem.add("hi", timestamp=TOO_LATE, user_id="u")
    with pytest.raises(UsageError, match=r"message 0: timestamp: .* is out of range"):
        mem.add([{"role": "user", "content": "hi", "timestamp": TOO_LATE}], user_id="u")
    mem.add("I like green tea", user_id="u", timestamp="2024-01-01T00:00:00Z")

    assert [u.text for u in mem.list(user_id="u", kinds=["turn"])] == ["I like green tea"]
    assert mem.search("tea", user_id="u")[0].text == "I like green tea"
    assert not mem.context("tea", user_id="u").abstained


@pytest.mark.parametrize("field", ["since", "until", "as_of"])
def test_search_refuses_times_outside_the_range(mem: Memory, field: str) -> None:
    mem.add("I like green tea", user_id="u")
    for moment in (TOO_LATE, "0001-01-02T00:00:00Z"):
        with pytest.raises(UsageError) as info:
            mem.search("tea", user_id="u", **{field: moment})
        assert RANGE in str(info.value)


def test_a_locomo_file_dated_past_the_range_is_an_error_line_in_the_cli(tmp_path: Path) -> None:
    sample = {
        "sample_id": "s1",
        "conversation": {
            "speaker_a": "Ann",
            "speaker_b": "Bob",
            "session_1_date_time": "9999-12-31T23:59:59",
            "session_1": [
                {"speaker": "Ann", "dia_id": "D1:1", "text": "Happy new year!"},
                {"speaker": "Bob", "dia_id": "D1:2", "text": "And to you."},
            ],
        },
    }
    source = tmp_path / "locomo.json"
    source.write_text(json.dumps([sample]), encoding="utf-8")
    runner = CliRunner(env={"COLUMNS": "100", "EIDETICA_DB": None})

    result = runner.invoke(
        app, ["import", str(source), "--db", str(tmp_path / "m.db")], catch_exceptions=False
    )

    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert RANGE in " ".join(result.stderr.split())
    assert "session_1_date_time" in result.stderr


# --- 2: query length ------------------------------------------------------------------------------


def test_a_query_over_the_limit_is_refused_by_search_context_and_answer(mem: Memory) -> None:
    mem.add("I like green tea", user_id="u")
    long_query = "tea " * (MAX_QUERY_CHARS // 4) + "x"
    assert len(long_query) == MAX_QUERY_CHARS + 1

    for call in (mem.search, mem.context):
        with pytest.raises(UsageError) as info:
            call(long_query, user_id="u")
        assert str(info.value) == "query is 10,001 characters; the limit is 10,000, so ask a shorter question"
    assert message_of(lambda: mem.answer(long_query, user_id="u")).startswith("question is 10,001")


def test_a_query_at_the_limit_of_distinct_words_is_answered(mem: Memory) -> None:
    mem.add("I like green tea", user_id="u")
    words = (f"w{i}x" for i in range(MAX_QUERY_CHARS))
    query = ("tea " + " ".join(words))[:MAX_QUERY_CHARS]

    hits = mem.search(query, user_id="u")

    assert "I like green tea" in [h.text for h in hits]


# --- 3: counts ------------------------------------------------------------------------------------


def test_counts_past_their_bound_are_refused(mem: Memory) -> None:
    mem.add("I like green tea", user_id="u")
    assert message_of(lambda: mem.search("tea", user_id="u", k=HUGE)) == (
        f"k must be at most 1,000, got {HUGE}"
    )
    assert "limit must be at most 1,000" in message_of(lambda: mem.list(user_id="u", limit=HUGE))
    assert "offset must be at most 1,000,000,000" in message_of(lambda: mem.list(user_id="u", offset=HUGE))
    assert "budget_tokens must be at most 100,000" in message_of(
        lambda: mem.context("tea", user_id="u", budget_tokens=HUGE)
    )
    assert "an integer of 4001 bits" in message_of(lambda: mem.search("tea", user_id="u", k=2**4000))


def test_counts_at_their_bound_are_taken(mem: Memory) -> None:
    mem.add("I like green tea", user_id="u")
    assert "I like green tea" in [h.text for h in mem.search("tea", user_id="u", k=MAX_K)]
    assert mem.list(user_id="u", limit=MAX_LIMIT) == mem.list(user_id="u", limit=None)
    assert mem.list(user_id="u", offset=MAX_OFFSET) == []
    assert "tea" in mem.context("tea", user_id="u", budget_tokens=MAX_BUDGET_TOKENS).text


# --- 4: one text check for add and update; ids ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["\ud800", "a\x00b", " \n ", "x" * (MAX_TURN_CHARS + 1)],
    ids=["lone surrogate", "NUL", "blank", "too long"],
)
def test_update_refuses_what_add_refuses_with_the_same_words(mem: Memory, text: str) -> None:
    unit_id = derived_id(mem)
    before = mem.get(unit_id)

    refused_by_add = message_of(lambda: mem.add(text, user_id="u"))
    refused_by_update = message_of(lambda: mem.update(unit_id, text, user_id="u"))

    assert refused_by_update.split(";")[0] == refused_by_add.split(";")[0]
    assert mem.get(unit_id) == before
    assert [h.op for h in mem.history(unit_id)] == ["add"]


@pytest.mark.parametrize(
    "metadata",
    [{"score": float("nan")}, {"at": object()}, {1: "x"}, "x"],
    ids=["NaN", "object", "key", "str"],
)
def test_update_refuses_the_metadata_add_refuses_with_the_same_words(mem: Memory, metadata: Any) -> None:
    unit_id = derived_id(mem)
    before = mem.get(unit_id)

    refused_by_add = message_of(lambda: mem.add([{"content": "hi", "metadata": metadata}], user_id="u"))
    refused_by_update = message_of(lambda: mem.update(unit_id, "new text", user_id="u", metadata=metadata))

    assert refused_by_add == f"message 0: {refused_by_update}"
    assert mem.get(unit_id) == before


@pytest.mark.parametrize("bad", BAD_IDS, ids=["NUL", "lone surrogate"])
def test_a_malformed_unit_id_never_reaches_the_store(mem: Memory, bad: str) -> None:
    derived_id(mem)
    calls: list[Callable[[], object]] = [
        lambda: mem.get(bad),
        lambda: mem.update(bad, "new text"),
        lambda: mem.delete(bad),
        lambda: mem.history(bad),
    ]
    for call in calls:
        assert message_of(call).startswith("unit_id ")


@pytest.mark.parametrize("bad", BAD_IDS, ids=["NUL", "lone surrogate"])
@pytest.mark.parametrize("field", ["user_id", "agent_id", "session_id"])
def test_ids_refuse_nul_and_lone_surrogates(mem: Memory, bad: str, field: str) -> None:
    assert message_of(lambda: mem.add("hi", **{field: bad})).startswith(f"{field} ")
    assert message_of(lambda: mem.search("hi", **{field: bad})).startswith(f"{field} ")
    assert mem.stats().units == 0


def test_an_id_over_the_limit_is_refused() -> None:
    assert check_id("user_id", "u" * MAX_ID_CHARS) == "u" * MAX_ID_CHARS
    with pytest.raises(UsageError, match="user_id is longer than 256 characters"):
        check_id("user_id", "u" * (MAX_ID_CHARS + 1))


# --- 5: messages per add --------------------------------------------------------------------------


def test_too_many_messages_in_one_add_are_refused_and_nothing_is_stored(memory: Memory) -> None:
    messages = [{"role": "user", "content": "a"}] * (MAX_MESSAGES + 1)

    message = message_of(lambda: memory.add(messages, infer=False))

    assert message.startswith("messages per add must be at most 1,000, got 1001; send fewer per request")
    assert memory.stats().units == 0
    assert len(memory.add(messages[:MAX_MESSAGES], infer=False).turns) == MAX_MESSAGES


def test_import_file_takes_more_lines_than_one_add(memory: Memory, tmp_path: Path) -> None:
    assert IMPORT_BATCH <= MAX_MESSAGES
    source = tmp_path / "chat.jsonl"
    lines = (json.dumps({"text": f"note {i}", "session": "s"}) for i in range(MAX_MESSAGES + 1))
    source.write_text("\n".join(lines), encoding="utf-8")

    report = memory.import_file(source, infer=False)

    assert report.turns == MAX_MESSAGES + 1


# --- the REST server --------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["%00", "a%ED%A0%80b"], ids=["NUL", "surrogate bytes"])
def test_rest_refuses_a_malformed_unit_id_without_a_server_error(http: httpx.Client, bad: str) -> None:
    for method in ("GET", "PATCH", "DELETE"):
        arguments: dict[str, Any] = {"json": {"text": "x"}} if method == "PATCH" else {}
        response = http.request(method, f"/v1/memories/{bad}", **arguments)
        assert response.status_code in (400, 404), response.text
        assert response.json()["error"]["type"] in ("UsageError", "NotFoundError")


def test_rest_refuses_what_the_library_refuses_with_its_words(http: httpx.Client) -> None:
    added = http.post("/v1/memories", json={"messages": "I adopted a terrier named Biscuit", "user_id": "u"})
    assert added.status_code == 201, added.text
    listed = http.get("/v1/memories", params={"user_id": "u"}).json()["memories"]
    unit_id = next(u["id"] for u in listed if u["kind"] != "turn")
    long_query = "q" * (MAX_QUERY_CHARS + 1)

    assert error_of(http.post("/v1/search", json={"query": "dog", "k": HUGE}), 400) == (
        f"k must be at most 1,000, got {HUGE}"
    )
    assert "limit must be at most 1,000" in error_of(http.get("/v1/memories", params={"limit": HUGE}), 400)
    assert "offset must be at most" in error_of(http.get("/v1/memories", params={"offset": HUGE}), 400)
    assert "budget_tokens must be at most" in error_of(
        http.post("/v1/context", json={"query": "dog", "budget_tokens": HUGE}), 400
    )
    assert error_of(http.post("/v1/search", json={"query": long_query}), 400) == (
        "query is 10,001 characters; the limit is 10,000, so ask a shorter question"
    )
    assert RANGE in error_of(http.post("/v1/memories", json={"messages": "hi", "timestamp": TOO_LATE}), 400)
    assert error_of(http.patch(f"/v1/memories/{unit_id}", json={"text": "a\x00b"}), 400) == (
        "text contains a NUL character (\\x00) at offset 1; remove it"
    )
    nan = b'{"text": "new", "metadata": {"score": NaN}}'  # Python's JSON reads NaN; no reply holds it
    patched = http.patch(f"/v1/memories/{unit_id}", content=nan, headers={"Content-Type": "application/json"})
    assert "metadata is not JSON-serialisable" in error_of(patched, 400)
    assert http.get(f"/v1/memories/{unit_id}").status_code == 200
    listed = http.get("/v1/memories", params={"user_id": "u"})
    assert listed.status_code == 200 and listed.json()["memories"]


def test_openapi_advertises_the_bounds(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    schemas = document["components"]["schemas"]

    search = schemas["SearchRequest"]["properties"]
    assert (search["k"]["minimum"], search["k"]["maximum"]) == (1, MAX_K)
    assert search["query"]["maxLength"] == MAX_QUERY_CHARS
    assert search["user_id"]["anyOf"][0]["maxLength"] == MAX_ID_CHARS
    assert schemas["ContextRequest"]["properties"]["budget_tokens"]["maximum"] == MAX_BUDGET_TOKENS
    assert schemas["UpdateRequest"]["properties"]["text"]["maxLength"] == MAX_TURN_CHARS
    messages = schemas["AddRequest"]["properties"]["messages"]["anyOf"]
    assert {"type": "array", "items": {"type": "object"}, "maxItems": MAX_MESSAGES} in messages
    parameters = {p["name"]: p["schema"] for p in document["paths"]["/v1/memories"]["get"]["parameters"]}
    assert parameters["limit"]["maximum"] == MAX_LIMIT
    assert parameters["offset"]["maximum"] == MAX_OFFSET


def test_a_bad_input_file_is_still_an_input_format_error(memory: Memory, tmp_path: Path) -> None:
    source = tmp_path / "chat.jsonl"
    source.write_text(json.dumps({"text": "hi", "timestamp": TOO_LATE}) + "\n", encoding="utf-8")

    with pytest.raises(InputFormatError, match=r"chat.jsonl, line 1: timestamp: .*years 1000 to 9000"):
        memory.import_file(source)
