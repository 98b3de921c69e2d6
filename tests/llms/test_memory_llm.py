"""The LLM path through ``Memory``: extraction, reconciliation and answering.

Scripted replies test the plumbing (what reaches the store, what a failing endpoint leaves
behind); the real local model runs the whole path end to end and is judged on structure and
provenance only.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from eidetica import LLMError, Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.ingest.llm_extract import LLMExtractor
from eidetica.ingest.reconcile import MAX_SOURCES
from eidetica.llms import LLMSettings, OpenAICompatibleClient
from eidetica.testing import ScriptedLLM

FACTS = [
    "Alice's manager is Carol.",
    "Bob's favourite colour is green.",
    "Dana works at Acme Robotics.",
    "Evan lives in Lisbon.",
    "Fiona's dog is called Biscuit.",
]


def _units_reply(texts: list[str]) -> str:
    units = [
        {"turns": [i + 1], "kind": "fact", "text": text, "entities": [], "date": None}
        for i, text in enumerate(texts)
    ]
    return json.dumps({"units": units})


def test_llm_extracted_restatements_stay_five_units(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    llm = ScriptedLLM([_units_reply(FACTS)] * 15)
    with Memory(tmp_path / "m.db", embedder=embedder, extractor=LLMExtractor(llm), llm=llm) as memory:
        for round_ in range(15):
            messages = [{"role": "user", "content": f"(round {round_}) {fact}"} for fact in FACTS]
            memory.add(messages, user_id="u")
        facts = memory.list(user_id="u", kinds=["fact"], limit=None)
        assert sorted(u.text for u in facts) == sorted(FACTS)
        # Fifteen mentions each; the unit keeps the first and the newest sources (see MAX_SOURCES).
        assert all(u.metadata["mentions"] == 15 and len(u.sources) == MAX_SOURCES for u in facts)
        assert len(memory.list(user_id="u", kinds=["turn"], limit=None)) == 75
    assert len(llm.requests) == 15  # one call per batch of turns


def test_llm_extracted_changed_fact_supersedes(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    llm = ScriptedLLM(
        [_units_reply(["Alice's manager is Carol."]), _units_reply(["Alice's manager is Bob."])]
    )
    with Memory(tmp_path / "m.db", embedder=embedder, extractor=LLMExtractor(llm)) as memory:
        old = memory.add("my manager is Carol", user_id="u", timestamp="2024-01-01").derived[0]
        new = memory.add("my manager is Bob now", user_id="u", timestamp="2024-06-01").derived[0]
        assert memory.get(old.id).valid_to is not None
        assert memory.get(old.id).metadata["superseded_by"] == new.id
        assert [e.op for e in memory.history(old.id)] == ["add", "supersede"]


def test_a_failing_endpoint_still_stores_the_turns(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    llm = ScriptedLLM([LLMError("connection refused by http://10.0.0.7:8000/v1")])
    with Memory(tmp_path / "m.db", embedder=embedder, extractor=LLMExtractor(llm)) as memory:
        result = memory.add("I moved to Lisbon in May.", user_id="u")
        assert len(result.turns) == 1 and result.derived == []
        assert result.warnings and "rebuild" in result.warnings[0]
        # A server sends the warnings to its tenants: the endpoint's address goes to the log only.
        assert "10.0.0.7" not in result.warnings[0] and "LLMError" in result.warnings[0]
        assert memory.get(result.turns[0].id).text == "I moved to Lisbon in May."


def test_answer_without_an_llm_says_how_to_configure_one(memory: Memory) -> None:
    with pytest.raises(Exception, match="EIDETICA_LLM_BASE_URL"):
        memory.answer("anything?")


def test_answer_cites_units_from_the_context(tmp_path: Path, embedder: WordLlamaEmbedder) -> None:
    llm = ScriptedLLM([json.dumps({"answer": "Carol", "citations": [1, 99]})])
    with Memory(tmp_path / "m.db", embedder=embedder, llm=llm) as memory:
        turn = memory.add("Alice's manager is Carol.", user_id="u").turns[0]
        reply = memory.answer("Who is Alice's manager?", user_id="u")
        assert reply.text == "Carol" and not reply.abstained
        assert len(reply.unit_ids) == 1  # the invented citation 99 is dropped
        assert reply.sources == (turn.id,)


@pytest.fixture()
def real_llm(local_llm_url: str) -> Iterator[OpenAICompatibleClient]:
    with OpenAICompatibleClient(LLMSettings(base_url=local_llm_url, model="smollm2", timeout=300)) as client:
        yield client


@pytest.mark.llm
def test_real_model_extract_reconcile_answer(
    tmp_path: Path, embedder: WordLlamaEmbedder, real_llm: OpenAICompatibleClient
) -> None:
    turns = [
        {"role": "user", "name": "Melanie", "content": "I painted a sunset over the lake last weekend."},
        {"role": "assistant", "name": "Caroline", "content": "Lovely! I went to a support group on Friday."},
    ]
    extractor = LLMExtractor(real_llm, prompt="extract_v2", max_tokens=160)
    with Memory(tmp_path / "m.db", embedder=embedder, extractor=extractor, llm=real_llm) as memory:
        first = memory.add(turns, user_id="u", session_id="s1", timestamp="2023-05-08T13:00:00Z")
        turn_ids = {t.id for t in first.turns}
        assert len(first.turns) == 2
        assert first.derived, f"the model derived nothing: {extractor.stats}"
        for unit in first.derived:
            assert unit.text.strip() and set(unit.derived_from) <= turn_ids and unit.sources
        # The same turns again (greedy decoding: the same units): nothing new is derived.
        again = memory.add(turns, user_id="u", session_id="s2", timestamp="2023-05-08T13:00:00Z")
        assert again.derived == []
        assert {u.id for u in again.revised} == {u.id for u in first.derived}
        before = {u.id: len(u.sources) for u in first.derived}
        assert all(len(u.sources) == 2 * before[u.id] for u in again.revised)

        reply = memory.answer("What did Melanie paint?", user_id="u", budget_tokens=200)
        assert reply.text.strip() and reply.prompt_tokens > 0
        stored = {u.id: u for u in memory.list(user_id="u", limit=None)}
        assert set(reply.unit_ids) <= set(stored)
        assert set(reply.sources) <= {s for uid in reply.unit_ids for s in stored[uid].sources}
    assert extractor.stats.failed_batches == 0
