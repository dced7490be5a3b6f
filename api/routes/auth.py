"""Console login (username and password, or a bearer token traded for a session), logout, who am I, and users."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import psycopg
from fastapi import APIRouter, FastAPI, HTTPException, Request, Response, status

from api.deps import Admin, CurrentPrincipal, PoolDep, SettingsDep
from api.models.auth import (
    LoginIn,
    Me,
    TokenIn,
    TokenInfo,
    TokenIssued,
    User,
    UserChanged,
    UserCreated,
    UserIn,
    UserPatch,
)
from api.security import (
    SESSION_COOKIE,
    Principal,
    admin_token_may_sign_in,
    authenticate,
    close_session,
    create_user,
    is_admin_token,
    issue_token,
    open_session,
    principal_for_token,
    resolve_session,
    session_from_request,
    session_limits,
    update_user,
)
from api.throttle import LoginThrottle, ThrottlePolicy
from common.settings import Settings
from store import accounts
from store.db import Pool, transaction


def make_throttle(settings: Settings) -> LoginThrottle:
    """The login throttle the settings describe."""
    return LoginThrottle(
        ThrottlePolicy(settings.login_max_failures_user, settings.login_window_s, settings.login_lockout_s),
        ThrottlePolicy(settings.login_max_failures_address, settings.login_window_s, settings.login_lockout_s),
    )


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    # api/deps.py asks this resolver for a principal when no bearer token was sent.
    app.state.session_resolver = resolve_session
    app.state.login_throttle = make_throttle(app.state.settings)
    yield


router = APIRouter(prefix="/api/v1", tags=["auth"], lifespan=_lifespan)


def _same_origin(request: Request) -> bool:
    """A browser always sends Origin on a cross-site POST; when it is there it must name this very host."""
    origin = request.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _too_many(wait_s: int) -> HTTPException:
    return HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, f"too many failed sign-ins; try again in {wait_s} s",
                         headers={"Retry-After": str(wait_s)})


def _check_credentials(body: LoginIn, pool: Pool, settings: Settings) -> tuple[Principal | None, str | None, bool]:
    """Who the body proves to be: the principal, the user name (password sign-in) and whether it is the admin
    token. The admin token counts only while ``EW_ADMIN_TOKEN_LOGIN`` lets it open sessions.
    """
    admin = settings.admin_token.get_secret_value() if settings.admin_token else None
    if body.username and body.password:
        principal = authenticate(pool, body.username, body.password)
        if principal is not None:
            return principal, principal.name, False
        if body.username == "admin" and is_admin_token(body.password, admin):
            return _admin_if_allowed(pool, settings), None, True
        return None, None, False
    if body.token:
        if is_admin_token(body.token, admin):
            return _admin_if_allowed(pool, settings), None, True
        return principal_for_token(body.token, admin, pool), None, False
    return None, None, False


def _admin_if_allowed(pool: Pool, settings: Settings) -> Principal | None:
    with pool.connection() as conn:
        allowed = admin_token_may_sign_in(settings, conn)
    return Principal("admin", "admin") if allowed else None


@router.post("/auth/login", responses={429: {"description": "too many failed sign-ins; see Retry-After"}})
def login(body: LoginIn, request: Request, response: Response, pool: PoolDep, settings: SettingsDep) -> Me:
    """Check the credentials and set an HttpOnly, SameSite=Strict session cookie (``Secure`` over HTTPS).

    Failed sign-ins are counted per user name and per client address; a locked one gets 429 and ``Retry-After``
    before any password is hashed.
    """
    if not _same_origin(request):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "cross-origin login refused")
    throttle: LoginThrottle = request.app.state.login_throttle
    address = request.client.host if request.client else "unknown"
    user_key = body.username if body.username else None
    wait = throttle.retry_after(user_key, address)
    if wait:
        raise _too_many(wait)
    principal, username, via_admin = _check_credentials(body, pool, settings)
    if principal is None:
        locked = throttle.failed(user_key, address)
        if locked:
            raise _too_many(locked)
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username, password or token")
    throttle.succeeded(user_key)
    limits = session_limits(settings)
    token = None
    if username is None:
        token = body.token or body.password  # the bearer token the session stays tied to
    cookie, session = open_session(pool, principal, username=username, token=token, admin_token=via_admin,
                                   user_agent=request.headers.get("user-agent"), limits=limits)
    response.set_cookie(SESSION_COOKIE, cookie, max_age=int(limits.absolute.total_seconds()), path="/",
                        httponly=True, samesite="strict",
                        secure=settings.cookie_secure or request.url.scheme == "https")
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


@router.get("/users")
def users(_: Admin, pool: PoolDep) -> list[User]:
    """Console users (admin only)."""
    with pool.connection() as conn:
        rows = accounts.list_users(conn)
    return [User.model_validate(row) for row in rows]


@router.post("/users", status_code=status.HTTP_201_CREATED)
def add_user(body: UserIn, _: Admin, pool: PoolDep) -> UserCreated:
    """Add a console user (admin only)."""
    try:
        with transaction(pool) as conn:
            create_user(conn, body.username, body.password, body.role, body.display_name)
    except psycopg.errors.UniqueViolation as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, f"user {body.username!r} exists") from exc
    return UserCreated(username=body.username, role=body.role)


@router.patch("/users/{username}")
def change_user(username: str, body: UserPatch, admin: Admin, pool: PoolDep) -> UserChanged:
    """Change role, password, display name or disable (admin only); ends the user's sessions where it matters."""
    if username == admin.name and ((body.role is not None and body.role != "admin") or body.disabled):
        raise HTTPException(status.HTTP_409_CONFLICT, "an admin cannot demote or disable themselves")
    with transaction(pool) as conn:
        found = update_user(conn, username, role=body.role, password=body.password,
                            disabled=body.disabled, display_name=body.display_name)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no user {username!r}")
    return UserChanged(username=username)



@router.get("/tokens")
def tokens(_: Admin, pool: PoolDep, include_revoked: bool = False) -> list[TokenInfo]:
    """Issued integrator tokens, newest first (admin only; never the tokens themselves)."""
    with pool.connection() as conn:
        rows = accounts.list_tokens(conn, include_revoked=include_revoked)
    return [TokenInfo.model_validate(row) for row in rows]


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
def add_token(body: TokenIn, admin: Admin, pool: PoolDep) -> TokenIssued:
    """Issue a bearer token with a role for one integrator (admin only); the answer is the only copy of it."""
    expires_at = None if body.expires_days is None else datetime.now(UTC) + timedelta(days=body.expires_days)
    with transaction(pool) as conn:
        token_id, token = issue_token(conn, body.name, body.role, created_by=admin.name, expires_at=expires_at)
    return TokenIssued(id=token_id, name=body.name, role=body.role, token=token, expires_at=expires_at)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses={404: {"description": "no such live token"}})
def revoke_token(token_id: int, _: Admin, pool: PoolDep) -> Response:
    """Revoke a token at once, with every console session opened with it (admin only)."""
    with transaction(pool) as conn:
        found = accounts.revoke_token(conn, token_id)
    if not found:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no live token {token_id}")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
