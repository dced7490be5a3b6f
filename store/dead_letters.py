"""Rejected messages, kept with their reason so an integrator can see what was wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from psycopg import sql
from psycopg.rows import class_row

from store.db import Conn
from store.filters import Where

KEEP_BYTES = 4096
DeadLetter = tuple[datetime, str, str, str, str, bytes]  # received_at, topic, kind, reason, detail, payload


def insert_dead_letters(conn: Conn, rows: Sequence[DeadLetter]) -> None:
    """Keep rejected messages with their reason; payloads are cut to ``KEEP_BYTES`` (their size is kept)."""
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO dead_letters (received_at, topic, kind, reason, detail, payload, payload_size) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(at, topic[:512], kind, reason, detail[:1000], payload[:KEEP_BYTES], len(payload))
             for at, topic, kind, reason, detail, payload in rows],
        )


@dataclass(frozen=True)
class DeadLetterRow:
    """One rejected message, with the first bytes of what arrived."""

    id: int
    received_at: datetime
    topic: str
    kind: str
    reason: str
    detail: str
    payload_size: int
    payload_head: bytes | None


@dataclass(frozen=True)
class DeadLetterCount:
    """How many messages of one kind were rejected for one reason, and when the last was."""

    kind: str
    reason: str
    n: int
    last: datetime


def recent(conn: Conn, reason: str | None, limit: int) -> list[DeadLetterRow]:
    """Rejected messages, newest first, optionally for one reason; ``payload_head`` is the raw first 512 bytes
    (any bytes at all: how to show them is the caller's choice, the database never has to read them as text).
    """
    where = Where().add_if(reason, "reason = %s")
    query = sql.SQL(
        "SELECT id, received_at, topic, kind, reason, detail, payload_size,"
        " substring(payload from 1 for 512) AS payload_head FROM dead_letters {}"
        " ORDER BY id DESC LIMIT %s"
    ).format(where.clause())
    with conn.cursor(row_factory=class_row(DeadLetterRow)) as cur:
        return cur.execute(query, [*where.params, limit]).fetchall()


def counts(conn: Conn) -> list[DeadLetterCount]:
    """Rejections per kind and reason, the most frequent first."""
    with conn.cursor(row_factory=class_row(DeadLetterCount)) as cur:
        return cur.execute(
            "SELECT kind, reason, count(*) AS n, max(received_at) AS last FROM dead_letters GROUP BY 1, 2"
            " ORDER BY 3 DESC"
        ).fetchall()
