"""PostgreSQL LISTEN/NOTIFY: the one name of the alert-change channel, and the LISTEN side of it.

Alert changes announce themselves with ``pg_notify`` in the transaction that makes them, so a notification reaches
listeners exactly when the change is committed. The API's live stream holds one listening connection per process.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from psycopg import sql

from store.db import Conn, connect

ALERTS_CHANNEL: Final = "ew_alerts"
"""The channel every alert change is announced on (payload: JSON with the alert's id and what changed)."""


def notify(conn: Conn, channel: str, payload: str) -> None:
    """Announce ``payload`` on ``channel`` when the caller's transaction commits."""
    conn.execute("SELECT pg_notify(%s, %s)", (channel, payload))


def listen(url: str, channel: str) -> Conn:
    """Open an autocommit connection that listens on ``channel`` (notifications need no open transaction)."""
    conn = connect(url, autocommit=True)
    try:
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
    except BaseException:
        conn.close()
        raise
    return conn


def payloads(conn: Conn, timeout_s: float) -> Iterator[str]:
    """The payloads that arrive on a listening connection within ``timeout_s``; raises when the connection drops."""
    for note in conn.notifies(timeout=timeout_s):
        yield note.payload
