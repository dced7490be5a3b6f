"""Console login (username and password, or a bearer token traded for a session), logout, who am I, and users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import psycopg
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response, status
from pydantic import BaseModel, Field

from api.deps import Admin, CurrentPrincipal, PoolDep, SettingsDep
from api.security import (
    SESSION_COOKIE,
    SESSION_TTL,
    Principal,
    Role,
    authenticate,
    close_session,
    create_user,
    list_users,
    open_session,
    principal_for_token,
    resolve_session,
    session_from_request,
    update_user,
)
from store.db import transaction


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # api/deps.py asks this resolver for a principal when no bearer token was sent.
    app.state.session_resolver = resolve_session
    yield


router = APIRouter(prefix="/api/v1", tags=["auth"], lifespan=_lifespan)


class LoginIn(BaseModel):
    """Either a username and password, or a bearer token (the admin token, an API token) to open a session with."""

    username: str | None = Field(default=None, max_length=64)
    password: str | None = Field(default=None, max_length=256)
    token: str | None = Field(default=None, max_length=256)


class Me(BaseModel):
    name: str
    role: Role
    via: str  # "session" or "token"
    csrf_token: str | None = None


def _same_origin(request: Request) -> bool:
    """A browser always sends Origin on a cross-site POST; when it is there it must name this very host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


@router.post("/auth/login")
def login(body: LoginIn, request: Request, response: Response, pool: PoolDep, settings: SettingsDep) -> Me:
    """Check the credentials and set an HttpOnly, SameSite=Strict session cookie."""
    if not _same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-origin login refused")
    principal: Principal | None = None
    username: str | None = None
    admin = settings.admin_token.get_secret_value() if settings.admin_token else None
    if body.username and body.password:
        principal = authenticate(pool, body.username, body.password)
        username = principal.name if principal else None
        if principal is None and body.username == "admin" and admin:
            # the first sign-in of a fresh install: user "admin" with EW_ADMIN_TOKEN as the password
            principal = principal_for_token(body.password, admin, pool)
            principal = principal if principal is not None and principal.role == "admin" else None
    elif body.token:
        principal = principal_for_token(body.token, admin, pool)
    if principal is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username, password or token")
    cookie, session = open_session(pool, principal, username=username, user_agent=request.headers.get("user-agent"))
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(SESSION_TTL.total_seconds()), path="/",
                        httponly=True, samesite="strict", secure=request.url.scheme == "https")
    return Me(name=principal.name, role=principal.role, via="session", csrf_token=session.csrf_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(request: Request, response: Response, pool: PoolDep) -> None:
    """End the session; needs the CSRF token, so a hostile page cannot log operators out."""
    session = session_from_request(request)
    if session is not None:
        resolve_session(request)  # raises 403 without the right CSRF token
        close_session(pool, request.cookies[SESSION_COOKIE])
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")


@router.get("/auth/me")
def me(principal: CurrentPrincipal, request: Request) -> Me:
    """Who the caller is; for a cookie session also the CSRF token the page must send back (a reload loses it)."""
    session = session_from_request(request) if request.headers.get("authorization") is None else None
    if session is not None:
        return Me(name=principal.name, role=principal.role, via="session", csrf_token=session.csrf_token)
    return Me(name=principal.name, role=principal.role, via="token")


class UserIn(BaseModel):
    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    display_name: str | None = Field(default=None, max_length=120)


class UserPatch(BaseModel):
    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)
    disabled: bool | None = None
    display_name: str | None = Field(default=None, max_length=120)


@router.get("/users")
def users(_: Admin, pool: PoolDep) -> list[dict[str, Any]]:
    """Console users (admin only)."""
    with pool.connection() as conn:
        return list_users(conn)  # type: ignore[arg-type]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def add_user(body: UserIn, _: Admin, pool: PoolDep) -> dict[str, str]:
    """Add a console user (admin only)."""
    try:
        with transaction(pool) as conn:
            create_user(conn, body.username, body.password, body.role, body.display_name)
    except psycopg.errors.UniqueViolation as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists") from exc
    return {"username": body.username, "role": body.role}


@router.patch("/users/{username}")
def change_user(username: str, body: UserPatch, admin: Admin, pool: PoolDep) -> dict[str, str]:
    """Change role, password, display name or disable (admin only); ends the user's sessions where it matters."""
    if username == admin.name and ((body.role is not None and body.role != "admin") or body.disabled):
        raise HTTPException(status.HTTP_409_CONFLICT, "an admin cannot demote or disable themselves")
    with transaction(pool) as conn:
        found = update_user(conn, username, role=body.role, password=body.password,
                            disabled=body.disabled, display_name=body.display_name)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {username!r}")
    return {"username": username}

