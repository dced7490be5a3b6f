"""Retention on the real database through the ingest role's periodic job: dead letters, dead and delivered outbox
rows and evidence files past their settings go, newer ones stay, and a stored path can never make the purge
delete outside the evidence folder. The SQL is plain (dead_letters, outbox and littering_events are ordinary
tables on plain PostgreSQL and on TimescaleDB alike), so this run on plain PostgreSQL covers both."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from psycopg.types.json import Jsonb

from alerts.intake import raise_alert
from common.settings import Settings
from ingest.service import IngestService
from store.db import Conn, connect
from store.littering import set_evidence
from tests.security.webhook_receiver import smoke
from vision.detector import LitteringEvent
from vision.records import StoredEvent, store_event

NOW = datetime.now(UTC)


def _event(conn: Conn, settings: Settings, age: timedelta, camera: str = "cam-r") -> tuple[str, Path]:
    event_id = uuid.uuid4().hex
    ev = LitteringEvent(camera, 1, 9, 0.1, 0.5, (10.0, 10.0), 3, 0.9, [(1, 10.0, 10.0)], 1)
    store_event(conn, StoredEvent(event_id, settings.site, NOW - age, NOW - age, ev, "A"), None)
    folder = settings.evidence_dir / camera / event_id
    folder.mkdir(parents=True)
    for name in ("snapshot.jpg", "clip.mjpeg", "clip.json", "clip.mp4"):
        (folder / name).write_bytes(b"x")
    set_evidence(conn, event_id, f"{camera}/{event_id}/snapshot.jpg", f"{camera}/{event_id}/clip.json")
    return event_id, folder


def _dead_letter(conn: Conn, at: datetime) -> None:
    conn.execute("INSERT INTO dead_letters (received_at, topic, kind, reason, detail, payload, payload_size)"
                 " VALUES (%s, 't', 'door', 'schema', 'd', '\\x00ff'::bytea, 2)", (at,))


def test_retention_removes_what_is_past_its_settings_and_nothing_else(settings: Settings) -> None:
    settings = settings.model_copy(update={"evidence_retention_days": 30, "dead_letter_retention_days": 14,
                                           "outbox_retention_days": 7})
    db_url = settings.require_database_url()
    outside = settings.data_dir / "keep-me.txt"
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    outside.write_text("not evidence")
    with connect(db_url) as conn, conn.transaction():
        old_event, old_folder = _event(conn, settings, timedelta(days=31))
        new_event, new_folder = _event(conn, settings, timedelta(days=29))
        hostile, _ = _event(conn, settings, timedelta(days=40), camera="cam-h")
        conn.execute("UPDATE littering_events SET snapshot_path = '../../keep-me.txt' WHERE event_id = %s",
                     (hostile,))
        _dead_letter(conn, NOW - timedelta(days=15))
        _dead_letter(conn, NOW - timedelta(days=13))
        raise_alert(conn, smoke(1))
        raise_alert(conn, smoke(2))
        raise_alert(conn, smoke(3))
        ids = [int(r["id"]) for r in conn.execute("SELECT id FROM outbox ORDER BY id").fetchall()]
        assert len(ids) == 3
        conn.execute("UPDATE outbox SET status = 'delivered', delivered_at = %s WHERE id = %s",
                     (NOW - timedelta(days=8), ids[0]))
        conn.execute("UPDATE outbox SET status = 'delivered', delivered_at = %s WHERE id = %s",
                     (NOW - timedelta(days=6), ids[1]))
        conn.execute("UPDATE outbox SET status = 'dead', created_at = %s WHERE id = %s",
                     (NOW - timedelta(days=15), ids[2]))
        conn.execute("INSERT INTO delivery_attempts (outbox_id, at, status_code, error, duration_ms)"
                     " VALUES (%s, %s, 200, NULL, 1)", (ids[0], NOW - timedelta(days=8)))
        conn.execute("UPDATE outbox SET payload = %s WHERE id = %s", (Jsonb({"x": 1}), ids[0]))
    service = IngestService(settings)  # not started: the retention pass alone, as the writer loop runs it
    try:
        done = service.retain()
    finally:
        service.pool.close()
    assert done == {"dead_letters": 1, "dead_deliveries": 1, "delivered_outbox": 1, "evidence_events": 2}
    assert not old_folder.exists()
    assert new_folder.exists()
    assert outside.read_text() == "not evidence"
    assert (settings.evidence_dir / "cam-h" / hostile).exists()  # a path outside its folder: nothing deleted
    with connect(db_url) as conn:
        left = conn.execute("SELECT received_at FROM dead_letters").fetchall()
        assert [r["received_at"] > NOW - timedelta(days=14) for r in left] == [True]
        assert [int(r["id"]) for r in conn.execute("SELECT id FROM outbox ORDER BY id").fetchall()] == [ids[1]]
        assert conn.execute("SELECT count(*) AS n FROM delivery_attempts").fetchone() == {"n": 0}
        paths = {str(r["event_id"]): r["snapshot_path"] for r in conn.execute(
            "SELECT event_id, snapshot_path FROM littering_events").fetchall()}
    assert paths[old_event] is None
    assert paths[hostile] is None
    assert paths[new_event] == f"cam-r/{new_event}/snapshot.jpg"
    assert len(paths) == 3  # the events themselves are kept
