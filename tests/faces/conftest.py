"""What every face's test stands on: one store on each backend, the default tenant over it (no
API keys), and that tenant's ``Memory``, which the REST, CLI and MCP faces reach too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from eidetica import Memory
from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.model import DEFAULT_TENANT
from eidetica.server.tenants import Tenants
from eidetica.storage import open_store

from ..postgres_server import BACKENDS, store_location


@pytest.fixture(params=BACKENDS)
def location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return store_location(request, tmp_path / "faces.db")


@pytest.fixture
def tenants(location: str, embedder: WordLlamaEmbedder) -> Iterator[Tenants]:
    """The default tenant (no API keys) over a fresh store of each backend."""
    shared = Tenants(open_store(location), embedder=embedder)
    yield shared
    shared.close()


@pytest.fixture
def memory(tenants: Tenants) -> Memory:
    return tenants.memory(DEFAULT_TENANT)
