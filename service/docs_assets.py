"""``/docs`` and ``/redoc`` with their scripts and styles served from an installed package.

FastAPI's own documentation pages load Swagger UI and ReDoc from a CDN, so with no internet
they are blank. The PyPI package ``fastapi-offline`` ships the same bundles (Swagger UI's
script and style sheet, ReDoc's standalone script, a favicon); they are served here under
:data:`DOCS_ASSETS_URL`, and the two pages are made by FastAPI's own functions pointed at them
(FastAPI's documented recipe for self-hosted documentation assets). Nothing on either page is
loaded from another host: ReDoc is told not to fetch Google Fonts.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

__all__ = ["DOCS_ASSETS", "DOCS_ASSETS_URL", "docs_assets_dir", "install_offline_docs"]

#: Where the bundled files are served.
DOCS_ASSETS_URL = "/docs-assets"
#: The files the two pages load, all shipped by ``fastapi-offline``.
DOCS_ASSETS = ("swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js", "favicon.png")


def docs_assets_dir() -> Path:
    """The folder of the installed package's documentation bundles.

    Raises:
        FileNotFoundError: the package is missing or lacks one of :data:`DOCS_ASSETS`.
    """
    try:
        folder = Path(str(files("fastapi_offline") / "static"))
    except ModuleNotFoundError as exc:
        raise FileNotFoundError(
            "the package fastapi-offline, which ships the /docs and /redoc scripts, is not "
            "installed: pip install fastapi-offline"
        ) from exc
    missing = [name for name in DOCS_ASSETS if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}: reinstall fastapi-offline")
    return folder


def install_offline_docs(app: FastAPI) -> None:
    """Serve ``/docs`` (Swagger UI, with its OAuth2 redirect page) and ``/redoc`` on ``app``
    from the packaged assets.

    ``app`` must be made with ``docs_url=None, redoc_url=None``, so that FastAPI's CDN pages
    are not there to shadow these.

    Raises:
        ValueError: ``app`` still serves FastAPI's own documentation pages.
        FileNotFoundError: the assets are not installed (see :func:`docs_assets_dir`).
    """
    if app.docs_url is not None or app.redoc_url is not None:
        raise ValueError("make the app with docs_url=None and redoc_url=None to serve offline docs")
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or "/docs/oauth2-redirect"
    app.mount(DOCS_ASSETS_URL, StaticFiles(directory=docs_assets_dir()), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_swagger_ui_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=root + redirect_url,
            swagger_js_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{DOCS_ASSETS_URL}/swagger-ui.css",
            swagger_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
            swagger_ui_parameters=app.swagger_ui_parameters,
        )

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=root + openapi_url,
            title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{DOCS_ASSETS_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{DOCS_ASSETS_URL}/favicon.png",
            with_google_fonts=False,
        )
