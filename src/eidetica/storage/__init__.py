"""Storage backends behind the ``Store`` protocol, and the one place names resolve to them."""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from .base import NewUnit, NewVersion, Recall, Replacement, Revision, RevisionOp, Store, UnitFilter

__all__ = [
    "NewUnit",
    "NewVersion",
    "Recall",
    "Replacement",
    "Revision",
    "RevisionOp",
    "Store",
    "UnitFilter",
    "open_store",
]


def open_store(location: str | Path) -> Store:
    """Open a store from a path or URL.

    ``memory.db``, ``sqlite:///memory.db`` or ``:memory:`` open SQLite;
    ``postgresql://user:password@host:5432/db`` (or ``postgres://``) opens PostgreSQL.
    """
    text = str(location)
    if text.startswith(("postgresql://", "postgres://")):
        try:
            from .postgres import PostgresStore
        except ImportError as exc:
            raise UsageError(
                f"the PostgreSQL backend needs psycopg ({exc}); install it with "
                "pip install 'eidetica[postgres]'"
            ) from exc
        return PostgresStore(text)
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///") :]
    elif "://" in text:
        raise UsageError(f"unknown store URL {text!r}: use a file path, sqlite:///path or postgresql://...")
    from .sqlite import SQLiteStore

    return SQLiteStore(Path(text).expanduser() if text != ":memory:" else text)
