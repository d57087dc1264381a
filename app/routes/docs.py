"""The API's documentation (Swagger UI at /docs, ReDoc at /redoc) served entirely from this app:
the assets ship in the `fastapi-offline` wheel and the pages start them from a script file of
ours, so the staff origin loads no third-party script and needs no inline one (CSP)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSETS_URL = "/static/docs"
router = APIRouter(include_in_schema=False)


def assets() -> StaticFiles:
    """Swagger UI's and ReDoc's files, mounted at ASSETS_URL."""
    return StaticFiles(directory=ASSETS)


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ROI engine intake API - {title}</title>
<link rel="icon" href="{assets}/favicon.png">
{head}
</head>
<body>
<div id="{target}" data-openapi="/openapi.json"></div>
<script src="{assets}/{bundle}"></script>
<script src="/static/docs-init.js"></script>
</body>
</html>
"""


@router.get("/docs", response_class=HTMLResponse)
def swagger_ui() -> HTMLResponse:
    """Swagger UI, from local assets."""
    return HTMLResponse(
        _PAGE.format(
            title="Swagger UI",
            assets=ASSETS_URL,
            head=f'<link rel="stylesheet" href="{ASSETS_URL}/swagger-ui.css">',
            target="swagger-ui",
            bundle="swagger-ui-bundle.js",
        )
    )


@router.get("/redoc", response_class=HTMLResponse)
def redoc() -> HTMLResponse:
    """ReDoc, from local assets."""
    return HTMLResponse(
        _PAGE.format(
            title="ReDoc",
            assets=ASSETS_URL,
            head="",
            target="redoc",
            bundle="redoc.standalone.js",
        )
    )
