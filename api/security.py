"""Who is calling and what they may do: roles viewer < operator < admin.

A caller proves who they are with a bearer token (the admin token from ``EW_ADMIN_TOKEN``, or a token stored hashed
in ``api_tokens``) or, in the console, with a session cookie. Cookies are ambient credentials a hostile page could
make the browser send, so every unsafe request riding on a cookie must also echo the session's CSRF token in the
``X-CSRF-Token`` header, which only our own pages can read.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Literal

from fastapi import HTTPException, Request, status

from common.settings import Settings
from store import accounts
from store.accounts import SessionLimits
from store.db import Conn, Pool

Role = Literal["viewer", "operator", "admin"]
"""What a console user or API token may do; each role may do everything the ones before it may."""
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")
ROLE_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}

SESSION_COOKIE = "ew_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MIN_PASSWORD = 8

# scrypt at n=2**14, r=8 costs ~16 MiB and tens of milliseconds: cheap for one login, dear for a guessing attack.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        """True when this caller's role is ``needed`` or above it."""
        return ROLE_RANK[self.role] >= ROLE_RANK[needed]


def token_hash(token: str) -> str:
    """The SHA-256 a token or cookie value is stored and looked up by (the value itself is never stored)."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_admin_token(token: str, admin_token: str | None) -> bool:
    """True when ``token`` is the configured admin token (compared in constant time)."""
    return bool(admin_token) and hmac.compare_digest(token.encode(), (admin_token or "").encode())


def principal_for_token(token: str, admin_token: str | None, pool: Pool) -> Principal | None:
    """The principal a bearer token stands for, or None."""
    if is_admin_token(token, admin_token):
        return Principal("admin", "admin")
    with pool.connection() as conn:
        row = accounts.token_owner(conn, token_hash(token))
    if row is None:
        return None
    return Principal(row.name, check_role(row.role))


def session_limits(settings: Settings) -> SessionLimits:
    """The idle and absolute lifetimes of sessions, from the settings."""
    return SessionLimits(idle=timedelta(minutes=settings.session_idle_minutes),
                         absolute=timedelta(hours=settings.session_max_hours))


def admin_token_hash(settings: Settings) -> str | None:
    """The hash a session opened with the admin token is tied to; a new token ends those sessions."""
    return token_hash(settings.admin_token.get_secret_value()) if settings.admin_token else None


def admin_token_may_sign_in(settings: Settings, conn: Conn) -> bool:
    """Whether the admin token may open (or keep) a console session, per ``EW_ADMIN_TOKEN_LOGIN``.

    ``bootstrap``: only until an enabled admin user exists, so the token is the key to create the first real admin
    and then stops being a password.
    """
    mode = settings.admin_token_login
    if settings.admin_token is None or mode == "never":
        return False
    return mode == "always" or not accounts.enabled_admin_exists(conn)


# --- passwords -------------------------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """A salted scrypt hash with its parameters, so they can be raised later without breaking old hashes."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; compares in constant time."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


# A hash of nothing anyone knows: login of an unknown user still pays for one scrypt, so timing tells no names.
_DUMMY_HASH = hash_password(secrets.token_hex(16))


# --- users -----------------------------------------------------------------------------------------------------


def check_role(role: str) -> Role:
    """``role`` as a :data:`Role`; raises ``ValueError`` for anything else."""
    for known in ROLES:
        if role == known:
            return known
    raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")


def _checked_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise ValueError(f"password must have at least {MIN_PASSWORD} characters")
    return password


def create_user(conn: Conn, username: str, password: str, role: str, display_name: str | None = None) -> None:
    """Add a user; raises ``psycopg.errors.UniqueViolation`` when the name is taken."""
    accounts.insert_user(conn, username, display_name, check_role(role), hash_password(_checked_password(password)))


def update_user(conn: Conn, username: str, *, role: str | None = None, password: str | None = None,
                disabled: bool | None = None, display_name: str | None = None) -> bool:
    """Change a user; a new role or password or disabling ends the user's sessions. False when there is no user."""
    values: dict[str, object] = {}
    if role is not None:
        values["role"] = check_role(role)
    if password is not None:
        values["password_hash"] = hash_password(_checked_password(password))
    if display_name is not None:
        values["display_name"] = display_name
    if not accounts.update_user(conn, username, values, disabled=disabled):
        return False
    if role is not None or password is not None or disabled:
        accounts.end_sessions(conn, username)
    return True


