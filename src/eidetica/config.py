"""Settings for the command line and servers, read at the edges only.

Lookup order for the database location, first match wins:

1. the ``--db`` option of a command;
2. the ``EIDETICA_DB`` environment variable (a path, ``sqlite:///path`` or ``:memory:``);
3. ``memory.db`` in the per-user data folder (``platformdirs.user_data_dir("eidetica")``).

Library objects never read the environment: ``Memory(...)`` takes explicit arguments.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs


def default_db_path() -> Path:
    """The per-user database file used when nothing else is configured (its folder is created)."""
    folder = Path(platformdirs.user_data_dir("eidetica", appauthor=False))
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "memory.db"


def resolve_db(option: str | None) -> str:
    """Return the database location following the lookup order above."""
    if option:
        return option
    from_env = os.environ.get("EIDETICA_DB")
    if from_env:
        return from_env
    return str(default_db_path())
