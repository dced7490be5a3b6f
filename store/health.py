"""Whether the database answers: the readiness probe's one query."""

from __future__ import annotations

from store.db import Pool


def ping(pool: Pool, timeout_s: float) -> None:
    """Run a trivial query on a pooled connection; raises when none comes within ``timeout_s`` or the query fails."""
    with pool.connection(timeout=timeout_s) as conn:
        conn.execute("SELECT 1")
