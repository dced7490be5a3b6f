"""Who is calling and what they may do: roles viewer < operator < admin.

A caller proves who they are with a bearer token: the admin token from ``EW_ADMIN_TOKEN``, or a token stored
(hashed) in ``api_tokens``. The console's session cookies resolve to the same ``Principal``.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Literal

from psycopg_pool import ConnectionPool

Role = Literal["viewer", "operator", "admin"]
ROLE_RANK: dict[str, int] = {"viewer": 0, "operator": 1, "admin": 2}


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
