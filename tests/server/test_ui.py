"""The web UI's files as the server hands them out: the page, its assets, the headers that keep
a stored text from running as code, and nothing that would reach another origin. What the pages
do is tested in a real browser, in ``tests/ui``."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from .conftest import LiveServer

UI_FILES = sorted(p.name for p in (resources.files("eidetica") / "ui").iterdir() if p.is_file())


def test_ui_redirects_to_its_folder_and_serves_the_page_without_a_key(live: LiveServer) -> None:
    with live.http(key=None) as http:
        moved = http.get("/ui", follow_redirects=False)
        page = http.get("/ui/")
    assert moved.status_code == 308 and moved.headers["location"] == "/ui/"
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/ui/assets/app.js">' in page.text


@pytest.mark.parametrize("name", UI_FILES)
def test_every_asset_is_served_with_its_type_and_a_policy_against_foreign_and_inline_code(
    live: LiveServer, name: str
) -> None:
    path = "/ui/" if name == "index.html" else f"/ui/assets/{name}"
    with live.http(key=None) as http:
        answer = http.get(path)
    assert answer.status_code == 200
    expected = {"html": "text/html", "js": "text/javascript", "css": "text/css", "svg": "image/svg+xml"}
    assert answer.headers["content-type"].startswith(expected[name.rsplit(".", 1)[1]])
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert answer.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("name", UI_FILES)
def test_no_asset_names_another_origin(name: str) -> None:
    text = (resources.files("eidetica") / "ui" / name).read_text(encoding="utf-8")
    text = text.replace('xmlns="http://www.w3.org/2000/svg"', "")  # an XML namespace is a name
    urls = re.findall(r"(?:https?:)?//[\w.-]+\.\w+", text)
    assert urls == [], f"{name} refers to another origin: {urls}"


def test_stored_text_never_becomes_markup_in_the_scripts() -> None:
    """Every stored text reaches the page through text nodes; the scripts never parse HTML."""
    for name in UI_FILES:
        if name.endswith(".js"):
            text = (resources.files("eidetica") / "ui" / name).read_text(encoding="utf-8")
            for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
                assert sink not in text, f"{name} uses {sink}"


@pytest.mark.parametrize(
    "name", ["nothing.js", "..%2Fmemory.py", "%2E%2E%2F__init__.py", ".hidden.css", "app.py"]
)
def test_what_is_not_an_asset_of_the_ui_is_404(live: LiveServer, name: str) -> None:
    with live.http(key=None) as http:
        answer = http.get(f"/ui/assets/{name}")
    assert answer.status_code == 404
    assert answer.json()["error"]["message"]
