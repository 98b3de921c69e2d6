"""The judges' protocol with a scripted model: prompts sent, labels read, broken replies salvaged.

A scripted model only tests the plumbing; no judgement quality is measured here.
"""

from __future__ import annotations

from importlib import resources

import pytest

from eidetica.errors import UsageError
from eidetica.eval.judge import JUDGES, judge_answer
from eidetica.llms.prompt import load_prompt
from eidetica.testing import ScriptedLLM

QUESTION, GOLD, ANSWER = "Where did Ben buy the xylophone?", "flea market", "At the flea market."


def test_strict_judge_reads_yes_and_no_and_sends_the_published_prompt() -> None:
    llm = ScriptedLLM(['{"label": "yes"}', '{"label": "no"}'])
    yes = judge_answer(llm, QUESTION, GOLD, ANSWER, rigour="strict")
    no = judge_answer(llm, QUESTION, GOLD, "Boston", rigour="strict")
    assert (yes.correct, yes.label, yes.structured) == (True, "yes", True)
    assert (no.correct, no.label) == (False, "no")
    assert yes.tokens == yes.prompt_tokens + yes.completion_tokens and yes.prompt_tokens > 50
    [message] = llm.requests[0]
    assert message["role"] == "user"
    assert message["content"].startswith("I will give you a question, a correct answer, and a response")
    assert f"Question: {QUESTION}\n\nCorrect Answer: {GOLD}\n\nModel Response: {ANSWER}" in message["content"]
    assert "Source:" not in message["content"]  # the provenance header is not sent


def test_lenient_judge_reads_correct_and_wrong() -> None:
    llm = ScriptedLLM(['{"label": "CORRECT"}', '```json\n{"label": "WRONG"}\n```'])
    assert judge_answer(llm, QUESTION, GOLD, ANSWER, rigour="lenient").correct is True
    assert judge_answer(llm, QUESTION, GOLD, "Boston", rigour="lenient").correct is False
    content = llm.requests[0][0]["content"]
    assert content.startswith("Your task is to label an answer to a question as ’CORRECT’ or ’WRONG’.")
    assert f"Gold answer: {GOLD}\nGenerated answer: {ANSWER}" in content


def test_a_reply_off_the_schema_is_repaired_once() -> None:
    llm = ScriptedLLM(['{"label": "maybe"}', '{"label": "yes"}'])
    verdict = judge_answer(llm, QUESTION, GOLD, ANSWER, rigour="strict")
    assert verdict.correct is True and verdict.structured
    assert len(llm.requests) == 2 and llm.usage.repairs == 1


@pytest.mark.parametrize(
    ("rigour", "replies", "correct", "label"),
    [
        ("strict", ["Yes.", "Yes, it is correct."], True, "yes"),
        ("strict", ["No", "no"], False, "no"),
        ("lenient", ["It names the same place. CORRECT", "CORRECT"], True, "CORRECT"),
        ("lenient", ["The answer is wrong.", "wrong"], False, "WRONG"),
        # Both labels, or none: unparsed, never guessed.
        ("lenient", ["CORRECT or WRONG", "WRONG and CORRECT"], None, None),
        ("strict", ["I cannot tell", "not sure"], None, None),
    ],
)
def test_prose_replies_are_searched_for_one_label(
    rigour: str, replies: list[str], correct: bool | None, label: str | None
) -> None:
    llm = ScriptedLLM(replies)
    verdict = judge_answer(llm, QUESTION, GOLD, ANSWER, rigour=rigour)  # type: ignore[arg-type]
    assert (verdict.correct, verdict.label, verdict.structured) == (correct, label, False)
    assert verdict.prompt_tokens > 0 and verdict.completion_tokens > 0


def test_judge_schema_and_prompt_files() -> None:
    assert JUDGES["strict"].schema["properties"]["label"]["enum"] == ["yes", "no"]
    assert JUDGES["lenient"].schema["properties"]["label"]["enum"] == ["CORRECT", "WRONG"]
    folder = resources.files("eidetica.llms").joinpath("prompts")
    for judge, source in ((JUDGES["strict"], "LongMemEval"), (JUDGES["lenient"], "Mem0")):
        header = folder.joinpath(f"{judge.prompt}.txt").read_text(encoding="utf-8").split("=== user")[0]
        assert f"Source: {source}" in header and "https://github.com/" in header
        rendered = load_prompt(judge.prompt).render(question="q", gold_answer="g", generated_answer="a")
        assert len(rendered) == 1 and "$" not in rendered[0]["content"]
    with pytest.raises(UsageError):
        judge_answer(ScriptedLLM([]), QUESTION, GOLD, ANSWER, rigour="medium")  # type: ignore[arg-type]
