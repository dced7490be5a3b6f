"""The control-room console: ``/`` and its static files (plain HTML, CSS and ES modules; no build step, no CDN),
the estate settings it shows times with, and each user's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, Literal

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse, RedirectResponse
from pydantic import Field

from api.deps import PoolDep, SettingsDep, Viewer
from api.models.base import ApiModel
from api.openapi import binary, text
from store import console_prefs

Language = Literal["en", "zh-CN"]
LANGUAGES: Final[tuple[Language, ...]] = ("en", "zh-CN")

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(tags=["console"])

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
          ".png": "image/png", ".ico": "image/x-icon", ".wav": "audio/wav"}


@router.get("/", response_class=FileResponse, responses=text("the console's single page", "text/html"))
def index() -> FileResponse:
    """The single page; the browser asks for a fresh copy each time (revalidation is cheap with ETags)."""
    return FileResponse(STATIC_DIR / "index.html", media_type="text/html",
                        headers={**_HEADERS, "Cache-Control": "no-cache"})


@router.get("/console", response_class=RedirectResponse, status_code=status.HTTP_308_PERMANENT_REDIRECT,
            responses={status.HTTP_308_PERMANENT_REDIRECT: {"description": "the console lives at /"}})
def console_alias() -> RedirectResponse:
    """The console's old address."""
    return RedirectResponse("/", status_code=status.HTTP_308_PERMANENT_REDIRECT)


@router.get("/static/{path:path}", response_class=FileResponse,
            responses=binary("a script, style sheet or image of the console", *sorted(set(_TYPES.values()))))
def static(path: str) -> FileResponse:
    """A file under ``api/static``; anything that resolves outside it is a 404."""
    target = (STATIC_DIR / path).resolve()
    if not target.is_relative_to(STATIC_DIR) or not target.is_file() or target.suffix not in _TYPES:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "not found")
    return FileResponse(target, media_type=_TYPES[target.suffix], headers={**_HEADERS, "Cache-Control": "no-cache"})


# ---- what the console needs to know about the estate and the signed-in user


class ConsoleSettings(ApiModel):
    """The estate's settings the console shows times and text with."""

    timezone: str = Field(description="IANA name of EW_TIMEZONE: every time in the console is shown in it")
    languages: list[Language]


class Preferences(ApiModel):
    """One console user's choices, kept on the server so they follow the user to another desk."""

    language: Language | None = Field(description="null until the user chooses (the console keeps its current one)")


class PreferencesBody(ApiModel):
    """The choices to remember."""

    language: Language


@router.get("/api/v1/console/settings")
def console_settings(settings: SettingsDep, _: Viewer) -> ConsoleSettings:
    """The estate time zone and the languages the console speaks."""
    return ConsoleSettings(timezone=settings.timezone, languages=list(LANGUAGES))


@router.get("/api/v1/console/preferences")
def get_preferences(pool: PoolDep, who: Viewer) -> Preferences:
    """The caller's preferences."""
    with pool.connection() as conn:
        language = console_prefs.get_language(conn, who.name)
    return Preferences(language=next((lang for lang in LANGUAGES if lang == language), None))


@router.put("/api/v1/console/preferences")
def put_preferences(body: PreferencesBody, pool: PoolDep, who: Viewer) -> Preferences:
    """Remember the caller's choices."""
    with pool.connection() as conn, conn.transaction():
        console_prefs.set_language(conn, who.name, body.language)
    return Preferences(language=body.language)
