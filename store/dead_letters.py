"""Rejected messages, kept with their reason so an integrator can see what was wrong."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import psycopg

KEEP_BYTES = 4096
DeadLetter = tuple[datetime, str, str, str, str, bytes]  # received_at, topic, kind, reason, detail, payload


def insert_dead_letters(conn: psycopg.Connection[Any], rows: Sequence[DeadLetter]) -> None:
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO dead_letters (received_at, topic, kind, reason, detail, payload, payload_size) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(at, topic[:512], kind, reason, detail[:1000], payload[:KEEP_BYTES], len(payload))
             for at, topic, kind, reason, detail, payload in rows],
        )


def recent(conn: psycopg.Connection[Any], reason: str | None, limit: int) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT id, received_at, topic, kind, reason, detail, payload_size, "
        "convert_from(substring(payload from 1 for 512), 'SQL_ASCII') AS payload_head FROM dead_letters "
        "WHERE (%s::text IS NULL OR reason = %s) ORDER BY id DESC LIMIT %s",
        (reason, reason, limit),
    ).fetchall()


def counts(conn: psycopg.Connection[Any]) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT kind, reason, count(*) AS n, max(received_at) AS last FROM dead_letters GROUP BY 1, 2 ORDER BY 3 DESC"
    ).fetchall()
