"""The extractor seam: anything that turns conversation turns into derived memory units."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from eidetica.ingest.extract import ExtractionReport
from eidetica.model import Extracted, TurnInput

__all__ = ["Extractor", "ReportingExtractor"]


@runtime_checkable
class Extractor(Protocol):
    """Derive short, self-contained facts and events from a batch of turns.

    Turns arrive in conversation order; each result's ``turn_indexes`` point into that batch, so the
    caller can link derived units to the verbatim turns they came from. Rule-based and LLM-backed
    extractors both fit this one method.
    """

    def extract(self, turns: Sequence[TurnInput]) -> list[Extracted]:
        """Return the units derived from ``turns``; an empty list when there is nothing to keep."""
        ...


@runtime_checkable
class ReportingExtractor(Extractor, Protocol):
    """An extractor that also says, turn by turn, what its caps left out (``RuleExtractor``)."""

    def extract_report(self, turns: Sequence[TurnInput]) -> ExtractionReport:
        """Return the units, as ``extract`` would, and the warnings about each turn."""
        ...
