"""Swagger UI and ReDoc served from assets shipped in the package (no CDN)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
ASSETS = "/docs-assets"


def install_docs(app: FastAPI) -> None:
    """Mount the assets and add `/docs` and `/redoc` pages that only reference them."""
    app.mount(ASSETS, StaticFiles(directory=STATIC), name="docs-assets")
    # What both pages share: the schema they render, the title, the icon (all local).
    page: dict[str, Any] = {
        "openapi_url": app.openapi_url or "/openapi.json",
        "title": f"{app.title} — API",
    }
    icon = f"{ASSETS}/favicon-32x32.png"

    @app.get("/docs", include_in_schema=False)
    async def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            **page,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=icon,
        )

    @app.get("/redoc", include_in_schema=False)
    async def redoc() -> HTMLResponse:
        return get_redoc_html(
            **page,
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=icon,
            with_google_fonts=False,
        )
