"""Housekeeping: daily partitions made ahead and old ones dropped on plain PostgreSQL (TimescaleDB has policies),
and retention of dead letters, the delivered outbox and evidence, the same on both (plain tables, plain SQL).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from store.db import Conn, has_timescaledb

PARTITIONED = ("telemetry", "events")


def maintain_partitions(conn: Conn, *, ahead_days: int, retention_days: int) -> dict[str, int]:
    """Make partitions for the next ``ahead_days`` and drop those past retention; no-op on TimescaleDB."""
    if has_timescaledb(conn):
        return {}
    made = dropped = 0
    for table in PARTITIONED:
        row = conn.execute(
            "SELECT ew_ensure_daily_partitions(%s::regclass, current_date - 1, current_date + %s) AS n",
            (table, ahead_days + 1),
        ).fetchone()
        made += int(row["n"]) if row else 0
        row = conn.execute(
            "SELECT ew_drop_daily_partitions(%s::regclass, current_date - %s) AS n", (table, retention_days)
        ).fetchone()
        dropped += int(row["n"]) if row else 0
    return {"made": made, "dropped": dropped}


@dataclass(frozen=True)
class EvidenceFiles:
    """A littering event whose evidence is past retention: its files, relative to the evidence directory."""

    event_id: str
    camera_id: str
    paths: tuple[str, ...]


def purge_rows(conn: Conn, *, dead_letters_before: datetime, outbox_before: datetime) -> dict[str, int]:
    """Delete ingest dead letters and dead webhook deliveries older than ``dead_letters_before``, and delivered
    outbox rows (with their attempts, by cascade) delivered before ``outbox_before``; counts by kind.
    """
    dead = conn.execute("DELETE FROM dead_letters WHERE received_at < %s", (dead_letters_before,)).rowcount
    dead_out = conn.execute("DELETE FROM outbox WHERE status = 'dead' AND created_at < %s",
                            (dead_letters_before,)).rowcount
    delivered = conn.execute("DELETE FROM outbox WHERE status = 'delivered' AND delivered_at < %s",
                             (outbox_before,)).rowcount
    return {"dead_letters": dead, "dead_deliveries": dead_out, "delivered_outbox": delivered}


def expired_evidence(conn: Conn, before: datetime, limit: int = 500) -> list[EvidenceFiles]:
    """Littering events older than ``before`` that still name evidence files, oldest first."""
    rows = conn.execute(
        "SELECT event_id, camera_id, snapshot_path, mjpeg_path, clip_path FROM littering_events"
        " WHERE occurred_at < %s AND (snapshot_path IS NOT NULL OR mjpeg_path IS NOT NULL OR clip_path IS NOT NULL)"
        " ORDER BY occurred_at LIMIT %s", (before, limit)).fetchall()
    return [EvidenceFiles(str(r["event_id"]), str(r["camera_id"]),
                          tuple(str(r[k]) for k in ("snapshot_path", "mjpeg_path", "clip_path") if r[k]))
            for r in rows]


def forget_evidence(conn: Conn, event_ids: list[str]) -> int:
    """The events keep their record (time, floor, track) but no longer name evidence files."""
    return conn.execute("UPDATE littering_events SET snapshot_path = NULL, mjpeg_path = NULL, clip_path = NULL"
                        " WHERE event_id = ANY(%s)", (event_ids,)).rowcount
