"""Reconciliation by a chat model: what its replies become, and what they do to stored memory.

Scripted replies test the plumbing only (numbers mapped to ids, bad replies retried and dropped,
outages left to the rules); the real local model runs once end to end and is judged on protocol
and consistency, never on whether its decisions are right.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eidetica import LLMError, Memory
from eidetica.cli import app
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.ids import new_id
from eidetica.ingest.llm_reconcile import LLMReconciler
from eidetica.ingest.reconcile import Decision
from eidetica.llms import LLMSettings, OpenAICompatibleClient
from eidetica.model import MemoryUnit, Scope, UnitKind
from eidetica.testing import ScriptedLLM, ScriptedOpenAIServer, ScriptedResponse

RUNNER = CliRunner(env={"COLUMNS": "100", "EIDETICA_DB": None})
NO_LLM = {"EIDETICA_LLM_MODEL": None, "EIDETICA_LLM_BASE_URL": None, "EIDETICA_LLM_API_KEY": None}


def _unit(text: str, day: str = "2024-01-01", kind: UnitKind = "fact") -> MemoryUnit:
    at = datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC)
    return MemoryUnit(new_id(), kind, text, Scope(user_id="u"), recorded_at=at, valid_from=at)


def _reply(*decisions: tuple[int, str, int | None]) -> str:
    items = [{"statement": s, "action": a, "memory": m} for s, a, m in decisions]
    return json.dumps({"decisions": items})


# -- the protocol, on units ---------------------------------------------------------------------


def test_a_reply_maps_statement_and_memory_numbers_to_unit_ids() -> None:
    carol, green = _unit("Alice's manager is Carol."), _unit("Bob's favourite colour is green.")
    bob, teal, dog = (
        _unit("Alice's manager is Bob.", "2024-06-01"),
        _unit("Bob likes green best.", "2024-06-01"),
        _unit("Alice adopted a dog.", "2024-06-02", kind="event"),
    )
    llm = ScriptedLLM([_reply((1, "UPDATE", 1), (2, "NONE", 2), (3, "ADD", None))])
    reconciler = LLMReconciler(llm)
    decisions = reconciler.decide([carol, green], [bob, teal, dog])
    assert decisions == {
        bob.id: Decision("update", carol.id),
        teal.id: Decision("none", green.id),
        dog.id: Decision("add"),
    }
    assert len(llm.requests) == 1  # one call for the whole batch
    prompt = llm.requests[0][-1]["content"]
    assert "[1] fact, since 2024-01-01: Alice's manager is Carol." in prompt
    assert "[3] event, on 2024-06-02: Alice adopted a dog." in prompt
    assert reconciler.stats.decisions == 3 and reconciler.stats.dropped == 0
    assert reconciler.prompt_version == "reconcile_v1"


def test_decisions_without_a_usable_memory_or_repeating_a_statement_are_dropped() -> None:
    carol = _unit("Alice's manager is Carol.")
    bob, dana = _unit("Alice's manager is Bob.", "2024-06-01"), _unit("Dana lives in Oslo.", "2024-06-01")
    # Valid by the schema, yet not usable: UPDATE of no memory, and a second word on statement 2.
    llm = ScriptedLLM([_reply((1, "UPDATE", None), (2, "ADD", None), (2, "DELETE", 1))])
    reconciler = LLMReconciler(llm)
    assert reconciler.decide([carol], [bob, dana]) == {dana.id: Decision("add")}
    assert reconciler.stats.dropped == 2 and reconciler.stats.decisions == 1


def test_numbers_outside_the_lists_are_repaired_retried_then_dropped_and_counted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    carol = _unit("Alice's manager is Carol.")
    bob, dana = _unit("Alice's manager is Bob.", "2024-06-01"), _unit("Dana lives in Oslo.", "2024-06-01")
    wrong = _reply((1, "UPDATE", 1), (2, "DELETE", 9), (7, "ADD", None))
    llm = ScriptedLLM([wrong] * 4)  # first reply and its repair, the retry and its repair
    reconciler = LLMReconciler(llm)
    with caplog.at_level(logging.WARNING, logger="eidetica.llm"):
        decisions = reconciler.decide([carol], [bob, dana])
    assert decisions == {bob.id: Decision("update", carol.id)}
    assert len(llm.requests) == 4 and llm.remaining == 0
    stats = reconciler.stats
    assert (stats.calls, stats.retried_batches, stats.failed_batches, stats.dropped) == (2, 1, 1, 2)
    assert any("failed twice" in r.getMessage() for r in caplog.records)


def test_a_malformed_reply_is_retried_then_leaves_the_batch_to_the_rules(
    caplog: pytest.LogCaptureFixture,
) -> None:
    carol, bob = _unit("Alice's manager is Carol."), _unit("Alice's manager is Bob.", "2024-06-01")
    llm = ScriptedLLM(["UPDATE 1", '{"decisions": [{"statement": 1,', "no idea", '{"decisions": 3}'])
    reconciler = LLMReconciler(llm)
    with caplog.at_level(logging.WARNING, logger="eidetica.llm"):
        assert reconciler.decide([carol], [bob]) == {}
    assert len(llm.requests) == 4
    assert (reconciler.stats.retried_batches, reconciler.stats.failed_batches) == (1, 1)
    warnings = [r for r in caplog.records if r.name == "eidetica.llm" and r.levelno == logging.WARNING]
    assert any("retrying" in r.getMessage() for r in warnings)
    assert any("the rules decide" in r.getMessage() for r in warnings)


def test_a_retry_that_fits_is_used() -> None:
    carol, bob = _unit("Alice's manager is Carol."), _unit("Alice's manager is Bob.", "2024-06-01")
    llm = ScriptedLLM(["not json", "still not json", _reply((1, "UPDATE", 1))])
    reconciler = LLMReconciler(llm)
    assert reconciler.decide([carol], [bob]) == {bob.id: Decision("update", carol.id)}
    assert (reconciler.stats.retried_batches, reconciler.stats.failed_batches) == (1, 0)


def test_an_endpoint_failure_propagates() -> None:
    llm = ScriptedLLM([LLMError("connection refused")])
    with pytest.raises(LLMError, match="connection refused"):
        LLMReconciler(llm).decide([_unit("Evan lives in Lisbon.")], [_unit("Evan lives in Oslo.")])


def test_nothing_to_compare_with_makes_no_call() -> None:
    llm = ScriptedLLM([])
    reconciler = LLMReconciler(llm)
    assert reconciler.decide([], [_unit("Evan lives in Oslo.")]) == {}
    passage = _unit("A long pasted document about Lisbon.", kind="passage")
    assert reconciler.decide([passage], [_unit("Evan lives in Oslo.")]) == {}  # passages: rules only
    assert llm.requests == [] and reconciler.stats.batches == 0


def test_large_inputs_are_batched_and_show_the_stored_units_nearest_by_words() -> None:
    stored = [_unit("Alice's manager is Carol."), _unit("Evan lives in Lisbon."), _unit("Fiona has a dog.")]
    new = [
        _unit(t, "2024-06-01")
        for t in ("Alice's manager is Bob.", "Evan lives in Oslo.", "Fiona sold her dog.")
    ]
    llm = ScriptedLLM([_reply((1, "UPDATE", 1), (2, "UPDATE", 1)), _reply((1, "DELETE", 1))])
    reconciler = LLMReconciler(llm, batch_size=2, max_candidates=2)
    decisions = reconciler.decide(stored, new)
    assert decisions == {
        new[0].id: Decision("update", stored[0].id),
        new[1].id: Decision("update", stored[0].id),  # memory 1 of the first batch's list
        new[2].id: Decision("delete", stored[2].id),  # memory 1 of the second batch's list
    }
    first, second = (request[-1]["content"] for request in llm.requests)
    assert "Carol" in first and "Lisbon" in first and "Fiona has a dog" not in first
    assert "[1] fact, since 2024-01-01: Fiona has a dog." in second and "Carol" not in second


# -- through Memory -----------------------------------------------------------------------------


def _memory(path: Path, embedder: WordLlamaEmbedder, *replies: str | Exception) -> Memory:
    return Memory(path, embedder=embedder, reconciler=LLMReconciler(ScriptedLLM(replies)))


def _client(memory: Memory) -> ScriptedLLM:
    assert isinstance(memory.reconciler, LLMReconciler)
    client = memory.reconciler.client
    assert isinstance(client, ScriptedLLM)
    return client


def test_an_update_decision_supersedes_what_the_rules_would_keep(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    with Memory(tmp_path / "rules.db", embedder=embedder) as rules:
        rules.add("Sam's favourite snack is crisps.", user_id="u", timestamp="2024-01-01T10:00:00Z")
        assert (
            rules.add("Popcorn is what Sam buys at the cinema.", user_id="u").revised == []
        )  # rules: both hold
    with _memory(tmp_path / "m.db", embedder, _reply((1, "UPDATE", 1))) as memory:
        old = memory.add("Sam's favourite snack is crisps.", user_id="u", timestamp="2024-01-01T10:00:00Z")
        assert _client(memory).requests == []  # nothing stored to compare with: no call
        result = memory.add(
            "Popcorn is what Sam buys at the cinema.", user_id="u", timestamp="2024-06-01T10:00:00Z"
        )
        crisps, popcorn = old.derived[0], result.derived[0]
        # The fact is closed, and so is the turn that said it (it no longer holds either).
        assert {u.id for u in result.revised} == {crisps.id, *crisps.derived_from}
        closed = memory.get(crisps.id, user_id="u")
        assert closed.valid_to == datetime(2024, 6, 1, 10, tzinfo=UTC)
        assert closed.metadata["superseded_by"] == popcorn.id
        assert memory.get(popcorn.id, user_id="u").metadata["supersedes"] == crisps.id
        assert [e.op for e in memory.history(crisps.id, user_id="u")] == ["add", "supersede"]
        assert len(_client(memory).requests) == 1


def test_a_none_decision_counts_a_mention(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    with _memory(tmp_path / "m.db", embedder, _reply((1, "NONE", 1))) as memory:
        crisps = memory.add("Sam's favourite snack is crisps.", user_id="u").derived[0]
        result = memory.add("Sam loves crisps more than any other snack.", user_id="u")
        assert result.derived == [] and [u.id for u in result.revised] == [crisps.id]
        again = memory.get(crisps.id, user_id="u")
        assert again.valid_to is None and again.metadata["mentions"] == 2
        assert len(again.sources) == 2
        assert [e.op for e in memory.history(crisps.id, user_id="u")] == ["add", "mention"]


@pytest.mark.parametrize(
    "replies",
    [[LLMError("connection refused")], ["not json"] * 4],
    ids=["endpoint-down", "malformed-replies"],
)
def test_a_failing_model_leaves_the_rules_result(
    tmp_path: Path, embedder: WordLlamaEmbedder, replies: list[str | Exception]
) -> None:
    with _memory(tmp_path / "m.db", embedder, *replies) as memory:
        carol = memory.add("Alice's manager is Carol.", user_id="u", timestamp="2024-01-01").derived[0]
        bob = memory.add("Alice's manager is Bob.", user_id="u", timestamp="2024-06-01").derived[0]
        assert memory.get(carol.id, user_id="u").metadata["superseded_by"] == bob.id
        assert _client(memory).remaining == 0  # the model was asked, and the rules decided


def test_rebuild_reconciles_new_extractions_with_the_model(
    tmp_path: Path, embedder: WordLlamaEmbedder
) -> None:
    with _memory(tmp_path / "m.db", embedder, _reply((1, "UPDATE", 1))) as memory:
        crisps = memory.add("Sam's favourite snack is crisps.", user_id="u", timestamp="2024-01-01").derived[
            0
        ]
        memory.add("These days Sam prefers popcorn.", user_id="u", timestamp="2024-06-01", infer=False)
        assert _client(memory).requests == []
        assert memory.rebuild(user_id="u") == 2
        assert len(_client(memory).requests) == 1
        closed = memory.get(crisps.id, user_id="u")  # kept by the rebuild, closed by the model
        popcorn = next(u for u in memory.list(user_id="u", kinds=["fact"]) if u.id != crisps.id)
        assert closed.valid_to is not None and closed.metadata["superseded_by"] == popcorn.id


# -- the real local model -----------------------------------------------------------------------


@pytest.fixture()
def real_llm(local_llm_url: str) -> Iterator[OpenAICompatibleClient]:
    with OpenAICompatibleClient(LLMSettings(base_url=local_llm_url, model="smollm2", timeout=300)) as client:
        yield client


@pytest.mark.llm
def test_real_model_reconciles_or_falls_back_cleanly(
    tmp_path: Path, embedder: WordLlamaEmbedder, real_llm: OpenAICompatibleClient
) -> None:
    reconciler = LLMReconciler(real_llm, max_tokens=64)
    with Memory(tmp_path / "m.db", embedder=embedder, reconciler=reconciler) as memory:
        first = memory.add("Alice's manager is Carol.", user_id="u", timestamp="2024-01-01T10:00:00Z")
        second = memory.add("Alice's manager is Bob.", user_id="u", timestamp="2024-06-01T10:00:00Z")
        stored = {u.id: u for u in memory.list(user_id="u", limit=None)}
        assert len([u for u in stored.values() if u.kind == "turn"]) == 2
        carol = first.derived[0]
        assert carol.id in stored  # whatever was decided, nothing is deleted
        assert {u.id for u in second.derived} <= set(stored)
        assert {u.id for u in second.revised if u.kind != "turn"} <= {carol.id}
        for unit in stored.values():
            closer = unit.metadata.get("superseded_by")
            assert closer is None or closer in stored
            assert (unit.valid_to is None) == (closer is None) or unit.kind == "turn"
        if not second.derived:  # the model said NONE: a mention of Carol's fact
            assert stored[carol.id].metadata["mentions"] == 2
    stats = reconciler.stats
    assert stats.batches == 1 and stats.calls in (1, 2)
    assert stats.decisions + stats.dropped <= 1 or stats.failed_batches == 1
    assert real_llm.usage.calls == stats.calls


# -- the command line ---------------------------------------------------------------------------


def test_rebuild_help_lists_llm() -> None:
    result = RUNNER.invoke(app, ["rebuild", "--llm", "--help"])
    assert result.exit_code == 0
    assert "--llm" in result.output and "restate" in result.output


def test_rebuild_with_llm_but_no_model_configured_says_how_to_configure_one(db_path: Path) -> None:
    result = RUNNER.invoke(app, ["rebuild", "--llm", "--db", str(db_path)], env=NO_LLM)
    assert result.exit_code == 1
    assert "--llm needs a chat model: set EIDETICA_LLM_MODEL" in result.stderr
    assert not db_path.exists()


def test_add_with_llm_reconciles_through_the_configured_endpoint(db_path: Path) -> None:
    def units(text: str) -> ScriptedResponse:
        unit: dict[str, Any] = {"turns": [1], "kind": "fact", "text": text, "entities": [], "date": None}
        return ScriptedResponse.reply(json.dumps({"units": [unit]}))

    script = [
        units("Sam's favourite snack is crisps."),  # first add: extraction only, nothing to compare
        units("Sam prefers popcorn now."),
        ScriptedResponse.reply(_reply((1, "UPDATE", 1))),
    ]
    with ScriptedOpenAIServer(script) as server:
        env = {**NO_LLM, "EIDETICA_LLM_BASE_URL": server.url, "EIDETICA_LLM_MODEL": "scripted"}
        for text in ("my favourite snack is crisps", "I like popcorn better"):
            args = ["add", text, "--user", "sam", "--llm", "--db", str(db_path)]
            assert RUNNER.invoke(app, args, env=env).exit_code == 0
        assert server.remaining == 0
        reconcile_request = server.requests[-1].json
    assert "Stored memories" in reconcile_request["messages"][-1]["content"]
    result = RUNNER.invoke(app, ["list", "--user", "sam", "--json", "--db", str(db_path)], env=NO_LLM)
    facts = {u["text"]: u for u in json.loads(result.stdout) if u["kind"] == "fact"}
    assert facts["Sam's favourite snack is crisps."]["valid_to"] is not None
