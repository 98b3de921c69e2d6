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

from .errors import UsageError


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


def api_keys(spec: str | None = None) -> dict[str, str]:
    """Map each API key to its tenant, from ``spec`` or else ``EIDETICA_API_KEYS``.

    The format is ``key=tenant`` pairs separated by commas (``k1=acme,k2=globex``), or ``@path``
    naming a file with one ``key=tenant`` pair per line (``#`` starts a comment). An empty result
    means the server runs without authentication, in the default tenant.
    """
    text = spec if spec is not None else os.environ.get("EIDETICA_API_KEYS", "")
    if text.startswith("@"):
        text = Path(text[1:]).expanduser().read_text(encoding="utf-8")
    keys: dict[str, str] = {}
    for raw in text.replace(",", "\n").splitlines():
        item = raw.split("#", 1)[0].strip()
        if not item:
            continue
        key, sep, tenant = (part.strip() for part in item.partition("="))
        if not sep or not key or not tenant:
            raise UsageError(f"API key entry {item!r} must look like key=tenant")
        keys[key] = tenant
    return keys
