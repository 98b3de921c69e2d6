"""The contextual MiniLM embedder: loaded from its wheel, chosen by name or ``EIDETICA_EMBEDDER``.

MiniLM links a question to evidence that shares none of its words; these tests pin that on a
small real example, in the library and through the command line.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from eidetica import Memory, StoreError
from eidetica.cli import app
from eidetica.embedders import Embedder, load_embedder
from eidetica.embedders.minilm import MiniLMEmbedder

QUESTION = "What desserts does Joanna like to make?"
EVIDENCE = "I baked a chocolate cake with strawberries for my family last night."
DISTRACTORS = [
    "My screenplay got a reply from a film producer this morning.",
    "The hiking trail by the lake was muddy after the storm.",
    "I fixed the brakes on my old car over the weekend.",
    "We watched the basketball final together at a bar downtown.",
]


@pytest.fixture(scope="module")
def minilm() -> Embedder:
    return load_embedder("minilm")


def test_minilm_loads_offline_from_its_wheel_and_embeds_unit_vectors(
    minilm: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert isinstance(minilm, MiniLMEmbedder) and minilm.dim == 384
    vectors = minilm.embed([EVIDENCE, *DISTRACTORS])
    assert vectors.shape == (5, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_minilm_ranks_evidence_that_shares_no_word_with_the_question_first(minilm: Embedder) -> None:
    query = minilm.embed([QUESTION])[0]
    scores = minilm.embed([EVIDENCE, *DISTRACTORS]) @ query
    assert int(np.argmax(scores)) == 0


def test_memory_with_minilm_finds_a_paraphrase_and_keeps_its_embedder(tmp_path: Path) -> None:
    db = tmp_path / "minilm.db"
    turns = [{"role": "user", "content": text} for text in [*DISTRACTORS, EVIDENCE]]
    with Memory(db, embedder="minilm") as memory:
        memory.add(turns, user_id="joanna")
        hits = memory.search(QUESTION, user_id="joanna", k=1)
        assert hits[0].unit.kind == "turn" and hits[0].text == EVIDENCE
    with pytest.raises(StoreError, match="EIDETICA_EMBEDDER"):
        Memory(db)


def test_commands_use_the_embedder_named_in_the_environment(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = CliRunner(env={"COLUMNS": "100", "EIDETICA_DB": db, "EIDETICA_EMBEDDER": "minilm"})
    added = runner.invoke(app, ["add", EVIDENCE, "--user", "joanna"])
    assert added.exit_code == 0, added.output
    found = runner.invoke(app, ["search", QUESTION, "--user", "joanna", "--json"])
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)[0]["unit"]["text"] == EVIDENCE
    # The same database opened with the default embedder is refused, with what to set.
    plain = CliRunner(env={"COLUMNS": "200", "EIDETICA_DB": db, "EIDETICA_EMBEDDER": None})
    refused = plain.invoke(app, ["search", QUESTION, "--user", "joanna"])
    assert refused.exit_code == 1 and "EIDETICA_EMBEDDER" in refused.output


def test_loading_draws_no_progress_bar_and_keeps_the_setting(capfd: pytest.CaptureFixture[str]) -> None:
    from transformers.utils import logging as hf_logging

    assert hf_logging.is_progress_bar_enabled()
    MiniLMEmbedder()
    assert "Loading weights" not in capfd.readouterr().err
    assert hf_logging.is_progress_bar_enabled()  # the application's own setting is left alone
