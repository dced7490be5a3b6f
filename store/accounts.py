"""Console users, API tokens and sessions: the rows behind sign-in, stored so a database leak hands out nothing.

Only hashes are stored (scrypt for passwords, SHA-256 for tokens and cookie values); hashing and the rules about
roles live in ``api.security``, this module only reads and writes rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg import sql
from psycopg.rows import class_row

from store.db import Conn
from store.filters import assignments


@dataclass(frozen=True)
class TokenRow:
    """Who an API token stands for."""

    name: str
    role: str


@dataclass(frozen=True)
class TokenInfo:
    """An API token as the admin list shows it (never the token, nor its hash)."""

    id: int
    name: str
    role: str
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class UserRow:
    """A console user as the admin list shows it (no hash)."""

    username: str
    display_name: str | None
    role: str
    created_at: datetime
    updated_at: datetime
    disabled: bool


@dataclass(frozen=True)
class Credentials:
    """What sign-in checks a password against."""

    username: str
    role: str
    password_hash: str
    disabled: bool


@dataclass(frozen=True)
class SessionRow:
    """A live session; ``user_role`` is the user's current role, None when the user is gone or disabled."""

    username: str | None
    name: str
    role: str
    csrf_token: str
    user_role: str | None


def token_owner(conn: Conn, token_sha256: str) -> TokenRow | None:
    """The name and role behind a token neither revoked nor expired; use is noted at most once a minute."""
    with conn.cursor(row_factory=class_row(TokenRow)) as cur:
        return cur.execute(
            "WITH used AS (UPDATE api_tokens SET last_used_at = now() WHERE token_sha256 = %(h)s"
            "  AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute'))"
            " SELECT name, role FROM api_tokens WHERE token_sha256 = %(h)s AND revoked_at IS NULL"
            " AND (expires_at IS NULL OR expires_at > now())",
            {"h": token_sha256},
        ).fetchone()


def add_token(conn: Conn, token_sha256: str, name: str, role: str, *, created_by: str | None = None,
              expires_at: datetime | None = None) -> int:
    """Store a new API token by its hash; returns the number it is listed and revoked by."""
    row = conn.execute(
        "INSERT INTO api_tokens (token_sha256, name, role, created_by, expires_at) VALUES (%s, %s, %s, %s, %s)"
        " RETURNING id", (token_sha256, name, role, created_by, expires_at)).fetchone()
    assert row is not None  # noqa: S101 - INSERT ... RETURNING always returns the row
    return int(row["id"])


def list_tokens(conn: Conn, *, include_revoked: bool = False) -> list[TokenInfo]:
    """API tokens, newest first; revoked ones only when asked for."""
    with conn.cursor(row_factory=class_row(TokenInfo)) as cur:
        return cur.execute(
            "SELECT id, name, role, created_at, created_by, expires_at, last_used_at, revoked_at FROM api_tokens"
            " WHERE %s OR revoked_at IS NULL ORDER BY id DESC", (include_revoked,)).fetchall()


def revoke_token(conn: Conn, token_id: int) -> bool:
    """Revoke one token and end the sessions it opened; False when there is no such live token."""
    row = conn.execute("UPDATE api_tokens SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL"
                       " RETURNING token_sha256", (token_id,)).fetchone()
    if row is None:
        return False
    conn.execute("DELETE FROM sessions WHERE token_sha256 = %s", (row["token_sha256"],))
    return True


def enabled_admin_exists(conn: Conn) -> bool:
    """True once any enabled console user has the admin role (the admin token's bootstrap is then over)."""
    row = conn.execute("SELECT EXISTS (SELECT 1 FROM users WHERE role = 'admin' AND disabled_at IS NULL) AS e"
                       ).fetchone()
    return bool(row and row["e"])


def insert_user(conn: Conn, username: str, display_name: str | None, role: str, password_hash: str) -> None:
    """Add a user; raises ``psycopg.errors.UniqueViolation`` when the name is taken."""
    conn.execute("INSERT INTO users (username, display_name, role, password_hash) VALUES (%s, %s, %s, %s)",
                 (username, display_name, role, password_hash))