def list_users(conn: Conn) -> list[dict[str, object]]:
    """Every console user as plain values (for the command line; the API uses ``store.accounts`` rows)."""
    return [asdict(row) for row in accounts.list_users(conn)]


def authenticate(pool: Pool, username: str, password: str) -> Principal | None:
    """The principal for a correct, enabled username and password; None otherwise."""
    with pool.connection() as conn:
        found = accounts.credentials(conn, username)
    if found is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, found.password_hash) or found.disabled:
        return None
    return Principal(found.username, check_role(found.role))


# --- integrator tokens -----------------------------------------------------------------------------------------

TOKEN_PREFIX = "ewt_"  # noqa: S105 - a public prefix, not a secret; lets secret scanners and people recognise a leaked EstateWatch token


def issue_token(conn: Conn, name: str, role: str, *, created_by: str | None = None,
                expires_at: datetime | None = None) -> tuple[int, str]:
    """A new bearer token for one integrator: returns its number and the token, which is shown this once only."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token_id = accounts.add_token(conn, token_hash(token), name, check_role(role), created_by=created_by,
                                  expires_at=expires_at)
    return token_id, token


# --- sessions --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A live console session: who, and the CSRF token their unsafe requests must carry."""

    principal: Principal
    csrf_token: str
    username: str | None


DEFAULT_LIMITS = SessionLimits(idle=timedelta(hours=12), absolute=timedelta(hours=24))


def open_session(pool: Pool, principal: Principal, *, username: str | None = None,
                 user_agent: str | None = None, token: str | None = None, admin_token: bool = False,
                 limits: SessionLimits = DEFAULT_LIMITS) -> tuple[str, Session]:
    """Store a new session; returns the cookie value (never stored itself) and the session.

    Give ``username`` for a password sign-in, or ``token`` (and ``admin_token`` when it is the admin token) for a
    session traded for a bearer token: that session then lives only as long as the token stays valid.
    """
    if (username is None) == (token is None):
        raise ValueError("a session is opened either by a user or by a token")
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with pool.connection() as conn:
        accounts.insert_session(conn, id_sha256=token_hash(cookie), username=username, name=principal.name,
                                role=principal.role, csrf_token=csrf, limits=limits,
                                user_agent=(user_agent or "")[:200],
                                token_sha256=None if token is None else token_hash(token), admin_token=admin_token)
    return cookie, Session(principal, csrf, username)


def session_for_cookie(pool: Pool, cookie: str, settings: Settings | None = None) -> Session | None:
    """The live session behind a cookie value, with the current role of the user or token behind it.

    Without ``settings`` the default lifetimes apply and admin-token sessions are not honoured.
    """
    limits = DEFAULT_LIMITS if settings is None else session_limits(settings)
    with pool.connection() as conn:
        admin_ok = settings is not None and admin_token_may_sign_in(settings, conn)
        row = accounts.live_session(conn, token_hash(cookie), limits,
                                    None if settings is None else admin_token_hash(settings), admin_sessions=admin_ok)
    if row is None or row.user_role is None:
        return None  # unknown, expired, or its user was disabled or its token revoked, expired or rotated
    return Session(Principal(row.name, check_role(row.user_role)), row.csrf_token, row.username)


def close_session(pool: Pool, cookie: str) -> None:
    """End the session behind a cookie value."""
    with pool.connection() as conn:
        accounts.delete_session(conn, token_hash(cookie))


def session_from_request(request: Request) -> Session | None:
    """The live session behind the request's cookie, if any (no CSRF check: see :func:`resolve_session`)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    pool: Pool = request.app.state.pool
    settings: Settings = request.app.state.settings
    return session_for_cookie(pool, cookie, settings)


def resolve_session(request: Request) -> Principal | None:
    """``app.state.session_resolver``: the principal behind the session cookie, enforcing CSRF on unsafe methods.

    A missing or wrong CSRF token is a 403, not an anonymous caller: the cookie proves the browser, not the page.
    """
    session = session_from_request(request)
    if session is None:
        return None
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "CSRF token missing or wrong")
    return session.principal
