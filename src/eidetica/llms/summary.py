"""Write a summary with the configured model, from the statements the rules picked: a session's
(its most central current facts and events, the extractive summary's choice at a few times the
budget) or a person's (their profile's lines).

The model sees the statements as numbered lines, and replies
``{"summary": ..., "citations": [...]}``. Its summary is kept when it fits the budget, cites lines
it was shown (they become the summary's units) and is grounded in them: every name and number
it states, and most of its words, are in those lines. A small model shown an example in its
prompt may copy the example instead; otherwise, or when the model fails, the caller keeps the
extractive summary. A summary is never the only copy of anything: it quotes
units that stay, and it is written anew each time it is asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from ..errors import LLMError
from ..guard.grounding import unsupported
from ..model import MemoryUnit
from ..retrieve.pack import said_order
from ..retrieve.query import lexical_terms
from ..tokens import TokenCounter
from .answer import cited_text_schema, numbered_lines
from .base import LLMClient
from .prompt import load_prompt

__all__ = ["PROFILE_PROMPT", "SUMMARY_PROMPT", "SUMMARY_SCHEMA", "write_summary"]

logger = logging.getLogger("eidetica.llm")

SUMMARY_PROMPT = "summary_v1"
PROFILE_PROMPT = "profile_v1"
#: A word of English is about 1.3 tokens: the words the model is asked for, from the budget.
TOKENS_PER_WORD = 1.3
#: The share of a summary's content words that must be in the lines it was shown.
GROUNDED_WORDS = 0.8

SUMMARY_SCHEMA = cited_text_schema("summary")


def write_summary(
    client: LLMClient,
    units: Sequence[MemoryUnit],
    counter: TokenCounter,
    budget_tokens: int,
    prompt: str = SUMMARY_PROMPT,
) -> tuple[str, list[MemoryUnit]] | None:
    """The model's summary of ``units`` (in the order said) and the units it cites; None when it
    fails, cites nothing it was shown, or does not fit ``budget_tokens``. ``prompt`` says what
    kind of summary: a session's (``summary_v1``) or a person's (``profile_v1``)."""
    if not units:
        return None
    template = load_prompt(prompt)

    words = max(int(budget_tokens / TOKENS_PER_WORD), 5)
    try:
        completion = client.complete(
            template.render(context=numbered_lines(units), words=str(words)),
            schema=SUMMARY_SCHEMA,
            max_tokens=budget_tokens * 2,
        )
    except LLMError as exc:
        logger.warning("the model could not write the summary, the rules' stands: %s", exc)
        return None
    text = " ".join(str(completion.parsed["summary"]).split())
    cited = [
        units[n - 1]
        for n in dict.fromkeys(int(n) for n in completion.parsed["citations"])
        if 1 <= n <= len(units)
    ]
    problem = _problem(text, cited, units, counter, budget_tokens)
    if problem is not None:
        logger.warning("the model's summary %s; the rules' summary stands", problem)
        return None
    return text, sorted(cited, key=said_order)


def _problem(
    text: str, cited: Sequence[MemoryUnit], shown: Sequence[MemoryUnit], counter: TokenCounter, budget: int
) -> str | None:
    """Why the model's summary cannot stand, or None when it can."""
    if not text or not cited:
        return "cites nothing it was shown"
    if counter.count(text) > budget:
        return "runs over its budget"
    said = [unit.text for unit in shown] + [unit.speaker for unit in shown if unit.speaker]
    moments = [unit.valid_from or unit.occurred_at for unit in shown]
    invented = unsupported(text, said, moments)
    words = lexical_terms(text)
    known = {word for line in said for word in lexical_terms(line)}
    if invented or sum(word in known for word in words) < GROUNDED_WORDS * len(words):
        return f"says what the session does not ({', '.join(invented) or 'its words'})"
    return None