def update_user(conn: Conn, username: str, values: Mapping[str, object], *, disabled: bool | None = None) -> bool:
    """Set the given columns (and enable or disable the user); False when there is no such user.

    ``disabled`` is not a column: disabling keeps the first time the user was disabled, enabling clears it.
    """
    parts: list[sql.Composable] = [sql.SQL("updated_at = now()")]
    params: list[object] = []
    if values:
        sets, params = assignments(values)
        parts.append(sets)
    if disabled is not None:
        parts.append(sql.SQL("disabled_at = CASE WHEN %s THEN coalesce(disabled_at, now()) END"))
        params.append(disabled)
    query = sql.SQL("UPDATE users SET {} WHERE username = %s RETURNING username").format(sql.SQL(", ").join(parts))
    return conn.execute(query, [*params, username]).fetchone() is not None


def end_sessions(conn: Conn, username: str) -> None:
    """Sign a user out everywhere (after a change of role or password, or disabling)."""
    conn.execute("DELETE FROM sessions WHERE username = %s", (username,))


def list_users(conn: Conn) -> list[UserRow]:
    """Every console user, by name."""
    with conn.cursor(row_factory=class_row(UserRow)) as cur:
        return cur.execute(
            "SELECT username, display_name, role, created_at, updated_at, disabled_at IS NOT NULL AS disabled"
            " FROM users ORDER BY username"
        ).fetchall()


def credentials(conn: Conn, username: str) -> Credentials | None:
    """The stored hash and state of one user."""
    with conn.cursor(row_factory=class_row(Credentials)) as cur:
        return cur.execute("SELECT username, role, password_hash, disabled_at IS NOT NULL AS disabled FROM users"
                           " WHERE username = %s", (username,)).fetchone()


@dataclass(frozen=True)
class SessionLimits:
    """How long sessions live: ``idle`` slides with use, ``absolute`` counts from sign-in and never moves."""

    idle: timedelta
    absolute: timedelta


def insert_session(conn: Conn, *, id_sha256: str, username: str | None, name: str, role: str, csrf_token: str,
                   limits: SessionLimits, user_agent: str, token_sha256: str | None = None,
                   admin_token: bool = False) -> None:
    """Store a new session, and drop expired ones while at it (a rare, cheap moment for housekeeping).

    A session opened with a bearer token keeps that token's hash, so it ends with the token.
    """
    conn.execute("DELETE FROM sessions WHERE expires_at < now() OR created_at < now() - %s", (limits.absolute,))
    conn.execute(
        "INSERT INTO sessions (id_sha256, username, name, role, csrf_token, expires_at, user_agent, token_sha256,"
        " admin_token) VALUES (%s, %s, %s, %s, %s, now() + LEAST(%s, %s), %s, %s, %s)",
        (id_sha256, username, name, role, csrf_token, limits.idle, limits.absolute, user_agent, token_sha256,
         admin_token),
    )


def live_session(conn: Conn, id_sha256: str, limits: SessionLimits, admin_token_sha256: str | None,
                 *, admin_sessions: bool) -> SessionRow | None:
    """The live session with this id, or None.

    Live means: not idle past ``limits.idle`` (use slides that, written at most once a minute), younger than
    ``limits.absolute``, and its credential still good: a user enabled, an API token not revoked or expired, the
    admin token unchanged (``admin_token_sha256``) and still allowed to hold sessions (``admin_sessions``). A token
    session takes the token's current role.
    """
    with conn.cursor(row_factory=class_row(SessionRow)) as cur:
        return cur.execute(
            "WITH touched AS (UPDATE sessions SET last_seen = now(),"
            "  expires_at = LEAST(now() + %(idle)s, created_at + %(absolute)s)"
            "  WHERE id_sha256 = %(id)s AND expires_at > now() AND last_seen < now() - interval '1 minute')"
            " SELECT s.username, s.name, s.role, s.csrf_token,"
            " CASE WHEN s.username IS NOT NULL THEN"
            "   (SELECT u.role FROM users u WHERE u.username = s.username AND u.disabled_at IS NULL)"
            "  WHEN s.admin_token THEN"
            "   CASE WHEN %(admin_ok)s AND s.token_sha256 = %(admin)s THEN 'admin' END"
            "  ELSE (SELECT t.role FROM api_tokens t WHERE t.token_sha256 = s.token_sha256"
            "   AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()))"
            " END AS user_role"
            " FROM sessions s WHERE s.id_sha256 = %(id)s AND s.expires_at > now()"
            " AND s.created_at > now() - %(absolute)s",
            {"idle": limits.idle, "absolute": limits.absolute, "id": id_sha256, "admin": admin_token_sha256,
             "admin_ok": admin_sessions},
        ).fetchone()


def delete_session(conn: Conn, id_sha256: str) -> None:
    """End one session."""
    conn.execute("DELETE FROM sessions WHERE id_sha256 = %s", (id_sha256,))
