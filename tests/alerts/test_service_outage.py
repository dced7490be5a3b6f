"""A database outage under the live alerts service: the batch is kept and retried until the database is back."""

from __future__ import annotations

import json
import time

import psycopg
from prometheus_client import REGISTRY

from alerts.presence import Resident
from alerts.resident_records import load_states, upsert_residents
from alerts.service import AlertsService
from common.mqtt import BoundedPublisher
from common.settings import Settings
from estatewatch.embedded import EmbeddedPostgres
from store.db import connect
from tests.helpers import wait_until


def _failed_attempts() -> float:
    return REGISTRY.get_sample_value("ew_alerts_events_total", {"kind": "batch", "outcome": "error"}) or 0.0


def _allow_connections(server_url: str, dbname: str, allow: bool) -> None:
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(psycopg.sql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
            psycopg.sql.Identifier(dbname), psycopg.sql.SQL("true" if allow else "false")))
        if not allow:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (dbname,))


def test_a_batch_survives_more_than_five_failed_attempts(settings: Settings, pg_server: EmbeddedPostgres) -> None:
    db_url = settings.require_database_url()
    dbname = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    assert isinstance(dbname, str)
    with connect(db_url) as conn, conn.transaction():
        upsert_residents(conn, settings.site, [Resident("r1", "A-1201", elderly=True, lives_alone=True)],
                         consent=True)
    service = AlertsService(settings, tick_s=0.2)
    service.start()
    publisher = BoundedPublisher(settings.mqtt).start()
    try:
        assert service.wait_connected()
        _allow_connections(pg_server.url, dbname, allow=False)
        before = _failed_attempts()
        publisher.publish(f"estate/{settings.site}/access/north/event", json.dumps(
            {"ts": int(time.time() * 1000), "person": "r1", "direction": "in", "method": "face"}), qos=1)
        publisher.flush()
        wait_until(lambda: _failed_attempts() - before >= 6, timeout=30, what="six failed attempts of the batch")
        _allow_connections(pg_server.url, dbname, allow=True)

        def applied() -> bool:
            with connect(db_url) as conn:
                return load_states(conn, ["r1"], lock=False)["r1"].presence == "home"
        wait_until(applied, what="the kept batch to commit once the database is back")
    finally:
        _allow_connections(pg_server.url, dbname, allow=True)
        service.stop()
        publisher.close()
