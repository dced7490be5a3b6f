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
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal, cast

import psycopg
from fastapi import HTTPException, Request, status
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

Role = Literal["viewer", "operator", "admin"]
ROLE_RANK: dict[str, int] = {"viewer": 0, "operator": 1, "admin": 2}
ROLES: tuple[Role, ...] = ("viewer", "operator", "admin")

SESSION_COOKIE = "ew_session"
CSRF_HEADER = "X-CSRF-Token"
SESSION_TTL = timedelta(hours=12)  # one control-room shift; every request slides it forward
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# scrypt at n=2**14, r=8 costs ~16 MiB and tens of milliseconds: cheap for one login, dear for a guessing attack.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1

Conn = psycopg.Connection[dict[str, Any]]


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    name: str
    role: Role

    def can(self, needed: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[needed]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def principal_for_token(token: str, admin_token: str | None, pool: ConnectionPool) -> Principal | None:
    """The principal a bearer token stands for, or None."""
    if admin_token and hmac.compare_digest(token.encode(), admin_token.encode()):
        return Principal("admin", "admin")
    with pool.connection() as conn:
        row = conn.execute(
            "SELECT name, role FROM api_tokens WHERE token_sha256 = %s AND revoked_at IS NULL", (token_hash(token),)
        ).fetchone()
    if row is None:
        return None
    return Principal(str(row["name"]), row["role"])  # type: ignore[call-overload]


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
    if role not in ROLE_RANK:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, got {role!r}")
    return cast(Role, role)


def create_user(conn: Conn, username: str, password: str, role: str, display_name: str | None = None) -> None:
    """Add a user; raises ``psycopg.errors.UniqueViolation`` when the name is taken."""
    if len(password) < 8:
        raise ValueError("password must have at least 8 characters")
    conn.execute(
        "INSERT INTO users (username, display_name, role, password_hash) VALUES (%s, %s, %s, %s)",
        (username, display_name, check_role(role), hash_password(password)),
    )


def update_user(conn: Conn, username: str, *, role: str | None = None, password: str | None = None,
                disabled: bool | None = None, display_name: str | None = None) -> bool:
    """Change a user; a new role or password or disabling ends the user's sessions. False when there is no user."""
    sets: list[str] = ["updated_at = now()"]
    args: list[object] = []
    if role is not None:
        sets.append("role = %s")
        args.append(check_role(role))
    if password is not None:
        if len(password) < 8:
            raise ValueError("password must have at least 8 characters")
        sets.append("password_hash = %s")
        args.append(hash_password(password))
    if disabled is not None:
        sets.append("disabled_at = CASE WHEN %s THEN coalesce(disabled_at, now()) END")
        args.append(disabled)
    if display_name is not None:
        sets.append("display_name = %s")
        args.append(display_name)
    row = conn.execute(f"UPDATE users SET {', '.join(sets)} WHERE username = %s RETURNING username",
                       (*args, username)).fetchone()
    if row is None:
        return False
    if role is not None or password is not None or disabled:
        conn.execute("DELETE FROM sessions WHERE username = %s", (username,))
    return True


def list_users(conn: Conn) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT username, display_name, role, created_at, updated_at, disabled_at IS NOT NULL AS disabled"
        " FROM users ORDER BY username"
    ).fetchall()


def authenticate(pool: ConnectionPool, username: str, password: str) -> Principal | None:
    """The principal for a correct, enabled username and password; None otherwise."""
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute("SELECT username, role, password_hash, disabled_at FROM users WHERE username = %s",
                          (username,)).fetchone()
    if row is None:
        verify_password(password, _DUMMY_HASH)
        return None
    if not verify_password(password, str(row["password_hash"])) or row["disabled_at"] is not None:
        return None
    return Principal(str(row["username"]), check_role(str(row["role"])))


# --- sessions --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A live console session: who, and the CSRF token their unsafe requests must carry."""

    principal: Principal
    csrf_token: str
    username: str | None


def open_session(pool: ConnectionPool, principal: Principal, *, username: str | None,
                 user_agent: str | None = None) -> tuple[str, Session]:
    """Store a new session; returns the cookie value (never stored itself) and the session."""
    cookie = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    with pool.connection() as conn:
        conn.execute("DELETE FROM sessions WHERE expires_at < now()")  # cheap housekeeping at a rare moment
        conn.execute(
            "INSERT INTO sessions (id_sha256, username, name, role, csrf_token, expires_at, user_agent)"
            " VALUES (%s, %s, %s, %s, %s, now() + %s, %s)",
            (token_hash(cookie), username, principal.name, principal.role, csrf, SESSION_TTL, (user_agent or "")[:200]),
        )
    return cookie, Session(principal, csrf, username)


def session_for_cookie(pool: ConnectionPool, cookie: str) -> Session | None:
    """The live session behind a cookie value; a user's current role wins over the one stored at login.

    Use slides the expiry forward, written at most once a minute so that reads do not turn into a write each.
    """
    with pool.connection() as conn, conn.cursor(row_factory=dict_row) as cur:
        row = cur.execute(
            "WITH touched AS (UPDATE sessions SET last_seen = now(), expires_at = now() + %(ttl)s"
            "  WHERE id_sha256 = %(id)s AND expires_at > now() AND last_seen < now() - interval '1 minute')"
            " SELECT s.username, s.name, s.role, s.csrf_token,"
            " (SELECT u.role FROM users u WHERE u.username = s.username AND u.disabled_at IS NULL) AS user_role"
            " FROM sessions s WHERE s.id_sha256 = %(id)s AND s.expires_at > now()",
            {"ttl": SESSION_TTL, "id": token_hash(cookie)},
        ).fetchone()
    if row is None:
        return None
    if row["username"] is not None and row["user_role"] is None:
        return None  # the user was disabled after logging in
    role = check_role(str(row["user_role"] or row["role"]))
    return Session(Principal(str(row["name"]), role), str(row["csrf_token"]), row["username"])


def close_session(pool: ConnectionPool, cookie: str) -> None:
    with pool.connection() as conn:
        conn.execute("DELETE FROM sessions WHERE id_sha256 = %s", (token_hash(cookie),))


def session_from_request(request: Request) -> Session | None:
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    pool: ConnectionPool = request.app.state.pool
    return session_for_cookie(pool, cookie)


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
