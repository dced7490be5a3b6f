"""Alert lifecycle messages on ``estate/{site}/alerts``, delivered from the outbox so none is lost on restart."""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime
from typing import Any

import httpx
import psycopg

from alerts.outbox import RetryPolicy, claim, dumps, mark_delivered, mark_retry
from alerts.webhooks import deliver_webhook
from ingest.mqtt import BoundedPublisher
from store.db import connect

log = logging.getLogger(__name__)


def alerts_topic(site: str) -> str:
    return f"estate/{site}/alerts"


def publish_mqtt_rows(conn: psycopg.Connection[Any], publisher: BoundedPublisher, policy: RetryPolicy,
                      limit: int = 200) -> int:
    """Publish due MQTT rows at QoS 1; mark them delivered only once the broker has acknowledged them all."""
    rows = claim(conn, "mqtt", datetime.now(UTC), policy, limit)
    if not rows:
        return 0
    for row in rows:
        site = str(row.payload.get("alert", {}).get("site", ""))
        publisher.publish(alerts_topic(site), dumps(row.payload), qos=1)
    acked = publisher.flush(timeout=10)
    now = datetime.now(UTC)
    with conn.transaction():
        for row in rows:
            if acked:
                mark_delivered(conn, row.id, now)
            else:
                mark_retry(conn, row, now, "broker did not acknowledge", policy, None)
    return len(rows)


class OutboxDispatcher:
    """A thread that drains the outbox: webhooks over HTTP and (with a publisher) the MQTT alerts topic."""

    def __init__(self, database_url: str, publisher: BoundedPublisher | None, *,
                 policy: RetryPolicy | None = None, idle_s: float = 0.5, http_timeout_s: float = 10.0) -> None:
        self.database_url = database_url
        self.publisher = publisher
        self.policy = policy or RetryPolicy()
        self.idle_s = idle_s
        self.http_timeout_s = http_timeout_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def drain_once(self, conn: psycopg.Connection[Any], client: httpx.Client) -> int:
        """One pass over due rows; returns how many were attempted."""
        done = 0
        if self.publisher is not None:
            done += publish_mqtt_rows(conn, self.publisher, self.policy)
        gone: set[str] = set()
        for row in claim(conn, "webhook", datetime.now(UTC), self.policy):
            if row.endpoint_id in gone:
                continue  # disabled by a 410 a moment ago: its rows are dead letters already
            if deliver_webhook(conn, client, row, self.policy) == "gone" and row.endpoint_id is not None:
                gone.add(row.endpoint_id)
            done += 1
        return done

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with connect(self.database_url, autocommit=True) as conn, \
                        httpx.Client(timeout=self.http_timeout_s) as client:
                    while not self._stop.is_set():
                        if self.drain_once(conn, client) == 0:
                            self._stop.wait(self.idle_s)
            except Exception:  # the database may be restarting: wait and reconnect
                log.exception("outbox dispatcher failed; retrying")
                time.sleep(1.0)
