"""Answer a question from a packed context, citing the memories the answer rests on.

Each context unit is shown to the model as a numbered line (``[1] 8 May 2023: ...``); the model
replies ``{"answer": ..., "citations": [1, 3]}`` and the numbers are mapped back to unit ids.
Numbers that name no line are dropped, so a citation always points at a unit the model was shown.
An empty context, or a model saying the memories do not tell, gives an abstention.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from datetime import date

from ..dates import format_date
from ..errors import LLMOutputError, UsageError
from ..model import Answer, Context, Hit, MemoryUnit
from ..retrieve.pack import line, said_on
from .base import JsonSchema, LLMClient
from .prompt import load_prompt
from .structured import strict_object

__all__ = [
    "ANSWER_SCHEMA",
    "NOT_MENTIONED",
    "Answer",
    "answer_question",
    "cited_text_schema",
    "numbered",
    "numbered_lines",
]

logger = logging.getLogger("eidetica.llm")

ANSWER_PROMPT = "answer_v2"
NOT_MENTIONED = "Not mentioned in the conversations."
MAX_PROSE_CHARS = 2000


def cited_text_schema(field: str) -> JsonSchema:
    """The reply of a task that writes one text from numbered memories and cites them:
    ``{field: "...", "citations": [1, 3]}``."""
    citations = {"type": "array", "items": {"type": "integer"}}
    return strict_object({field: {"type": "string"}, "citations": citations}, title=field)


ANSWER_SCHEMA = cited_text_schema("answer")

_ANSWER_FIELD_RE = re.compile(r'"answer"\s*:\s*"((?:[^"\\\n]|\\.)*)"')
# Replies meaning "the memories do not say"; matched at the start of the normalised answer.
_ABSTAIN_RE = re.compile(
    r"^(?:not mentioned|not stated|not specified|not known|unknown|no information|none mentioned"
    r"|i (?:do not|don't|cannot|can't) (?:know|tell|say)|(?:this |it )?cannot be (?:determined|answered)"
    r"|there is no (?:information|mention)|the (?:memories|context) (?:do|does) not)"
)


def answer_question(
    client: LLMClient,
    question: str,
    context: Context,
    *,
    max_tokens: int = 256,
    temperature: float = 0.0,
    prompt: str = ANSWER_PROMPT,
) -> Answer:
    """Answer ``question`` from ``context`` alone; abstain without a model call when it is empty.

    A reply that is not valid JSON even after a repair but whose answer can still be read is
    returned uncited (``structured=False``); otherwise that raises ``LLMOutputError``.
    ``LLMError`` means the endpoint failed.
    """
    if not question.strip():
        raise UsageError("the question is empty")
    template = load_prompt(prompt)
    hits = numbered(context)
    if not hits:
        return Answer(NOT_MENTIONED, abstained=True, prompt_version=template.version)
    lines = numbered_lines([hit.unit for hit in hits])
    messages = template.render(context=lines, question=question.strip())
    try:
        completion = client.complete(
            messages, schema=ANSWER_SCHEMA, max_tokens=max_tokens, temperature=temperature
        )
    except LLMOutputError as exc:
        salvaged = _salvage(exc.replies)
        if salvaged is None:
            raise
        logger.warning("the answer was not valid JSON even after a repair; keeping its text, uncited")
        return Answer(
            text=NOT_MENTIONED if _abstains(salvaged) else salvaged,
            abstained=_abstains(salvaged),
            prompt_tokens=exc.prompt_tokens,
            completion_tokens=exc.completion_tokens,
            prompt_version=template.version,
            structured=False,
        )
    text = " ".join(str(completion.parsed["answer"]).split())
    abstained = _abstains(text)
    cited: list[Hit] = []
    if not abstained:
        for n in completion.parsed["citations"]:
            if 1 <= int(n) <= len(hits) and hits[int(n) - 1] not in cited:
                cited.append(hits[int(n) - 1])
    sources = dict.fromkeys(s for hit in cited for s in hit.unit.sources)
    return Answer(
        text=NOT_MENTIONED if abstained else text,
        unit_ids=tuple(hit.id for hit in cited),
        sources=tuple(sources),
        abstained=abstained,
        prompt_tokens=completion.prompt_tokens,
        completion_tokens=completion.completion_tokens,
        prompt_version=template.version,
    )


def numbered(context: Context) -> list[Hit]:
    """The context's hits in the order the prompt numbers them: by day, undated last."""
    return sorted(context.hits, key=lambda hit: said_on(hit.unit) or date.max)


def _abstains(text: str) -> bool:
    return not text or _ABSTAIN_RE.match(text.lower().strip(" .!\"'")) is not None


def _salvage(replies: tuple[str, ...]) -> str | None:
    """The answer text in replies that failed validation: an ``"answer"`` string amid broken JSON,
    else the first reply when it is plain prose; ``None`` when there is neither."""
    for reply in replies:
        found = _ANSWER_FIELD_RE.search(reply)
        if found is not None:
            try:
                raw = str(json.loads(f'"{found.group(1)}"'))
            except ValueError:  # an escape JSON does not know; the text is still the answer
                raw = found.group(1)
            text = " ".join(raw.split())
            if text:
                return text[:MAX_PROSE_CHARS]
    text = " ".join(replies[0].split()) if replies else ""
    if not text or "{" in text:
        return None
    return text if len(text) <= MAX_PROSE_CHARS else text[:MAX_PROSE_CHARS] + " ..."


def numbered_lines(units: Sequence[MemoryUnit]) -> str:
    """Memories as the prompts show them, numbered from 1, one a line: ``[1] 8 May 2023: text``,
    each as the context writes it (marked past, or said by the assistant, where it was)."""
    return "\n".join(f"[{n}] {_render(unit)}" for n, unit in enumerate(units, 1))


def _render(unit: MemoryUnit) -> str:
    day = said_on(unit)
    text = " ".join(line(unit).split())
    return f"{format_date(day)}: {text}" if day else text
