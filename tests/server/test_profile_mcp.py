"""The profile and summary tools (``user_profile``, ``session_summary``) through the SDK's own client
over streamable HTTP, on a real SQLite file: what they answer is what ``Memory`` holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import ClientSession

from eidetica.api import DEFAULT_SUMMARY_BUDGET
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.errors import UsageError
from eidetica.limits import MAX_BUDGET_TOKENS
from eidetica.model import AddResult, Profile
from eidetica.server.mcp import McpSettings
from eidetica.server.tenants import Tenants
from eidetica.storage import open_store

from .test_mcp import call, fail, http_session, run, serve

TOOLS = {"user_profile": {"name"}, "session_summary": {"session_id", "budget_tokens"}}
SECTIONS = ("attributes", "relationships", "preferences", "activities")
#: Sam lives in Lisbon, has a sister and loves jazz (session s1); then moves to Oslo (s2).
SAM = [
    ("s1", "I live in Lisbon. My sister Ana works at Nubank. I love jazz.", "2024-03-01T10:00:00+00:00"),
    ("s2", "I moved from Lisbon to Oslo last week.", "2024-05-02T10:00:00+00:00"),
]


@pytest.fixture
def added(tenants: Tenants) -> list[AddResult]:
    """Sam's two sessions in tenant acme, one add each."""
    memory = tenants.memory("acme")
    return [
        memory.add(
            [{"role": "user", "name": "Sam", "content": text}],
            user_id="sam",
            session_id=session,
            timestamp=when,
        )
        for session, text, when in SAM
    ]


def sections(found: Profile) -> dict[str, list[tuple[str, str]]]:
    """A profile's (text, unit id) pairs under their sections, as the tool groups them."""
    return {
        section: [(line.text, line.unit_id) for line in found.lines if line.section == section]
        for section in SECTIONS
    }


async def check_tools_are_listed(session: ClientSession, *, with_user: bool) -> None:
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    for name, properties in TOOLS.items():
        tool = tools[name]
        assert set(tool.input_schema["properties"]) == properties | ({"user_id"} if with_user else set())
        assert tool.annotations is not None and tool.annotations.read_only_hint, name
        assert not tool.annotations.destructive_hint, name
        assert tool.output_schema is not None and len(tool.description or "") > 40, name
    assert "required" not in tools["user_profile"].input_schema
    summary = tools["session_summary"].input_schema
    assert summary["required"] == ["session_id"]
    assert summary["properties"]["budget_tokens"]["default"] == DEFAULT_SUMMARY_BUDGET
    assert 1 <= summary["properties"]["budget_tokens"]["maximum"] <= MAX_BUDGET_TOKENS
    output = tools["user_profile"].output_schema
    assert output is not None and set(output["properties"]) == {"entity", "tokens", "summary", *SECTIONS}


