"""SQL for each console user's preferences (for now the language the console speaks to them)."""

from __future__ import annotations

from store.db import Conn


def get_language(conn: Conn, principal: str) -> str | None:
    """The language this principal chose, or None when they never chose one."""
    row = conn.execute("SELECT language FROM console_preferences WHERE principal = %s", (principal,)).fetchone()
    return str(row["language"]) if row is not None else None


def set_language(conn: Conn, principal: str, language: str) -> None:
    """Remember this principal's language."""
    conn.execute("INSERT INTO console_preferences (principal, language) VALUES (%s, %s) ON CONFLICT (principal)"
                 " DO UPDATE SET language = excluded.language, updated_at = now()", (principal, language))
