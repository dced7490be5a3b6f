"""Connections and pools over psycopg 3."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool


def connect(url: str, *, autocommit: bool = False) -> psycopg.Connection[dict[str, object]]:
    """One connection whose rows come back as dicts."""
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row)


def make_pool(url: str, *, min_size: int = 1, max_size: int = 8, name: str = "estatewatch") -> ConnectionPool:
    """A pool that checks connections on checkout, so a restarted database heals by itself."""
    pool: ConnectionPool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        name=name,
        kwargs={"row_factory": dict_row},
        check=ConnectionPool.check_connection,
        open=False,
        reconnect_timeout=3600,
    )
    pool.open(wait=False)
    return pool


@contextmanager
def transaction(pool: ConnectionPool) -> Iterator[psycopg.Connection[dict[str, object]]]:
    """Check out a connection and run the body in one transaction."""
    with pool.connection() as conn, conn.transaction():
        yield conn  # type: ignore[misc]


def has_timescaledb(conn: psycopg.Connection[dict[str, object]]) -> bool:
    """True when the TimescaleDB extension is installed or installable in this server."""
    row = conn.execute("SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    return row is not None
