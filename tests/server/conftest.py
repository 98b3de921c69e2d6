"""A real REST server per test: uvicorn on 127.0.0.1 in a background thread, over a fresh store.

The chain is ``server_store`` -> ``server_tenants`` -> ``live``: override or parametrise
``server_store`` to run every HTTP and client test over another backend.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from starlette.types import ASGIApp

from eidetica import Client, Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.server.rest import create_app
from eidetica.server.tenants import Tenants
from eidetica.storage import Store, open_store

from ..postgres_server import BACKENDS, store_location

#: Two API keys, two tenants.
KEYS = {"key-acme": "acme", "key-globex": "globex"}
ACME, GLOBEX = "key-acme", "key-globex"
#: Small, so oversize bodies are cheap to send.
BODY_LIMIT = 64 * 1024


def free_port() -> int:
    """A loopback port nothing listens on now, for a server started in another process."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until_answering(
    process: subprocess.Popen[str],
    url: str,
    *,
    ready: Callable[[httpx.Response], bool] = lambda response: True,
    timeout: float = 60,
    exited: Callable[[], str] | None = None,
) -> None:
    """Poll ``url`` until its answer is ``ready``; fail when ``process`` exits first (saying what
    ``exited`` returns, else what it printed) or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, exited() if exited else process.communicate()[0]
        assert time.monotonic() < deadline, f"{url} did not answer within {timeout:g} s"
        try:
            if ready(httpx.get(url, timeout=5)):
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)


@contextmanager
def run_server(app: ASGIApp, *, root_path: str = "") -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yield its base URL.

    ``root_path`` is the prefix a proxy in front would serve the app under (uvicorn's --root-path).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, ws="none", root_path=root_path)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class LiveServer:
    """A running server and the tenants it serves, with helpers to call it."""

    url: str
    tenants: Tenants

    def http(self, key: str | None = ACME) -> httpx.Client:
        """A raw HTTP client, sending ``key`` as its bearer token when given."""
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def client(self, key: str | None = ACME) -> Client:
        return Client(self.url, api_key=key)

    def memory(self, key: str = ACME) -> Memory:
        """The server-side ``Memory`` the key's requests reach, to compare against."""
        return self.tenants.memory(self.tenants.tenant_for(key))


@pytest.fixture(params=BACKENDS)
def server_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """The store the test server runs over: a fresh SQLite file or PostgreSQL database, since API
    workers are meant to run over either."""
    store = open_store(store_location(request, tmp_path / "server.db"))
    yield store
    store.close()


@pytest.fixture
def tenants(tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Tenants]:
    """The tenants of ``KEYS`` over one SQLite file, for tests that serve them over MCP."""
    shared = Tenants(open_store(tmp_path / "mcp.db"), embedder=embedder, api_keys=KEYS)
    yield shared
    shared.close()


@pytest.fixture
def server_tenants(server_store: Store, embedder: WordLlamaEmbedder) -> Tenants:
    """Every tenant of the test server over the one store, with the session's embedder."""
    return Tenants(server_store, embedder=embedder, api_keys=KEYS)


@pytest.fixture
def live(server_tenants: Tenants) -> Iterator[LiveServer]:
    """A real server with two API keys (tenants acme and globex) and a small body limit."""
    with run_server(create_app(server_tenants, max_body_bytes=BODY_LIMIT)) as url:
        yield LiveServer(url, server_tenants)


@pytest.fixture
def open_live(server_store: Store, embedder: WordLlamaEmbedder) -> Iterator[LiveServer]:
    """A real server without API keys: every caller is in the default tenant."""
    tenants = Tenants(server_store, embedder=embedder)
    with run_server(create_app(tenants, max_body_bytes=BODY_LIMIT)) as url:
        yield LiveServer(url, tenants)
