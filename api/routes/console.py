"""The control-room console: ``/`` and its static files (plain HTML, CSS and ES modules; no build step, no CDN)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)

# Everything the console loads comes from this origin; nothing may frame it (clickjacking of the ack button).
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
_HEADERS = {
    "Content-Security-Policy": _CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
          ".png": "image/png", ".ico": "image/x-icon", ".json": "application/json"}


@router.get("/")
def index() -> FileResponse:
    """The single page; the browser asks for a fresh copy each time (revalidation is cheap with ETags)."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                        headers={**_HEADERS, "Cache-Control": "no-cache"})


@router.get("/console")
def console_alias() -> RedirectResponse:
    return RedirectResponse("/", status_code=status.HTTP_308_PERMANENT_REDIRECT)


@router.get("/static/{path:path}")
def static(path: str) -> FileResponse:
    """A file under ``api/static``; anything that resolves outside it is a 404."""
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file() or target.suffix not in _TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return FileResponse(target, media_type=_TYPES[target.suffix], headers={**_HEADERS, "Cache-Control": "no-cache"})
