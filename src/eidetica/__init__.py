"""Eidetica: long-term memory for LLM agents that keeps every turn and runs offline."""

from __future__ import annotations

from .errors import (
    EideticaError,
    EmbedderError,
    InputFormatError,
    NotFoundError,
    ScopeError,
    StoreError,
    UsageError,
)
from .memory import ImportReport, Memory
from .model import AddResult, Context, HistoryEntry, Hit, MemoryUnit, Scope, Stats, TurnInput

__version__ = "0.1.0"

__all__ = [
    "AddResult",
    "Context",
    "EideticaError",
    "EmbedderError",
    "HistoryEntry",
    "Hit",
    "ImportReport",
    "InputFormatError",
    "Memory",
    "MemoryUnit",
    "NotFoundError",
    "Scope",
    "ScopeError",
    "Stats",
    "StoreError",
    "TurnInput",
    "UsageError",
    "__version__",
]
