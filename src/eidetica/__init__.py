"""Eidetica: long-term memory for LLM agents that keeps every turn and runs offline."""

from __future__ import annotations

from .client import Client
from .errors import (
    AuthError,
    EideticaError,
    EmbedderError,
    InputFormatError,
    LLMError,
    NotFoundError,
    ScopeError,
    ServerError,
    StoreError,
    UsageError,
)
from .memory import Memory
from .model import (
    AddResult,
    Answer,
    Context,
    HistoryEntry,
    Hit,
    ImportReport,
    MemoryUnit,
    Scope,
    Stats,
    TurnInput,
)

__version__ = "0.1.0"

__all__ = [
    "AddResult",
    "Answer",
    "AuthError",
    "Client",
    "Context",
    "EideticaError",
    "EmbedderError",
    "HistoryEntry",
    "Hit",
    "ImportReport",
    "InputFormatError",
    "LLMError",
    "Memory",
    "MemoryUnit",
    "NotFoundError",
    "Scope",
    "ScopeError",
    "ServerError",
    "Stats",
    "StoreError",
    "TurnInput",
    "UsageError",
    "__version__",
]
