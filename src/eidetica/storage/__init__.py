"""Storage backends behind the ``Store`` protocol, and the one place names resolve to them."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from .base import NewUnit, Store, UnitFilter

__all__ = ["NewUnit", "Store", "UnitFilter", "open_store"]


def open_store(location: str | Path) -> Store:
    """Open a store from a path or URL: ``memory.db``, ``sqlite:///memory.db``, ``:memory:``."""
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        raise UsageError("the PostgreSQL backend is not available in this version; use an SQLite path")
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        raise UsageError(f"unknown store URL {text!r}: use a file path or sqlite:///path")
    from .sqlite import SQLiteStore

    return SQLiteStore(Path(text).expanduser() if text != ":memory:" else text)
