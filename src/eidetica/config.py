"""Settings for the command line and servers, read at the edges only.

Lookup order for the database location, first match wins:

1. the ``--db`` option of a command;
2. the ``EIDETICA_DB`` environment variable (a path, ``sqlite:///path`` or ``:memory:``);
3. ``memory.db`` in the per-user data folder (``platformdirs.user_data_dir("eidetica")``).

A server (``eidetica serve``) also reads, each only when its option is absent:

- ``EIDETICA_API_KEYS``: ``key=tenant`` pairs, comma-separated, or ``@path`` to a file of them
  (one per line, ``#`` comments), as ``api_keys`` reads them; prefer ``@path``, which keeps the
  keys out of ``ps`` and shell history;
- ``EIDETICA_ALLOWED_HOSTS``: comma-separated Host names a server without keys answers besides
  the loopback ones (``allowed_hosts``);
- ``EIDETICA_MAX_BODY_MB``: the largest request body accepted, in MiB (default 8).

A chat model for extraction and answers is configured by ``llm_settings``, each value from its
option first, else from ``EIDETICA_LLM_BASE_URL``, ``EIDETICA_LLM_MODEL`` and ``EIDETICA_LLM_API_KEY``;
with neither a URL nor a model there is no LLM, and rules do the extraction.

What a memory does with personal data and secrets is ``EIDETICA_PERSONAL_DATA`` (``keep``, the
default, ``mask``, ``redact`` or ``refuse``, or per tenant: ``acme=redact,*=mask``), for every
command and server (``personal_data``; see ``guard.policy``).

The embedding model is ``EIDETICA_EMBEDDER`` (``wordllama``, the default, or ``minilm``) for every
command and server (``embedder_name``). A database keeps the embedder it was filled with, so set
it the same way each time a database is opened (``eidetica reembed`` moves it to another).
``EIDETICA_DEFER_EMBEDDING=1`` makes a server embed in the background (``defer_embedding``): worth
it for a slow embedder such as MiniLM.

How fast unused memories fade when ``eidetica maintain`` (or ``POST /v1/maintain``) runs is
``EIDETICA_DECAY``: ``stability_days=90,threshold=0.05,fact_weight=4,min_age_days=30`` or any of
those pairs, the rest keeping their defaults (``decay``; see ``lifecycle.decay``).

Whatever prints or logs a database URL, or an error that may quote one, passes it through
``redact`` first, which hides its password.

Library objects never read the environment: ``Memory(...)`` takes explicit arguments.
"""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from .errors import EideticaError, UsageError

if TYPE_CHECKING:
    from .guard.policy import PersonalData
    from .lifecycle.decay import Decay
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


def decay() -> Decay:
    """How fast memory fades, from ``EIDETICA_DECAY`` (``name=value`` pairs of ``Decay``'s fields,
    comma-separated); the defaults where it is unset."""
    from .lifecycle.decay import Decay

    text = os.environ.get("EIDETICA_DECAY", "").strip()
    known = {f.name for f in dataclasses.fields(Decay)}
    settings: dict[str, float] = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        name, _, value = pair.partition("=")
        if name.strip() not in known:
            raise UsageError(
                f"EIDETICA_DECAY: unknown setting {name.strip()!r}; use {', '.join(sorted(known))}"
            )
        try:
            settings[name.strip()] = float(value)
        except ValueError:
            raise UsageError(
                f"EIDETICA_DECAY: {name.strip()} must be a number, like 90; got {value!r}"
            ) from None
    try:
        return Decay(**settings)
    except UsageError as exc:
        raise UsageError(f"EIDETICA_DECAY: {exc}") from None


def personal_data(spec: str | None = None) -> dict[str, PersonalData]:
    """Each tenant's personal data policy, from ``spec`` or else ``EIDETICA_PERSONAL_DATA``: one
    policy (``mask``) or ``tenant=policy`` pairs with ``*`` for the rest (``guard.policy``)."""
    from .guard.policy import tenant_policies

    text = spec if spec is not None else os.environ.get("EIDETICA_PERSONAL_DATA", "")
    try:
        return tenant_policies(text)
    except UsageError as exc:
        where = "--personal-data" if spec is not None else "EIDETICA_PERSONAL_DATA"
        raise UsageError(f"{where}: {exc}") from None


