"""Settings for the command line and servers, read at the edges only.

Lookup order for the database location, first match wins:

1. the ``--db`` option of a command;
2. the ``EIDETICA_DB`` environment variable (a path, ``sqlite:///path`` or ``:memory:``);
3. ``memory.db`` in the per-user data folder (``platformdirs.user_data_dir("eidetica")``).

A server (``eidetica serve``) also reads, each only when its option is absent:

- ``EIDETICA_API_KEYS``: ``key=tenant`` pairs, or ``@path`` to a file of them (``api_keys``);
- ``EIDETICA_MAX_BODY_MB``: the largest request body accepted, in MiB (default 8).

A chat model for extraction and answers is configured by ``llm_settings``, each value from its
option first, else from ``EIDETICA_LLM_BASE_URL``, ``EIDETICA_LLM_MODEL`` and ``EIDETICA_LLM_API_KEY``;
with neither a URL nor a model there is no LLM, and rules do the extraction.

The embedding model is ``EIDETICA_EMBEDDER`` (``wordllama``, the default, or ``minilm``) for every
command and server (``embedder_name``). A database keeps the embedder it was filled with, so set
it the same way each time a database is opened. ``EIDETICA_DEFER_EMBEDDING=1`` makes a server
embed in the background (``defer_embedding``): worth it for a slow embedder such as MiniLM.

Library objects never read the environment: ``Memory(...)`` takes explicit arguments.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from .errors import UsageError

if TYPE_CHECKING:
    from .llms.base import LLMSettings

MIB = 1024 * 1024
DEFAULT_MAX_BODY_MB = 8.0


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


def embedder_name() -> str:
    """The embedder to load: ``EIDETICA_EMBEDDER``, else ``wordllama``."""
    return os.environ.get("EIDETICA_EMBEDDER", "").strip() or "wordllama"


def defer_embedding() -> bool:
    """Whether servers embed in the background: ``EIDETICA_DEFER_EMBEDDING`` is 1, true or yes."""
    return os.environ.get("EIDETICA_DEFER_EMBEDDING", "").strip().lower() in ("1", "true", "yes")


def api_keys(spec: str | None = None) -> dict[str, str]:
    """Map each API key to its tenant, from ``spec`` or else ``EIDETICA_API_KEYS``.

    The format is ``key=tenant`` pairs separated by commas (``k1=acme,k2=globex``), or ``@path``
    naming a file with one ``key=tenant`` pair per line (``#`` starts a comment). An empty result
    means the server runs without authentication, in the default tenant.
    """
    text = spec if spec is not None else os.environ.get("EIDETICA_API_KEYS", "")
    if text.startswith("@"):
        try:
            text = Path(text[1:]).expanduser().read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read the API key file {text[1:]}: {exc}") from exc
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


@dataclass(frozen=True)
class ServerSettings:
    """What a server process needs: where the store is, who may call, how large a body may be."""

    db: str
    api_keys: dict[str, str]
    max_body_bytes: int
    #: The chat model ``answer`` uses, from ``EIDETICA_LLM_*``; None when none is configured.
    llm: LLMSettings | None = None


def server_settings(
    db: str | None = None, api_keys_spec: str | None = None, max_body_mb: float | None = None
) -> ServerSettings:
    """Resolve a server's settings from its options, falling back to the environment (see above)."""
    if max_body_mb is None:
        raw = os.environ.get("EIDETICA_MAX_BODY_MB", "")
        try:
            max_body_mb = float(raw) if raw.strip() else DEFAULT_MAX_BODY_MB
        except ValueError:
            raise UsageError(f"EIDETICA_MAX_BODY_MB must be a number of MiB, like 8; got {raw!r}") from None
    if not math.isfinite(max_body_mb) or max_body_mb <= 0:
        raise UsageError(f"the body size limit must be a positive number of MiB, got {max_body_mb}")
    return ServerSettings(
        resolve_db(db), api_keys(api_keys_spec), max(1, int(max_body_mb * MIB)), llm=llm_settings()
    )


def export_server_settings(settings: ServerSettings) -> None:
    """Write ``settings`` to the environment, so server worker processes started later read the same."""
    os.environ["EIDETICA_DB"] = settings.db
    os.environ["EIDETICA_API_KEYS"] = ",".join(f"{key}={tenant}" for key, tenant in settings.api_keys.items())
    os.environ["EIDETICA_MAX_BODY_MB"] = repr(settings.max_body_bytes / MIB)


OPENAI_BASE_URL = "https://api.openai.com/v1"


def llm_settings(
    base_url: str | None = None, model: str | None = None, api_key: str | None = None
) -> LLMSettings | None:
    """Resolve the chat model to use from the options, falling back to ``EIDETICA_LLM_*`` variables.

    Returns ``None`` when neither a base URL nor a model is set: no LLM is configured. A model
    without a URL means OpenAI's API; a URL without a model is an error, since servers need one.
    """
    from .llms.base import LLMSettings

    base_url = base_url or os.environ.get("EIDETICA_LLM_BASE_URL", "").strip() or None
    model = model or os.environ.get("EIDETICA_LLM_MODEL", "").strip() or None
    api_key = api_key or os.environ.get("EIDETICA_LLM_API_KEY", "").strip() or None
    if base_url is None and model is None:
        return None
    if model is None:
        raise UsageError(f"an LLM base URL ({base_url}) is set but no model: set EIDETICA_LLM_MODEL")
    return LLMSettings(base_url=base_url or OPENAI_BASE_URL, model=model, api_key=api_key)
