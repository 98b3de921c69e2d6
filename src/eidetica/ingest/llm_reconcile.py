"""LLM reconciliation: one model call per batch decides what new units do to the stored ones.

The model-backed ``Reconciler`` (see ``reconcile``), after Mem0's update step but with one call per
batch of new units instead of one per fact. The prompt numbers the stored units the batch may touch
and the new statements, each with its kind and date; for each statement the model answers ADD (new
information), UPDATE (it replaces stored memory N: a changed value), DELETE (it says N no longer
holds) or NONE (it says the same as N). Numbers are mapped back to unit ids here: the model never
sees or writes an id. Passages are verbatim text, not statements: they are left to the rules.

What the model does not decide clearly is left to the rules, never guessed. A decision naming a
statement or a memory outside the lists, a second decision for one statement, or UPDATE, DELETE
or NONE without a memory is dropped and counted in ``stats``. A reply that does not fit the schema
(after the client's one repair) is logged on ``eidetica.llm`` and the batch is asked once more; if
that fails too, only the decisions in its last reply that fit on their own are kept (none, for a
reply that is not JSON), so the rules decide the rest. Failures of the endpoint itself are raised
as ``LLMError``; ``reconcile.plan`` catches them and lets the rules decide the whole batch.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ..errors import UsageError
from ..llms.base import JsonSchema
from ..llms.structured import BatchedTask, BatchStats, strict_object
from ..llms.validate import schema_error
from ..model import MemoryUnit
from ..retrieve.query import lexical_terms
from .reconcile import Decision

__all__ = ["DECISION_SCHEMA", "LLMReconciler", "ReconcileStats", "render_units"]

logger = logging.getLogger("eidetica.llm")

RECONCILE_PROMPT = "reconcile_v1"
MAX_TEXT_CHARS = 500  # a long unit is cut in the prompt; what is stored stays whole
_READ_KINDS = ("fact", "event")
_ACTIONS: dict[str, Literal["add", "update", "delete", "none"]] = {
    "ADD": "add",
    "UPDATE": "update",
    "DELETE": "delete",
    "NONE": "none",
}

_DECISION: JsonSchema = strict_object(
    {
        "statement": {"type": "integer", "minimum": 1},
        "action": {"type": "string", "enum": list(_ACTIONS)},
        "memory": {"type": ["integer", "null"], "minimum": 1},
    }
)
DECISION_SCHEMA: JsonSchema = strict_object(
    {"decisions": {"type": "array", "items": _DECISION}}, title="reconcile_decisions"
)


def _batch_schema(statements: int, memories: int) -> JsonSchema:
    """``DECISION_SCHEMA`` with numbers bounded to the lists shown: a server that constrains its
    output to the schema cannot name a unit that is not there, and a reply that does so elsewhere
    is repaired (or, on a failed retry, has that decision dropped and counted)."""
    props = _DECISION["properties"]
    bounded = {
        "statement": {**props["statement"], "maximum": statements},
        "action": props["action"],
        "memory": {**props["memory"], "maximum": memories},
    }
    item = strict_object(bounded)
    return strict_object({"decisions": {"type": "array", "items": item}}, title=DECISION_SCHEMA["title"])


@dataclass
class ReconcileStats(BatchStats):
    """What an ``LLMReconciler`` did so far, besides the ``BatchStats``.

    ``batches`` are the batches that had stored units to compare with (a batch with none makes no
    call). ``decisions`` were returned; ``dropped`` ones named no statement or memory of their
    batch, repeated a statement, or did not fit the schema on their own.
    """

    decisions: int = 0
    dropped: int = 0


@dataclass(eq=False, kw_only=True)
class LLMReconciler(BatchedTask[ReconcileStats]):
    """Decide with a chat model what new units do to the stored ones: one call per ``batch_size``
    new units, showing at most ``max_candidates`` stored units (those sharing most words with the
    batch, when there are more). A batch whose reply does not validate is asked once more (see
    ``BatchedTask``)."""

    prompt: str = RECONCILE_PROMPT
    stats: ReconcileStats = field(default_factory=ReconcileStats, init=False)
    max_candidates: int = 40

    def __post_init__(self) -> None:
        if self.max_candidates < 1:
            raise UsageError(f"max_candidates must be at least 1, got {self.max_candidates}")
        super().__post_init__()

    def decide(self, candidates: Sequence[MemoryUnit], new: Sequence[MemoryUnit]) -> Mapping[str, Decision]:
        """Map ids of ``new`` units to what they do to ``candidates``; silent on the rest."""
        stored = [u for u in candidates if u.kind in _READ_KINDS]
        statements = [u for u in new if u.kind in _READ_KINDS]
        decisions: dict[str, Decision] = {}
        if not stored:
            return decisions  # nothing to compare with: every unit is new, as the rules say
        for start in range(0, len(statements), self.batch_size):
            batch = statements[start : start + self.batch_size]
            decisions.update(self._batch(nearest(stored, batch, self.max_candidates), batch))
        return decisions

    def _batch(self, memories: Sequence[MemoryUnit], batch: Sequence[MemoryUnit]) -> dict[str, Decision]:
        completion, failures = self.ask(
            self.template.render(memories=render_units(memories), statements=render_units(batch)),
            _batch_schema(len(batch), len(memories)),
            f"reconciliation of {len(batch)} new units",
        )
        if completion is not None:
            return self._decisions(completion.parsed["decisions"], memories, batch)
        kept = self._decisions(self._salvage(failures[-1].parsed), memories, batch)
        logger.warning(
            "reconciliation of %d new units failed twice; kept %d decisions that fit on their own, "
            "the rules decide the rest",
            len(batch),
            len(kept),
        )
        return kept

    def _salvage(self, parsed: Any) -> list[Mapping[str, Any]]:
        """The decision objects of a failed reply that fit the schema on their own (numbers are
        checked against the lists later); none when the reply is not ``{"decisions": [...]}``."""
        items = parsed.get("decisions") if isinstance(parsed, dict) else None
        if not isinstance(items, list):
            return []
        valid = [item for item in items if schema_error(item, _DECISION) is None]
        self.stats.add(dropped=len(items) - len(valid))
        return valid

    def _decisions(
        self, items: Sequence[Mapping[str, Any]], memories: Sequence[MemoryUnit], batch: Sequence[MemoryUnit]
    ) -> dict[str, Decision]:
        decisions: dict[str, Decision] = {}
        for item in items:
            n, memory = int(item["statement"]), item["memory"]  # the schema allows 2.0 for 2
            action = _ACTIONS[item["action"]]
            if not 1 <= n <= len(batch) or batch[n - 1].id in decisions:
                self.stats.add(dropped=1)
                logger.info("dropped a reconciliation decision for statement %d of 1-%d", n, len(batch))
                continue
            if action == "add":
                decisions[batch[n - 1].id] = Decision("add")
                continue
            if memory is None or not 1 <= int(memory) <= len(memories):
                self.stats.add(dropped=1)
                logger.info(
                    "dropped %s of statement %d: it names memory %s, not one of 1-%d",
                    item["action"],
                    n,
                    memory,
                    len(memories),
                )
                continue
            decisions[batch[n - 1].id] = Decision(action, memories[int(memory) - 1].id)
        self.stats.add(decisions=len(decisions))
        return decisions


def nearest(stored: Sequence[MemoryUnit], batch: Sequence[MemoryUnit], limit: int) -> list[MemoryUnit]:
    """``stored`` when it holds at most ``limit`` units, else the ``limit`` sharing most words with
    the batch: each new unit's best in turn, then each one's second best, and so on, so that one
    wordy statement cannot crowd out the others. Stored order is kept (oldest first)."""
    if len(stored) <= limit:
        return list(stored)
    words = [set(lexical_terms(u.text)) for u in stored]
    ranked: list[list[int]] = []
    for unit in batch:
        terms = set(lexical_terms(unit.text))
        shared = [(len(terms & w), i) for i, w in enumerate(words)]
        ranked.append([i for n, i in sorted(shared, reverse=True) if n > 0])  # ties: the newer first
    chosen: dict[int, None] = {}
    for picks in itertools.zip_longest(*ranked):
        for i in picks:
            if i is not None and len(chosen) < limit:
                chosen[i] = None
    return [stored[i] for i in sorted(chosen)]


def render_units(units: Sequence[MemoryUnit]) -> str:
    """Units as the prompt numbers them: ``[1] fact, since 2024-01-05: Alice's manager is Carol.``;
    an event shows the day it happened (``event, on 2024-03-04``)."""
    lines = []
    for n, unit in enumerate(units, 1):
        if unit.kind == "event":
            dated = f"on {(unit.occurred_at or unit.holds_from).date().isoformat()}"
        else:
            dated = f"since {unit.holds_from.date().isoformat()}"
        text = " ".join(unit.text.split())
        if len(text) > MAX_TEXT_CHARS:
            text = text[:MAX_TEXT_CHARS] + " [...]"
        lines.append(f"[{n}] {unit.kind}, {dated}: {text}")
    return "\n".join(lines)
