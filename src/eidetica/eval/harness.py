"""Evidence-recall evaluation: ingest through ``Memory``, ask through ``Memory.context``.

Every system (ours and the baselines) answers through the same ``context`` call over the same
store; only the retriever differs, so the figures compare retrieval and nothing else.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..memory import Memory
from ..retrieve.base import Retriever
from .datasets import Question
from .metrics import answer_word_recall, evidence_recall

DEFAULT_BUDGETS = (200, 400, 1000, 2000)
#: Reported on their own: their "evidence" supports a premise the conversation never states.
SEPARATE_CATEGORIES = frozenset({"adversarial"})


@dataclass
class _Tally:
    recall: list[float] = field(default_factory=list)
    complete: list[float] = field(default_factory=list)
    answer_words: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    abstained: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        def mean(values: Sequence[float]) -> float:
            return round(statistics.fmean(values), 4) if values else 0.0

        return {
            "questions": len(self.recall),
            "evidence_recall": mean(self.recall),
            "all_evidence": mean(self.complete),
            "answer_word_recall": mean(self.answer_words),
            "mean_tokens": mean(self.tokens),
            "mean_latency_ms": mean(self.latency_ms),
            "abstained": mean(self.abstained),
        }


def evaluate(
    memory: Memory,
    questions: Sequence[Question],
    systems: Sequence[Retriever],
    budgets: Sequence[int] = DEFAULT_BUDGETS,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Ask every question of every system at every budget; return nested summaries.

    Result: ``{system: {budget: {"overall": {...}, "by_category": {cat: {...}}}}}`` where
    "overall" excludes the separately reported categories.
    """
    total = len(questions) * len(systems) * len(budgets)
    done = 0
    results: dict[str, Any] = {}
    original = memory.retriever
    try:
        for system in systems:
            memory.retriever = system
            per_budget: dict[str, Any] = {}
            for budget in budgets:
                overall = _Tally()
                by_category: dict[str, _Tally] = {}
                for q in questions:
                    start = time.perf_counter()
                    ctx = memory.context(q.question, user_id=q.user_id, budget_tokens=budget)
                    elapsed = (time.perf_counter() - start) * 1000
                    tallies = [by_category.setdefault(q.category, _Tally())]
                    if q.category not in SEPARATE_CATEGORIES:
                        tallies.append(overall)
                    recall = evidence_recall(ctx, q.evidence)
                    words = answer_word_recall(ctx, q.answer)
                    for tally in tallies:
                        tally.recall.append(recall)
                        tally.complete.append(float(recall == 1.0))
                        if words is not None:
                            tally.answer_words.append(words)
                        tally.tokens.append(ctx.tokens)
                        tally.latency_ms.append(elapsed)
                        tally.abstained.append(float(ctx.abstained))
                    done += 1
                    if progress is not None:
                        progress(done, total)
                per_budget[str(budget)] = {
                    "overall": overall.summary(),
                    "by_category": {c: t.summary() for c, t in sorted(by_category.items())},
                }
            results[system.name] = per_budget
    finally:
        memory.retriever = original
    return results