def test_the_tools_answer_what_memory_holds(tenants: Tenants, added: list[AddResult]) -> None:
    memory = tenants.memory("acme")
    with serve(tenants) as url:

        async def scenario() -> None:
            async with http_session(url, "key-acme") as acme:
                await check_tools_are_listed(acme, with_user=True)
                profile = await call(acme, "user_profile", user_id="sam")
                wanted = memory.profile(user_id="sam")
                assert profile["entity"]["name"] == "Sam" and profile["tokens"] == wanted.tokens
                assert {s: [(line["text"], line["id"]) for line in profile[s]] for s in SECTIONS} == sections(
                    wanted
                )
                assert any("Ana" in line["text"] for line in profile["relationships"])
                assert any("Oslo" in line["text"] for line in profile["attributes"])
                texts = [line["text"] for s in SECTIONS for line in profile[s]]
                assert "Sam lives in Lisbon." not in texts
                first = profile["relationships"][0]
                unit = memory.get(first["id"], user_id="sam")
                assert first["sources"] == list(unit.sources)
                assert first["said_at"] == "2024-03-01T10:00:00+00:00"
                ana = await call(acme, "user_profile", name="ana", user_id="sam")
                assert ana["entity"]["name"] == "Ana"
                assert {s: [(line["text"], line["id"]) for line in ana[s]] for s in SECTIONS} == sections(
                    memory.profile(user_id="sam", name="ana")
                )
                unknown = await fail(acme, "user_profile", name="zed", user_id="sam")
                assert (
                    unknown
                    == "NotFoundError: no entity 'zed' in this memory; `entities` lists the ones it knows"
                )

                summary = await call(acme, "session_summary", session_id="s1", user_id="sam")
                expected = memory.summary("s1", user_id="sam")
                assert summary == {
                    "session_id": "s1",
                    "text": expected.text,
                    "tokens": expected.tokens,
                    "budget_tokens": DEFAULT_SUMMARY_BUDGET,
                    "ids": list(expected.unit_ids),
                    "sources": list(expected.sources),
                    "written_by": "rules",
                }
                assert summary["ids"] and summary["tokens"] <= summary["budget_tokens"]
                assert {memory.get(i, user_id="sam").scope.session_id for i in summary["ids"]} == {"s1"}
                assert "Lisbon" not in summary["text"]  # Sam no longer lives there
                small = await call(acme, "session_summary", session_id="s1", budget_tokens=12, user_id="sam")
                assert (
                    small["tokens"] <= 12
                    and small["text"] == memory.summary("s1", user_id="sam", budget_tokens=12).text
                )
                missing = await fail(acme, "session_summary", session_id="s9", user_id="sam")
                assert missing == "NotFoundError: no session 's9' in this user's memory"
                assert "budget_tokens" in await fail(
                    acme, "session_summary", session_id="s1", budget_tokens=0, user_id="sam"
                )
            async with http_session(url, "key-globex") as globex:
                refused = await fail(globex, "user_profile", name="Sam", user_id="sam")
                assert refused.startswith("NotFoundError:")
                missing = await fail(globex, "session_summary", session_id="s1", user_id="sam")
                assert missing.startswith("NotFoundError:")

        run(scenario)


def test_a_user_who_never_gave_a_name_must_name_the_person(tenants: Tenants) -> None:
    memory = tenants.memory("acme")
    memory.add("I like green tea.", user_id="anon", session_id="s1")
    with pytest.raises(UsageError) as raised:
        memory.profile(user_id="anon")
    with serve(tenants) as url:

        async def scenario() -> None:
            async with http_session(url, "key-acme") as acme:
                assert await fail(acme, "user_profile", user_id="anon") == f"UsageError: {raised.value}"
                assert "no user who gave a name" in str(raised.value)
                summary = await call(acme, "session_summary", session_id="s1", user_id="anon")
                assert "green tea" in summary["text"]

        run(scenario)


def test_a_server_fixed_to_one_user_profiles_and_summarises_that_user_only(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    open_tenants = Tenants(open_store(tmp_path / "open.db"), embedder=embedder)
    try:
        memory = open_tenants.memory("default")
        for session, text, when in SAM:
            memory.add(
                [{"role": "user", "name": "Sam", "content": text}],
                user_id="sam",
                session_id=session,
                timestamp=when,
            )
        memory.add(
            [{"role": "user", "name": "Eve", "content": "I work at Globex."}], user_id="eve", session_id="e1"
        )
        with serve(open_tenants, McpSettings(user_id="sam")) as url:

            async def scenario() -> None:
                async with http_session(url, None) as session:
                    await check_tools_are_listed(session, with_user=False)
                    profile = await call(session, "user_profile", user_id="eve")  # ignored: fixed user
                    assert profile["entity"]["name"] == "Sam"
                    assert {
                        s: [(line["text"], line["id"]) for line in profile[s]] for s in SECTIONS
                    } == sections(memory.profile(user_id="sam"))
                    assert (await fail(session, "user_profile", name="Eve")).startswith("NotFoundError:")
                    summary = await call(session, "session_summary", session_id="s2")
                    assert "Oslo" in summary["text"]
                    refused = await fail(session, "session_summary", session_id="e1")
                    assert refused == "NotFoundError: no session 'e1' in this user's memory"

            run(scenario)
    finally:
        open_tenants.close()
