"""Run the REST API under uvicorn: the engine of ``eidetica serve``.

Settings reach worker processes through the environment (``config.export_server_settings``), and
each worker builds its app with ``rest.app_from_env``, so one or many workers serve alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..config import ServerSettings, export_server_settings
from ..errors import UsageError
from ..storage import open_store

FACTORY = "eidetica.server.rest:app_from_env"
#: One JSON line per request on stderr (logger ``eidetica.server``), uvicorn's own lines plain.
LOG_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(message)s"}},
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}
    },
    "loggers": {
        "eidetica.server": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
    },
}


def require_server_extra() -> None:
    """UsageError naming the install line when a package of the ``server`` extra is missing."""
    try:
        import fastapi  # noqa: F401
        import swagger_ui_bundle  # noqa: F401  (the /docs page's assets)
        import uvicorn  # noqa: F401
    except ImportError as exc:
        raise UsageError(
            f"the server needs the packages of its extra ({exc.name} is missing): "
            "pip install 'eidetica[server]'"
        ) from exc


def exposure_warning(host: str, has_keys: bool, allowed_hosts: Sequence[str] = ()) -> str | None:
    """The warning for a server that listens beyond this machine without API keys, else None."""
    from .hosts import LOOPBACK_NAMES, is_loopback

    if has_keys or is_loopback(host):
        return None
    names = ", ".join((*LOOPBACK_NAMES, *allowed_hosts))
    return (
        f"listening on {host} without API keys: anyone who can reach this port can read, change and "
        "erase every memory. Give the server keys (--api-keys @keys.txt), or listen on 127.0.0.1. Only "
        f"requests for {names} are answered (--allowed-host adds a name)."
    )


def serve(settings: ServerSettings, *, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted; the store is opened (and migrated) once here to fail early."""
    require_server_extra()
    import uvicorn

    if workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    open_store(settings.db).close()
    export_server_settings(settings)
    uvicorn.run(
        FACTORY,
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_config=LOG_CONFIG,
        access_log=False,
    )


def open_when_answering(url: str, timeout_s: float = 30.0) -> None:
    """Open the web browser on ``url`` from a background thread, once the server there answers."""
    import threading
    import time
    import webbrowser

    import httpx

    def wait_then_open() -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                httpx.get(url, timeout=2)
            except httpx.TransportError:
                time.sleep(0.2)
                continue
            webbrowser.open(url)
            return

    threading.Thread(target=wait_then_open, name="open-browser", daemon=True).start()
