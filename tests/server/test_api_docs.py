"""The ``/docs`` page over real HTTP: Swagger UI with every asset from this server, no CDN, no key."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx
import pytest

from eidetica.embedders.wordllama import WordLlamaEmbedder
from eidetica.server.rest import create_app
from eidetica.server.tenants import Tenants
from eidetica.storage.sqlite import SQLiteStore

from .conftest import KEYS, run_server

#: The content type each kind of asset must be served with.
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}
PREFIX = "/memory"


class _Assets(HTMLParser):
    """The URLs of a page's ``<script src>`` and ``<link href>`` elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


def asset_urls(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


def openapi_url_of(html: str) -> str:
    """The document URL the page hands to Swagger UI."""
    found = re.search(r"url: '([^']+)'", html)
    assert found, html
    return found.group(1)


@dataclass
class DocsServer:
    url: str
    has_keys: bool


@pytest.fixture(params=[True, False], ids=["keys", "no-keys"])
def docs_server(
    request: pytest.FixtureRequest, tmp_path: Path, embedder: WordLlamaEmbedder
) -> Iterator[DocsServer]:
    """A real server over a fresh SQLite file, with API keys and without."""
    keys = KEYS if request.param else None
    tenants = Tenants(SQLiteStore(tmp_path / "docs.db"), embedder=embedder, api_keys=keys)
    with run_server(create_app(tenants)) as url:
        yield DocsServer(url, has_keys=request.param)
    tenants.close()


def test_docs_page_loads_every_asset_from_this_server_without_a_key(docs_server: DocsServer) -> None:
    origin = urlsplit(docs_server.url)
    with httpx.Client(base_url=docs_server.url, timeout=30) as http:
        page = http.get("/docs")
        assert page.status_code == 200, page.text
        assert page.headers["content-type"].startswith("text/html")
        urls = asset_urls(page.text)
        # Swagger UI's script, its stylesheet and the icon, at the least.
        assert {Path(urlsplit(url).path).suffix for url in urls} >= set(CONTENT_TYPES), urls
        for url in urls:
            absolute = urlsplit(urljoin(f"{docs_server.url}/docs", url))
            assert (absolute.scheme, absolute.netloc) == (origin.scheme, origin.netloc), url
            asset = http.get(absolute.path)
            assert asset.status_code == 200, url
            assert CONTENT_TYPES[Path(absolute.path).suffix] in asset.headers["content-type"], url
            assert asset.content, url
        assert "SwaggerUIBundle" in http.get("/docs/assets/swagger-ui-bundle.js").text
        document = http.get(openapi_url_of(page.text))
        assert document.status_code == 200
        assert "/v1/memories" in document.json()["paths"]


def test_the_api_the_docs_describe_still_wants_its_key(docs_server: DocsServer) -> None:
    with httpx.Client(base_url=docs_server.url, timeout=30) as http:
        assert http.get("/v1/stats").status_code == (401 if docs_server.has_keys else 200)


def test_no_cdn_page_is_left(docs_server: DocsServer) -> None:
    with httpx.Client(base_url=docs_server.url, timeout=30) as http:
        assert http.get("/redoc").status_code == 404
        assert http.get("/docs/assets/no-such-file.js").status_code == 404
        paths = http.get("/openapi.json").json()["paths"]
    assert not [path for path in paths if path.startswith("/docs")], paths


@pytest.fixture
def keyless_tenants(tmp_path: Path, embedder: WordLlamaEmbedder) -> Iterator[Tenants]:
    tenants = Tenants(SQLiteStore(tmp_path / "docs.db"), embedder=embedder)
    yield tenants
    tenants.close()


def test_keyless_server_refuses_the_docs_to_foreign_host_names(keyless_tenants: Tenants) -> None:
    """DNS rebinding protection covers the page and its assets too."""
    with run_server(create_app(keyless_tenants)) as url, httpx.Client(base_url=url, timeout=30) as http:
        for path in ("/docs", "/docs/assets/swagger-ui-bundle.js"):
            assert http.get(path, headers={"Host": "attacker.example"}).status_code == 421
            assert http.get(path).status_code == 200


def test_docs_behind_a_path_prefix_name_their_assets_with_it(keyless_tenants: Tenants) -> None:
    """Behind a proxy serving the app under /memory, the page's URLs carry the prefix."""
    with (
        run_server(create_app(keyless_tenants), root_path=PREFIX) as url,
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        page = http.get("/docs")
        assert page.status_code == 200
        urls = [*asset_urls(page.text), openapi_url_of(page.text)]
        assert urls and all(url.startswith(f"{PREFIX}/") for url in urls), urls
        for url in urls:  # as the proxy would: strip the prefix before passing the request on
            assert http.get(url.removeprefix(PREFIX)).status_code == 200, url
