"""answer_question with scripted replies: citations map to context units, abstentions, prose replies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from eidetica.errors import LLMOutputError, UsageError
from eidetica.llms import answer_question
from eidetica.llms.answer import NOT_MENTIONED, numbered
from eidetica.model import Context, Hit, MemoryUnit, Scope
from eidetica.retrieve.pack import pack
from eidetica.testing import ScriptedLLM
from eidetica.tokens import BundledTokenCounter

DAY = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def memory(
    unit_id: str, text: str, day: int, *, kind: str = "fact", speaker: str | None = None
) -> MemoryUnit:
    when = DAY + timedelta(days=day)
    turn = kind == "turn"
    return MemoryUnit(
        id=unit_id,
        kind="turn" if turn else "fact",
        text=text,
        scope=Scope(),
        recorded_at=when,
        speaker=speaker,
        occurred_at=when if turn else None,
        valid_from=None if turn else when,
        sources=(f"D1:{day}",) if turn else (f"D1:{day}", "D1:0"),
        derived_from=() if turn else (f"t{day}",),
    )


@pytest.fixture(scope="module")
def context() -> Context:
    units = [
        memory("u-boston", "Caroline is moving to Boston in June 2023.", 2),
        memory("u-group", "Caroline went to an LGBTQ support group on 7 May 2023.", 0),
        memory("u-paint", "I'm painting a sunset for my sister.", 1, kind="turn", speaker="Melanie"),
    ]
    hits = [Hit(u, 1.0 - i / 10, {}) for i, u in enumerate(units)]  # by score, not by day
    return pack(hits, BundledTokenCounter(), 500)


def reply(answer: str, citations: list[int]) -> str:
    return json.dumps({"answer": answer, "citations": citations})


def test_the_prompt_numbers_context_lines_by_day(context: Context) -> None:
    llm = ScriptedLLM([reply("Boston", [3])])
    answer_question(llm, "Where is Caroline moving?", context)
    (request,) = llm.requests
    assert [h.id for h in numbered(context)] == ["u-group", "u-paint", "u-boston"]
    user = request[-1]["content"]
    assert "[1] 8 May 2023: Caroline went to an LGBTQ support group on 7 May 2023." in user
    assert "[2] 9 May 2023: Melanie: I'm painting a sunset for my sister." in user
    assert "[3] 10 May 2023: Caroline is moving to Boston in June 2023." in user
    assert user.rstrip().endswith("Question: Where is Caroline moving?\nAnswer as JSON:")


def test_citations_map_back_to_unit_ids_and_their_source_turns(context: Context) -> None:
    llm = ScriptedLLM([reply("  Boston,\nin June 2023 ", [3, 1, 3])])
    answer = answer_question(llm, "Where is Caroline moving, and when?", context)
    assert answer.text == "Boston, in June 2023"
    assert answer.unit_ids == ("u-boston", "u-group")
    assert answer.sources == ("D1:2", "D1:0")
    assert not answer.abstained and answer.structured
    assert answer.tokens == answer.prompt_tokens + answer.completion_tokens > 0
    assert answer.prompt_version == "answer_v2"


def test_invented_citation_numbers_are_dropped(context: Context) -> None:
    llm = ScriptedLLM([reply("A sunset", [0, 2, 4, -1, 99])])
    answer = answer_question(llm, "What is Melanie painting?", context)
    assert answer.unit_ids == ("u-paint",)
    assert answer.sources == ("D1:1",)


def test_an_empty_context_abstains_without_calling_the_model() -> None:
    llm = ScriptedLLM([])
    empty = Context(text="", hits=[], tokens=0, budget_tokens=500)
    answer = answer_question(llm, "Where is Caroline moving?", empty)
    assert answer.abstained and answer.text == NOT_MENTIONED
    assert answer.unit_ids == () and answer.tokens == 0
    assert llm.requests == [] and llm.usage.calls == 0


@pytest.mark.parametrize(
    "said", ["not mentioned", "Not mentioned.", "Unknown", "The memories do not say.", ""]
)
def test_a_model_saying_it_does_not_know_is_an_abstention(context: Context, said: str) -> None:
    llm = ScriptedLLM([reply(said, [1])])
    answer = answer_question(llm, "What is Caroline's favourite food?", context)
    assert answer.abstained and answer.text == NOT_MENTIONED and answer.unit_ids == ()


def test_a_prose_reply_is_repaired_once_then_kept_uncited(context: Context) -> None:
    llm = ScriptedLLM(['The answer is: "Boston"', "Boston, as I said."])
    answer = answer_question(llm, "Where is Caroline moving?", context)
    assert answer.text == 'The answer is: "Boston"' and not answer.structured
    assert answer.unit_ids == () and not answer.abstained
    assert answer.completion_tokens > 0
    assert (llm.usage.repairs, llm.usage.failures) == (1, 1)


def test_a_repaired_reply_is_used(context: Context) -> None:
    llm = ScriptedLLM(["Boston", reply("Boston", [3])])
    answer = answer_question(llm, "Where is Caroline moving?", context)
    assert answer.structured and answer.unit_ids == ("u-boston",)


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        (['{"answer": "Boston", "citations": [the numbers]}', '{"answer": {"type": "string"}}'], "Boston"),
        (['{"answer": 7}', '{"answer": "Bo\\u0073ton", "citations": "3"}'], "Boston"),
        (['{"answer": "Bost\\on"', "?"], "Bost\\on"),  # an escape JSON does not know is kept as is
    ],
)
def test_an_answer_field_amid_broken_json_is_kept_uncited(
    context: Context, replies: list[str], expected: str
) -> None:
    answer = answer_question(ScriptedLLM(replies), "Where is Caroline moving?", context)
    assert answer.text == expected and not answer.structured and answer.unit_ids == ()


def test_broken_json_without_an_answer_raises(context: Context) -> None:
    llm = ScriptedLLM(['{"answer": 7, "citations": [1]}', '{"reply": "Boston"}'])
    with pytest.raises(LLMOutputError, match="answer"):
        answer_question(llm, "Where is Caroline moving?", context)


def test_an_empty_question_is_a_usage_error(context: Context) -> None:
    with pytest.raises(UsageError):
        answer_question(ScriptedLLM([]), "  ", context)
