"""The web UI at ``/ui``: static pages shipped in the package that read and change memory only
through the ``/v1`` API, with the caller's API key, so they obey every rule the API does.

The pages are plain HTML, CSS and JavaScript modules (``eidetica/ui``), served as they are: no
build step, no Node toolchain at install time, nothing fetched from another origin. Every stored
text reaches the page as text (``textContent``), never as markup, and the Content-Security-Policy
below forbids inline and foreign scripts, so a stored ``<script>`` is shown, not run.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from fastapi import APIRouter, FastAPI, HTTPException
from fastapi.responses import RedirectResponse, Response

#: Only same-origin assets and API calls; no inline script, no framing, no form posts elsewhere.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

router = APIRouter(include_in_schema=False)


@cache
def _assets() -> dict[str, bytes]:
    """The UI's files by name, read once: only these are ever served, so no request names a path
    of its own, and one asking for anything else costs a dictionary lookup."""
    folder = resources.files("eidetica") / "ui"
    return {
        path.name: path.read_bytes()
        for path in folder.iterdir()
        if path.is_file() and path.name.endswith(tuple(_MEDIA_TYPES))
    }


def _file(name: str) -> Response:
    content = _assets().get(name)
    if content is None:
        raise HTTPException(status_code=404, detail=f"the UI has no file {name!r}")
    media_type = _MEDIA_TYPES[name[name.rindex(".") :]]
    return Response(content, media_type=media_type, headers=SECURITY_HEADERS)


@router.get("/ui")
def ui_root() -> RedirectResponse:
    """The UI lives under ``/ui/``, so that its pages' relative links resolve."""
    return RedirectResponse("/ui/", status_code=308)


@router.get("/ui/")
def ui_page() -> Response:
    """The one page of the UI; the views are drawn by ``app.js`` from the URL's fragment."""
    return _file("index.html")


@router.get("/ui/assets/{name}")
def ui_asset(name: str) -> Response:
    """A script, style sheet or icon of the UI."""
    return _file(name)


def install(app: FastAPI) -> None:
    """Serve the UI's page and assets on ``app``."""
    app.include_router(router)
