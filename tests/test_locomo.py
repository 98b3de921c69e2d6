"""LoCoMo conversations through the public API: import, provenance, and a recall floor.

Reads the dev file beside the repository (never copied into it); skipped where it is absent.
The recall floor guards against regressions only; the evaluation harness reports real figures.
"""

from __future__ import annotations

import json
import re

import pytest

from eidetica import Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder

from .conftest import LOCOMO

pytestmark = pytest.mark.skipif(not LOCOMO.exists(), reason=f"{LOCOMO} not present")


@pytest.fixture(scope="module")
def locomo_memory(tmp_path_factory: pytest.TempPathFactory) -> Memory:
    embedder = WordLlamaEmbedder()
    memory = Memory(tmp_path_factory.mktemp("locomo") / "locomo.db", embedder=embedder)
    report = memory.import_file(LOCOMO)
    assert report.errors == [] and report.turns > 2000
    return memory


def _evidence(qa: dict[str, object]) -> set[str]:
    ids = set()
    for item in qa.get("evidence", []):  # type: ignore[union-attr]
        ids.update(p for p in re.split(r"[;\s]+", str(item)) if p)
    return ids


def test_each_conversation_is_its_own_user(locomo_memory: Memory) -> None:
    samples = json.loads(LOCOMO.read_text(encoding="utf-8"))
    for sample in samples:
        turns = sum(len(v) for k, v in sample["conversation"].items() if re.fullmatch(r"session_\d+", k))
        stats = locomo_memory.stats(user_id=sample["sample_id"])
        assert stats.units_by_kind["turn"] == turns


def test_reimport_skips_every_stored_turn(locomo_memory: Memory) -> None:
    before = locomo_memory.stats().units
    report = locomo_memory.import_file(LOCOMO)
    assert report.turns == 0 and report.skipped_refs > 2000
    assert locomo_memory.stats().units == before


def test_session_dates_anchor_relative_time(locomo_memory: Memory) -> None:
    # conv-26 session 1 was on 8 May 2023; D1:3 says "I went to a LGBTQ support group yesterday".
    hits = locomo_memory.search("When did Caroline go to the LGBTQ support group?", user_id="conv-26")
    dated = [h for h in hits if h.kind == "event" and "D1:3" in h.sources]
    assert dated and "7 May 2023" in dated[0].text


def test_evidence_recall_at_400_tokens_stays_above_floor(locomo_memory: Memory) -> None:
    samples = json.loads(LOCOMO.read_text(encoding="utf-8"))
    recall, count = 0.0, 0
    for sample in samples:
        for qa in sample["qa"]:
            evidence = _evidence(qa)
            if qa["category"] == 5 or not evidence:
                continue
            ctx = locomo_memory.context(qa["question"], user_id=sample["sample_id"], budget_tokens=400)
            covered = {s for hit in ctx.hits for s in hit.sources}
            assert ctx.tokens <= 400
            recall += len(evidence & covered) / len(evidence)
            count += 1
    assert count == 760
    assert recall / count >= 0.55  # measured 0.63; BM25 over turns gets 0.45
