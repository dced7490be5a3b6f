"""Interactive API docs at ``/docs`` that work on an estate network with no internet: Swagger UI's files come
from the ``swagger-ui-bundle-v2`` package (Apache-2.0, its licence served beside them), never from a CDN.
"""

from __future__ import annotations

from importlib import metadata, resources
from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from api.openapi import binary, text

_DISTRIBUTION = "swagger-ui-bundle-v2"  # Swagger UI 5: it reads the OpenAPI 3.1 documents FastAPI writes
ASSETS_DIR = max(Path(str(resources.files("swagger_ui_bundle") / "vendor")).glob("swagger-ui-*"))
_ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
           "favicon-32x32.png": "image/png"}
_PREFIX = "/docs/assets"
PAGE = Path(__file__).resolve().parent.parent / "static" / "docs" / "index.html"

router = APIRouter(tags=["docs"])


@router.get("/docs", response_class=FileResponse, include_in_schema=False)
def docs() -> FileResponse:
    """Swagger UI for ``/openapi.json``; the page (api/static/docs) and every file it loads come from this app."""
    return FileResponse(PAGE, media_type="text/html", headers={
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline';"
                                   " object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
        "Cache-Control": "no-cache"})


@router.get(f"{_PREFIX}/LICENSE", response_class=FileResponse,
            responses=text("Swagger UI's licence (Apache-2.0), as shipped with the files", "text/plain"))
def docs_licence() -> FileResponse:
    """The licence of the Swagger UI files served here."""
    return FileResponse(_licence(), media_type="text/plain")


@router.get(f"{_PREFIX}/{{name}}", response_class=FileResponse,
            responses=binary("a file of Swagger UI", *sorted(set(_ASSETS.values()))))
def docs_asset(name: str) -> FileResponse:
    """One of the few Swagger UI files the docs page loads; anything else is a 404."""
    if name not in _ASSETS:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return FileResponse(ASSETS_DIR / name, media_type=_ASSETS[name], headers={"Cache-Control": "max-age=86400"})


def _licence() -> Path:
    """The package's licence file, from its installed metadata."""
    for entry in metadata.files(_DISTRIBUTION) or []:
        if entry.name.startswith("LICENSE"):
            return Path(str(entry.locate()))
    raise HTTPException(status.HTTP_404_NOT_FOUND, "licence file not installed")