def api_keys(spec: str | None = None) -> dict[str, str]:
    """Map each API key to its tenant, from ``spec`` or else ``EIDETICA_API_KEYS``.

    The format is ``key=tenant`` pairs separated by commas (``k1=acme,k2=globex``), or ``@path``
    naming a file with one ``key=tenant`` pair per line (``#`` starts a comment; commas separate
    pairs there too). A key listed twice is refused, even for the same tenant: one of the two is a
    mistake, and silently keeping the last would hand a tenant's key to another. An empty result
    means the server runs without authentication, in the default tenant. Messages never repeat a
    key.
    """
    text = spec if spec is not None else os.environ.get("EIDETICA_API_KEYS", "")
    where = "--api-keys" if spec is not None else "EIDETICA_API_KEYS"
    if text.startswith("@"):
        where, text = f"API key file {text[1:]}", _read_key_file(text[1:])
    keys: dict[str, str] = {}
    for number, raw in enumerate(text.replace(",", "\n").splitlines(), start=1):
        item = raw.split("#", 1)[0].strip()
        if not item:
            continue
        key, sep, tenant = (part.strip() for part in item.partition("="))
        if not sep or not key or not tenant:
            raise UsageError(f"{where}, entry {number}: must look like key=tenant")
        if key in keys:
            raise UsageError(
                f"{where}, entry {number}: this API key is already listed (for tenant {keys[key]!r}); "
                "each key maps to one tenant, so remove one of the two entries"
            )
        keys[key] = tenant
    return keys


def _read_key_file(path: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read the API key file {path}: {exc}") from exc


#: What an allowed Host name may hold: a DNS name or IPv4 address, or a bracketed IPv6 one, and
#: an optional port.
_HOST_NAME = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(:[0-9]{1,5})?")


def allowed_hosts(names: Sequence[str] | None = None) -> tuple[str, ...]:
    """Host names a server without API keys answers besides the loopback ones: ``names`` (from
    ``--allowed-host``), else the comma-separated ``EIDETICA_ALLOWED_HOSTS``.

    Each is a name (any port: ``memory.lan``) or a name and port (``memory.lan:8000``), kept in
    lower case.
    """
    if not names:
        names = os.environ.get("EIDETICA_ALLOWED_HOSTS", "").split(",")
    kept: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if not _HOST_NAME.fullmatch(name):
            raise UsageError(
                f"allowed host {raw.strip()!r} is not a host name like memory.lan or memory.lan:8000 "
                "(no scheme, no path)"
            )
        kept.append(name)
    return tuple(dict.fromkeys(kept))


#: The password of ``scheme://user:password@host`` (up to the last ``@`` before the path), and
#: ``password=...`` in a query string or a libpq connection string.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^:@/\s]*):[^/\s]*@")
_PARAM_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)[^&\s]+", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the password of every URL or connection string in it replaced by ``***``.

    The one helper for anything that prints or logs a database URL or an error that may quote
    one: ``postgresql://ana:s3cret@db/mem`` becomes ``postgresql://ana:***@db/mem``.
    """
    text = _URL_PASSWORD.sub(r"\g<head>:***@", text)
    return _PARAM_PASSWORD.sub(r"\g<head>***", text)


@contextmanager
def redacted_errors() -> Iterator[None]:
    """Re-raise an Eidetica error with the passwords in its message redacted (see ``redact``)."""
    try:
        yield
    except EideticaError as exc:
        message = str(exc)
        cleaned = redact(message)
        if cleaned != message:
            exc.args = (cleaned,)
        raise


@dataclass(frozen=True)
class ServerSettings:
    """What a server process needs: where the store is, who may call, how large a body may be."""

    db: str
    api_keys: dict[str, str]
    max_body_bytes: int
    #: The chat model ``answer`` uses, from ``EIDETICA_LLM_*``; None when none is configured.
    llm: LLMSettings | None = None
    #: Host names answered besides the loopback ones while the server has no API keys.
    allowed_hosts: tuple[str, ...] = ()

    def __repr__(self) -> str:
        # Never the keys, nor the database password: settings end up in logs and tracebacks.
        return (
            f"ServerSettings(db={redact(self.db)!r}, api_keys=<{len(self.api_keys)} keys>, "
            f"max_body_bytes={self.max_body_bytes}, allowed_hosts={self.allowed_hosts!r})"
        )


def server_settings(
    db: str | None = None,
    api_keys_spec: str | None = None,
    max_body_mb: float | None = None,
    *,
    allowed_host_names: Sequence[str] | None = None,
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
        resolve_db(db),
        api_keys(api_keys_spec),
        max(1, int(max_body_mb * MIB)),
        llm=llm_settings(),
        allowed_hosts=allowed_hosts(allowed_host_names),
    )


def export_server_settings(settings: ServerSettings) -> None:
    """Write ``settings`` to the environment, so server worker processes started later read the same.

    The keys go in ``EIDETICA_API_KEYS`` as ``key=tenant`` pairs even when they came from a file:
    workers then need not read it again, nor see it change meanwhile.
    """
    os.environ["EIDETICA_DB"] = settings.db
    os.environ["EIDETICA_API_KEYS"] = ",".join(f"{key}={tenant}" for key, tenant in settings.api_keys.items())
    os.environ["EIDETICA_ALLOWED_HOSTS"] = ",".join(settings.allowed_hosts)
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
