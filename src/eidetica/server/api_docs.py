"""The API's Swagger UI page at ``/docs``, with its scripts, styles and icon served from this server.

FastAPI's own page loads Swagger UI from a CDN, so it stays blank on a machine without internet
access; here every asset comes from the ``swagger-ui-bundle-v2`` package (module
``swagger_ui_bundle``, Swagger UI 5: the first to read OpenAPI 3.1) under ``/docs/assets``. Like
``/openapi.json``, the page and its assets need no API key: they describe the API, and every call
made from the page still goes through ``/v1`` and its authentication.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
#: No validator: Swagger UI would otherwise offer to send the document to swagger.io.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}


def install(app: FastAPI) -> None:
    """Serve the Swagger UI page at ``/docs`` and its assets under ``/docs/assets`` on ``app``."""
    openapi_url = app.openapi_url
    if openapi_url is None:
        return  # no OpenAPI document, nothing to show
    title = f"{app.title} API"
    app.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="api-docs-assets")

    @app.get(DOCS_PATH, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        # Behind a proxy that serves the app under a prefix, every URL on the page carries it.
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=title,
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )
