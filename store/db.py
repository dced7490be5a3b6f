"""Connections and pools over psycopg 3, typed so every row is a ``dict[str, Any]`` to mypy as it is at run time."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeAlias

import psycopg
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool

Conn: TypeAlias = psycopg.Connection[DictRow]
"""A connection whose rows are dicts: the only kind EstateWatch opens."""

Pool: TypeAlias = ConnectionPool[Conn]
"""A pool of such connections."""


def connect(url: str, *, autocommit: bool = False) -> Conn:
    """Open one connection whose rows come back as dicts."""
    return psycopg.connect(url, autocommit=autocommit, row_factory=dict_row)


def make_pool(url: str, *, min_size: int = 1, max_size: int = 8, name: str = "estatewatch") -> Pool:
    """Open a pool that checks connections on checkout, so a restarted database heals by itself."""
    pool: Pool = ConnectionPool(
        url,
        connection_class=Conn,
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
def transaction(pool: Pool) -> Iterator[Conn]:
    """Check out a connection and run the body in one transaction."""
    with pool.connection() as conn, conn.transaction():
        yield conn


def has_timescaledb(conn: Conn) -> bool:
    """Tell whether the TimescaleDB extension is installed or installable in this server."""
    row = conn.execute("SELECT 1 AS ok FROM pg_available_extensions WHERE name = 'timescaledb'").fetchone()
    return row is not None
