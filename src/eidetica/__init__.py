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
    Entity,
    EntityCard,
    HistoryEntry,
    Hit,
    ImportReport,
    Link,
    MaintainReport,
    MemoryUnit,
    Profile,
    ProfileLine,
    Relation,
    Scope,
    Stats,
    Summary,
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
    "Entity",
    "EntityCard",
    "HistoryEntry",
    "Hit",
    "ImportReport",
    "InputFormatError",
    "LLMError",
    "Link",
    "MaintainReport",
    "Memory",
    "MemoryUnit",
    "NotFoundError",
    "Profile",
    "ProfileLine",
    "Relation",
    "Scope",
    "ScopeError",
    "ServerError",
    "Stats",
    "StoreError",
    "Summary",
    "TurnInput",
    "UsageError",
    "__version__",
]
