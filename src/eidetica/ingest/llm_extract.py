"""LLM extraction: one model call per batch of turns makes them self-contained facts and events.

The alternative to ``RuleExtractor`` when a chat model is configured. The model sees each turn
numbered, with its date, weekday and speaker, and returns units with pronouns resolved to names,
relative dates made absolute, entities named in full, and the numbers of the turns each came from.

Nothing is dropped silently. A reply that does not fit the schema (after the client's one repair)
is logged on ``eidetica.llm`` and the batch is asked once more; if that fails too, the unit objects
in its replies that validate on their own are kept and the rest are counted in ``stats``. A unit
naming a turn outside the batch is dropped and counted, never attached to a wrong turn. The caller
stores the verbatim turns whatever happens here, so a failed extraction loses search targets, not
memories. Failures of the endpoint itself (unreachable, refused) are raised as ``LLMError``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from ..guard.grounding import unsupported
from ..llms.base import JsonSchema
from ..llms.structured import BatchedTask, BatchStats, strict_object
from ..llms.validate import schema_error
from ..model import Extracted, TurnInput, UnitKind
from .entity_names import entity_key

__all__ = ["EXTRACT_SCHEMA", "UNIT_SCHEMA", "ExtractStats", "LLMExtractor", "render_turns"]

logger = logging.getLogger("eidetica.llm")

EXTRACT_PROMPT = "extract_v1"
MAX_TURN_CHARS = 4000  # a pasted document is cut in the prompt; the stored turn stays whole
_DECODER = json.JSONDecoder()

UNIT_SCHEMA: JsonSchema = strict_object(
    {
        "turns": {"type": "array", "items": {"type": "integer"}},
        "kind": {"type": "string", "enum": ["fact", "event"]},
        "text": {"type": "string"},
        "entities": {"type": "array", "items": {"type": "string"}},
        "date": {"type": ["string", "null"], "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    }
)
EXTRACT_SCHEMA: JsonSchema = strict_object(
    {"units": {"type": "array", "items": UNIT_SCHEMA}}, title="memory_units"
)


def _batch_schema(size: int) -> JsonSchema:
    """``EXTRACT_SCHEMA`` with turn numbers bounded to the batch: a server that constrains its
    output to the schema cannot name a turn that is not there, and a reply that does so elsewhere
    is repaired (or, salvaged, dropped and counted) instead of mis-attributed."""
    turns = {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": size}}
    unit = strict_object({**UNIT_SCHEMA["properties"], "turns": turns})
    return strict_object({"units": {"type": "array", "items": unit}}, title=EXTRACT_SCHEMA["title"])


@dataclass
class ExtractStats(BatchStats):
    """What an ``LLMExtractor`` did so far, besides the ``BatchStats``.

    Of the unit objects in the replies of a batch in ``failed_batches`` (no fully valid reply, even
    on its retry), ``salvaged_units`` validated on their own and were kept, ``invalid_units`` did
    not (units with empty text, or text copied from the prompt, count here too). ``out_of_range``
    units named no turn, or a turn outside their batch, and were dropped. ``ungrounded`` units
    stated a name or number their turns do not (``guard.grounding``) and were dropped. ``units``
    are the units returned, after merging duplicates.
    """

    units: int = 0
    salvaged_units: int = 0
    invalid_units: int = 0
    out_of_range: int = 0
    ungrounded: int = 0


@dataclass(eq=False, kw_only=True)
class LLMExtractor(BatchedTask[ExtractStats]):
    """Derive facts and events with a chat model: one call per ``batch_size`` turns (a batch whose
    reply does not validate is asked once more, see ``BatchedTask``)."""

    max_tokens: int = 2048  # the reply lists the units of a whole batch of turns
    prompt: str = EXTRACT_PROMPT
    stats: ExtractStats = field(default_factory=ExtractStats, init=False)
    _instructions: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        super().__post_init__()
        self._instructions = " ".join(self.template.system.split()).lower()

    def extract(self, turns: Sequence[TurnInput]) -> list[Extracted]:
        """Return the units derived from ``turns``, each pointing at the turns it came from."""
        merged: dict[str, _Unit] = {}
        for start in range(0, len(turns), self.batch_size):
            for unit in self._batch(turns[start : start + self.batch_size], start):
                seen = merged.setdefault(unit.text.lower(), unit)
                if seen is not unit:
                    seen.turn_indexes.update(unit.turn_indexes)
        units = [u.freeze() for u in merged.values()]
        self.stats.add(units=len(units))
        return units

    def _batch(self, batch: Sequence[TurnInput], offset: int) -> list[_Unit]:
        completion, failures = self.ask(
            self.template.render(turns=render_turns(batch)),
            _batch_schema(len(batch)),
            f"extraction for {_span(offset, batch)}",
        )
        if completion is not None:
            return self._units(completion.parsed["units"], batch, offset)
        kept = self._salvage([reply for exc in failures for reply in exc.replies], batch, offset)
        logger.warning(
            "extraction for %s failed twice; kept %d units that validated on their own "
            "(the turns themselves are stored verbatim)",
            _span(offset, batch),
            len(kept),
        )
        return kept

    def _salvage(self, replies: Sequence[str], batch: Sequence[TurnInput], offset: int) -> list[_Unit]:
        """Keep each unit object in the failed replies that validates on its own.

        Replies that fail as a whole are often nearly right: cut off by ``max_tokens``, one bad
        unit, a stray bracket. Every object with a ``text`` field is a candidate; missing
        ``entities`` and ``date`` count as empty, anything else wrong drops the unit (counted).
        """
        seen: set[str] = set()
        valid: list[Mapping[str, Any]] = []
        for reply in replies:
            for candidate in _unit_objects(reply):
                key = json.dumps(candidate, sort_keys=True)
                if key in seen:  # a deterministic model repeats itself on the retry
                    continue
                seen.add(key)
                item = {"entities": [], "date": None, **candidate}
                problem = schema_error(item, UNIT_SCHEMA)
                if problem is None:
                    valid.append(item)
                else:
                    self.stats.add(invalid_units=1)
                    logger.warning("dropped an extracted unit of %s: %s", _span(offset, batch), problem)
        units = self._units(valid, batch, offset)
        self.stats.add(salvaged_units=len(units))
        return units

    def _units(
        self, items: Sequence[Mapping[str, Any]], batch: Sequence[TurnInput], offset: int
    ) -> list[_Unit]:
        units: list[_Unit] = []
        for item in items:
            text = " ".join(str(item["text"]).split())
            numbers = {int(n) for n in item["turns"]}  # the schema allows 2.0 for 2
            if not text or text.lower() in self._instructions:
                # Small models copy the prompt's example; that is no memory of these turns.
                self.stats.add(invalid_units=1)
                why = "empty text" if not text else f"text copied from the prompt: {text!r}"
                logger.warning("dropped an extracted unit of %s with %s", _span(offset, batch), why)
                continue
            if not numbers or any(not 1 <= n <= len(batch) for n in numbers):
                self.stats.add(out_of_range=1)
                logger.warning(
                    "dropped unit %r: it names turns %s, outside 1-%d of its batch",
                    text,
                    sorted(numbers),
                    len(batch),
                )
                continue
            sources = [batch[n - 1] for n in sorted(numbers)]
            invented = unsupported(
                text,
                [t.content or "" for t in sources] + [t.speaker or "" for t in batch],
                [t.timestamp for t in sources],
            )
            if invented:
                self.stats.add(ungrounded=1)
                logger.warning(
                    "dropped unit %r of %s: its turns never say %s",
                    text,
                    _span(offset, batch),
                    ", ".join(invented),
                )
                continue
            anchor = batch[min(numbers) - 1].timestamp
            units.append(
                _Unit(
                    kind="event" if item["kind"] == "event" else "fact",
                    text=text,
                    turn_indexes={offset + n - 1 for n in numbers},
                    entities=_entities(item["entities"]),
                    occurred_at=_noon(item["date"], anchor),
                )
            )
        return units


@dataclass
class _Unit:
    kind: UnitKind
    text: str
    turn_indexes: set[int]
    entities: tuple[str, ...]
    occurred_at: datetime | None

    def freeze(self) -> Extracted:
        return Extracted(
            self.kind, self.text, tuple(sorted(self.turn_indexes)), self.entities, self.occurred_at
        )


def render_turns(turns: Sequence[TurnInput]) -> str:
    """The batch as the prompt shows it: ``[1] 2023-05-08 (Monday) 13:56 Caroline: ...``."""
    lines = []
    for n, turn in enumerate(turns, 1):
        when = "date unknown"
        if turn.timestamp is not None:
            ts = turn.timestamp
            when = f"{ts.date().isoformat()} ({ts.strftime('%A')}) {ts.strftime('%H:%M')}"
        who = (turn.speaker or turn.role or "someone").strip() or "someone"
        content = " ".join((turn.content or "").split())
        if len(content) > MAX_TURN_CHARS:
            content = content[:MAX_TURN_CHARS] + " [...]"
        lines.append(f"[{n}] {when} {who}: {content}")
    return "\n".join(lines)


def _unit_objects(text: str) -> Iterator[dict[str, Any]]:
    """Every JSON object in ``text`` that has a ``text`` field, even amid broken JSON."""
    position = text.find("{")
    while position != -1:
        try:
            value, end = _DECODER.raw_decode(text, position)
        except ValueError:
            value, end = None, position + 1
        if isinstance(value, dict) and "text" in value:
            yield value
        else:
            end = position + 1  # a wrapper object, or broken: look inside it
        position = text.find("{", end)


def _span(offset: int, batch: Sequence[TurnInput]) -> str:
    return f"turns {offset}-{offset + len(batch) - 1}"


def _entities(names: Sequence[str]) -> tuple[str, ...]:
    """The model's names as entity keys, the form the rule extractor writes, each once."""
    keys = (entity_key(name.strip(" .,;:")) for name in names)
    return tuple(dict.fromkeys(key for key in keys if key))


def _noon(day: str | None, anchor: datetime | None) -> datetime | None:
    """The day at noon in the source turn's time zone, as the rule extractor dates events."""
    if day is None:
        return None
    try:
        d = date.fromisoformat(day)
    except ValueError:
        logger.info("ignored the impossible date %r of an extracted unit", day)
        return None
    tz: tzinfo = anchor.tzinfo if anchor is not None and anchor.tzinfo is not None else UTC
    return datetime(d.year, d.month, d.day, 12, tzinfo=tz)
