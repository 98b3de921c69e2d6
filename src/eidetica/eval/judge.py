"""An LLM judge: does a generated answer state the gold answer? Two published prompts, two rigours.

``strict`` is LongMemEval's yes/no check (correct only if the response contains the gold answer's
fact); ``lenient`` is Mem0's "generous grading" (correct if it touches the same topic, or names the
same date in any format). Both reply with JSON checked against a schema; a reply that fails even
after the client's repair is searched for the label words, and one that holds none, or both, is
recorded as unparsed (``correct is None``), which the report counts as wrong.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ..errors import LLMOutputError, UsageError
from ..llms.base import JsonSchema, LLMClient
from ..llms.prompt import load_prompt

__all__ = ["JUDGES", "Judge", "Rigour", "Verdict", "judge_answer"]

Rigour = Literal["strict", "lenient"]


@dataclass(frozen=True)
class Judge:
    """A judge prompt and the labels its reply may hold, each meaning correct or not."""

    prompt: str
    labels: Mapping[str, bool]

    @property
    def schema(self) -> JsonSchema:
        return {
            "title": "judgement",
            "type": "object",
            "properties": {"label": {"type": "string", "enum": list(self.labels)}},
            "required": ["label"],
            "additionalProperties": False,
        }


JUDGES: Mapping[Rigour, Judge] = {
    "strict": Judge("judge_strict_v1", {"yes": True, "no": False}),
    "lenient": Judge("judge_lenient_v1", {"CORRECT": True, "WRONG": False}),
}


@dataclass(frozen=True)
class Verdict:
    """A judge's decision: ``correct`` is ``None`` when its reply named no single label."""

    correct: bool | None
    label: str | None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    structured: bool = True

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def judge_answer(
    client: LLMClient,
    question: str,
    gold: str,
    answer: str,
    *,
    rigour: Rigour,
    max_tokens: int = 64,
) -> Verdict:
    """Ask ``client`` whether ``answer`` is a correct answer to ``question`` given ``gold``.

    ``LLMError`` (other than unusable output, which is salvaged) means the endpoint failed.
    """
    if rigour not in JUDGES:
        raise UsageError(f"rigour must be one of {sorted(JUDGES)}, got {rigour!r}")
    judge = JUDGES[rigour]
    messages = load_prompt(judge.prompt).render(
        question=question.strip(), gold_answer=gold.strip(), generated_answer=answer.strip()
    )
    try:
        completion = client.complete(messages, schema=judge.schema, max_tokens=max_tokens, temperature=0.0)
    except LLMOutputError as exc:
        label = _label_in(exc.replies, judge.labels)
        return Verdict(
            None if label is None else judge.labels[label],
            label,
            exc.prompt_tokens,
            exc.completion_tokens,
            structured=False,
        )
    label = str(completion.parsed["label"])
    return Verdict(judge.labels[label], label, completion.prompt_tokens, completion.completion_tokens)


def _label_in(replies: tuple[str, ...], labels: Mapping[str, bool]) -> str | None:
    """The one label the replies name as a word (any case), the last reply first; else ``None``."""
    pattern = re.compile(r"\b(" + "|".join(re.escape(label) for label in labels) + r")\b", re.IGNORECASE)
    by_lower = {label.lower(): label for label in labels}
    for reply in reversed(replies):
        found = {by_lower[m.lower()] for m in pattern.findall(reply)}
        if len(found) == 1:
            return found.pop()
    return None
