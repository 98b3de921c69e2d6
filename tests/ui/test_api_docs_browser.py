"""The API's ``/docs`` page in a real browser: Swagger UI renders the operations offline."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import Page, Request, expect

from .conftest import Served, screenshot


def test_docs_page_renders_the_operations_from_this_server_alone(page: Page, served: Served) -> None:
    requested: list[Request] = []
    page.on("request", lambda sent: requested.append(sent))
    page.goto("/docs")
    # Rendered by Swagger UI's script from the OpenAPI document: both came from the server.
    expect(page.locator(".opblock-summary-path", has_text="/v1/memories").first).to_be_visible()
    expect(page.locator(".opblock-summary-path", has_text="/v1/search")).to_be_visible()
    expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    assert {urlsplit(r.url).path for r in requested} >= {
        "/docs",
        "/docs/assets/swagger-ui-bundle.js",
        "/docs/assets/swagger-ui.css",
        "/openapi.json",
    }
    assert {urlsplit(r.url).netloc for r in requested} == {urlsplit(served.url).netloc}
    widths = {png_width(path.read_bytes()) for path in screenshot(page, "api-docs")}
    assert widths == {1280, 390}


def png_width(data: bytes) -> int:
    """The width a PNG file's header gives."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(data[16:20], "big")
