"""``eidetica eval locomo --llm`` end to end against a real model: SmolLM2-135M on CPU, over HTTP.

A 135M model answers and judges badly; this checks that a whole run goes through the real client,
validation, repair and salvage, and writes complete reports with figures in their ranges. It
never asserts answer quality.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from eidetica.cli import app

pytestmark = pytest.mark.llm

LLM_ENV = ("EIDETICA_LLM_BASE_URL", "EIDETICA_LLM_MODEL", "EIDETICA_LLM_API_KEY", "EIDETICA_DB")
CONVERSATION = {
    "sample_id": "tiny",
    "conversation": {
        "speaker_a": "Ana",
        "speaker_b": "Ben",
        "session_1_date_time": "1:56 pm on 8 May, 2023",
        "session_1": [
            {"speaker": "Ana", "dia_id": "D1:1", "text": "I adopted a grey cat called Miso last week."},
            {"speaker": "Ben", "dia_id": "D1:2", "text": "Lovely! I bought a red kayak at the harbour."},
            {"speaker": "Ana", "dia_id": "D1:3", "text": "I start a pottery class in Lisbon next month."},
        ],
        "session_2_date_time": "10:00 am on 20 June, 2023",
        "session_2": [
            {"speaker": "Ben", "dia_id": "D2:1", "text": "How is the pottery going?"},
            {"speaker": "Ana", "dia_id": "D2:2", "text": "Great, I made a blue bowl for my sister."},
        ],
    },
    "qa": [
        {"question": "What is the name of Ana's cat?", "answer": "Miso", "evidence": ["D1:1"], "category": 4},
        {
            "question": "What colour is Ana's kayak?",
            "adversarial_answer": "red",
            "evidence": ["D1:2"],
            "category": 5,
        },
        {
            "question": "Where is Ana's pottery class?",
            "answer": "Lisbon",
            "evidence": ["D1:3"],
            "category": 1,
        },
    ],
}
SCORES = ("f1", "bleu1", "strict_judge", "lenient_judge", "abstained")


def test_eval_locomo_llm_against_the_local_model(local_llm_url: str, tmp_path: Path) -> None:
    data = tmp_path / "tiny_locomo.json"
    data.write_text(json.dumps([CONVERSATION]), encoding="utf-8")
    out = tmp_path / "report"
    runner = CliRunner(env={"COLUMNS": "200", **dict.fromkeys(LLM_ENV)})
    args = [
        "eval",
        "locomo",
        str(data),
        "--llm",
        "--llm-base-url",
        local_llm_url,
        "--llm-model",
        "smollm2-135m-instruct",
        "--budget",
        "60",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "| category | system | questions | F1 |" in result.stdout
    for name in ("answers.json", "answers.md", "answers.progress.jsonl"):
        assert (out / name).stat().st_size > 0

    report: dict[str, Any] = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    meta, results, records = report["meta"], report["results"], report["records"]
    assert meta["model"] == meta["judge_model"] == "smollm2-135m-instruct"
    assert meta["questions"] == 3 and meta["turns"] == 5 and meta["systems"] == ["eidetica", "full-context"]
    assert meta["usage"]["calls"] >= 2 and meta["usage"]["failures"] <= meta["usage"]["calls"]
    assert len(records) == 6 and {r["key"] for r in records} == {
        f"tiny:{i}:{s}" for i in range(3) for s in ("eidetica", "full-context")
    }
    for record in records:
        assert isinstance(record["answer"], str) and record["answer_ms"] >= 0
        assert record["context_tokens"] > 0 and record["answer_prompt_tokens"] >= 0
        if record["category"] == "adversarial":
            assert isinstance(record["abstention_correct"], bool) and record["f1"] is None
        else:
            assert 0.0 <= record["f1"] <= 1.0 and 0.0 <= record["bleu1"] <= 1.0
            assert record["strict"] in (True, False, None) and record["lenient"] in (True, False, None)
    eidetica = [r for r in records if r["system"] == "eidetica"]
    assert all(r["context_tokens"] <= 60 for r in eidetica)  # the budget holds
    for system in ("eidetica", "full-context"):
        overall = results[system]["overall"]
        assert overall["questions"] == 2
        assert all(0.0 <= overall[name] <= 1.0 for name in SCORES)
        assert overall["answer_tokens"] >= 0 and overall["latency_ms"] > 0
        adversarial = results[system]["by_category"]["adversarial"]
        assert adversarial["questions"] == 1 and 0.0 <= adversarial["abstention_accuracy"] <= 1.0
    assert report["token_ratio"] is None or report["token_ratio"] > 0
    markdown = (out / "answers.md").read_text(encoding="utf-8")
    assert "| **overall** | **eidetica** | 2 |" in markdown and "## Adversarial questions" in markdown

    rerun = runner.invoke(app, args, catch_exceptions=False)  # everything answered: resumes, asks nothing
    assert rerun.exit_code == 0, rerun.output
    again = json.loads((out / "answers.json").read_text(encoding="utf-8"))
    assert again["records"] == records and again["meta"]["answered_now"] == 0
    assert again["meta"]["usage"]["calls"] == 0
