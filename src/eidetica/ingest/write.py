"""The units an add writes: turns made units, units derived from them, and the rows to store.

``Memory.add`` runs these in order for each owner and session (``memory.py`` holds the order and
the transaction); ``rebuild`` runs the derivation and the rows again over stored turns.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime

from ..embedders.base import Embedder, Vectors
from ..errors import EmbedderError
from ..ids import new_id
from ..lifecycle.rebuild import origin_key
from ..metadata import callers_keys
from ..model import MemoryUnit, Scope, TurnInput
from ..storage import NewUnit, Store
from .base import Extractor, ReportingExtractor
from .index_texts import embed_text, lexical_text, preceding

log = logging.getLogger("eidetica")


def new_turns(store: Store, scope: Scope, turns: list[TurnInput], skipped: list[str]) -> list[TurnInput]:
    """``turns`` without those whose ref the user's memory holds already (listed in ``skipped``);
    a ref repeated inside the batch is stored once."""
    refs = [t.ref for t in turns if t.ref is not None]
    known = store.existing_refs(scope, refs) if refs else set()
    fresh: list[TurnInput] = []
    for turn in turns:
        if turn.ref is not None and turn.ref in known:
            skipped.append(turn.ref)
            continue
        if turn.ref is not None:
            known.add(turn.ref)
        fresh.append(turn)
    return fresh


def turn_unit(turn: TurnInput, scope: Scope, now: datetime) -> MemoryUnit:
    """A turn as a unit, verbatim: its ref (or, without one, its id) is its source."""
    unit_id = new_id()
    return MemoryUnit(
        id=unit_id,
        kind="turn",
        text=turn.content,
        scope=dataclasses.replace(scope, session_id=turn.session_id or scope.session_id),
        recorded_at=now,
        speaker=turn.speaker,
        role=turn.role,
        occurred_at=turn.timestamp,
        sources=(turn.ref or unit_id,),
        ref=turn.ref,
        metadata=dict(turn.metadata),
    )


def derive(
    extractor: Extractor,
    turns: list[TurnInput],
    units: list[MemoryUnit],
    now: datetime,
    warnings: list[str] | None = None,
) -> list[MemoryUnit]:
    """The facts and events ``extractor`` derives from ``turns`` (stored as ``units``), each
    with its lineage and origin; what the extractor left out is said in ``warnings``."""
    if isinstance(extractor, ReportingExtractor):
        report = extractor.extract_report(turns)
        items = report.units
        if warnings is not None:
            warnings.extend(f"turn {units[w.turn_index].sources[0]}: {w.message}" for w in report.warnings)
    else:
        items = extractor.extract(turns)
    derived: list[MemoryUnit] = []
    for item in items:
        origin = [units[i] for i in item.turn_indexes]
        derived.append(
            MemoryUnit(
                id=new_id(),
                kind=item.kind,
                text=item.text,
                scope=origin[0].scope,
                recorded_at=now,
                speaker=origin[0].speaker,
                role=origin[0].role,  # who asserted it (``guard.trust``)
                occurred_at=item.occurred_at or (origin[0].occurred_at if item.kind == "event" else None),
                valid_from=origin[0].occurred_at,
                entities=item.entities,
                sources=tuple(s for u in origin for s in u.sources),
                derived_from=tuple(u.id for u in origin),
                metadata=callers_keys(origin[0].metadata),  # filters find a tagged turn's facts too
                origin=origin_key(origin[0].id, item.text),
            )
        )
    return derived


def rows_to_store(
    embedder: Embedder,
    units: Sequence[MemoryUnit],
    before: dict[str, str],
    warnings: list[str] | None = None,
    *,
    embed: bool = True,
) -> list[NewUnit]:
    """Units with their vectors (none, without ``embed``) and the texts the lexical index sees.

    ``before`` maps a turn id to the text said just before it in its session. Given ``warnings``,
    a failing embedder (an endpoint that is down) does not stop the write: the units are stored
    without vectors, found by their words, and embedded later (by the next add that embeds, or
    ``embed_missing``); without, the failure is raised.
    """
    vectors: list[Vectors | None] = [None] * len(units)
    if embed:
        try:
            vectors = list(embedder.embed([embed_text(u) for u in units]))
        except EmbedderError as exc:
            if warnings is None:
                raise
            log.warning("embedding failed, units stored without vectors: %s", exc)
            warnings.append(
                f"embedding failed ({type(exc).__name__}, logged), units stored without vectors; "
                "they are found by their words until embedded: the next add does it, or run rebuild"
            )
    return [NewUnit(u, vectors[i], lexical_text(u), preceding(u, before)) for i, u in enumerate(units)]
