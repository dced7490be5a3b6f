"""The ingest component: MQTT in, validated rows out, acknowledged only after they are committed.

The MQTT thread validates and queues; one writer thread drains the queue into batches (size or time bound) and
commits each in one transaction, then acknowledges the batch's messages. A crash or a database outage before the
commit leaves the messages unacknowledged, so the broker redelivers them to the persistent session; writes are
idempotent, so redeliveries are stored once.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from psycopg_pool import ConnectionPool

from estatewatch.clock import Clock, WallClock
from estatewatch.config import Settings
from ingest import metrics
from ingest.batch import Batch
from ingest.messages import Accepted, Limits, Rejected, parse
from ingest.mqtt import Message, Subscriber, shared
from ingest.topics import Kind
from ingest.writer import write_batch
from store.db import make_pool
from store.devices import registered_ids
from store.maintenance import maintain_partitions

log = logging.getLogger(__name__)

MAINTENANCE_EVERY_S = 3600.0
REGISTRY_REFRESH_S = 15.0


@dataclass(frozen=True)
class _Item:
    message: Message
    result: Accepted | Rejected
    received_at_s: float


def ingest_filters(site: str, group: str | None) -> list[str]:
    """Everything ingest stores: the sensor, access, unit and device branches (not camera frames)."""
    branches = ("sensor", "access", "unit", "device")
    return [shared(group, f"estate/{site}/{branch}/#") for branch in branches]


class IngestService:
    """Start with ``start()``; ``stop()`` drains what was received and commits it."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None, pool: ConnectionPool | None = None) -> None:
        self.settings = settings
        self.clock = clock or WallClock()
        self.limits = Limits(
            site=settings.site,
            max_json_bytes=settings.max_json_bytes,
            future_tolerance=timedelta(seconds=settings.future_tolerance_s),
            past_tolerance=timedelta(days=settings.past_tolerance_days),
            local_tz=ZoneInfo(settings.timezone),
        )
        self._own_pool = pool is None
        self.pool = pool or make_pool(settings.require_database_url(), min_size=1, max_size=2, name="ingest")
        self.queue: queue.Queue[_Item] = queue.Queue(maxsize=200_000)
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name="ingest-writer", daemon=True)
        self._registered: set[str] = set()
        self.committed_messages = 0
        client_id = settings.mqtt_client_id or f"ew-ingest-{settings.site}"
        self.subscriber = Subscriber(
            settings.mqtt, ingest_filters(settings.site, settings.ingest_group), self._on_message,
            client_id=client_id, qos=1, persistent=True, manual_ack=True,
        )

    def start(self) -> None:
        self._refresh_registry()
        self._writer.start()
        self.subscriber.start()

    def stop(self) -> None:
        self.subscriber.stop()
        self._stop.set()
        self._writer.join(timeout=30)
        if self._own_pool:
            self.pool.close()

    def _on_message(self, message: Message) -> None:
        result = parse(message.topic, message.payload, self.clock.now(), self.limits)
        if (
            isinstance(result, Accepted)
            and self.settings.require_registered_devices
            and result.route.kind is Kind.TELEMETRY
            and result.route.entity not in self._registered
        ):
            result = Rejected(Kind.TELEMETRY, "unknown_device", f"device {result.route.entity!r} is not registered")
        kind = result.route.kind.value if isinstance(result, Accepted) else result.kind.value
        if isinstance(result, Rejected):
            metrics.MESSAGES.labels(kind, "rejected", result.reason).inc()
            log.warning("rejected %s message on %s: %s (%s)", kind, message.topic[:200], result.reason, result.detail)
        else:
            metrics.MESSAGES.labels(kind, "accepted", "").inc()
        self.queue.put(_Item(message, result, time.time()))  # blocks when full: back-pressure to the broker
        metrics.QUEUE_DEPTH.set(self.queue.qsize())

    def _write_loop(self) -> None:
        last_maintenance = 0.0
        last_registry = time.monotonic()
        while not (self._stop.is_set() and self.queue.empty()):
            items = self._collect()
            now = time.monotonic()
            if now - last_maintenance > MAINTENANCE_EVERY_S:
                last_maintenance = now
                self._maintain()
            if self.settings.require_registered_devices and now - last_registry > REGISTRY_REFRESH_S:
                last_registry = now
                self._refresh_registry()
            if items:
                self._commit(items)

    def _collect(self) -> list[_Item]:
        try:
            first = self.queue.get(timeout=0.2)
        except queue.Empty:
            return []
        items = [first]
        deadline = time.monotonic() + self.settings.batch_max_wait_ms / 1000.0
        while len(items) < self.settings.batch_max_rows:
            try:
                items.append(self.queue.get_nowait())
                continue
            except queue.Empty:
                pass
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                items.append(self.queue.get(timeout=min(remaining, 0.01)))
            except queue.Empty:
                continue
        return items

    def _commit(self, items: list[_Item]) -> None:
        batch = Batch(self.settings.site)
        for item in items:
            received = datetime.fromtimestamp(item.received_at_s, UTC)
            batch.add(item.message.topic, item.message.payload, item.result, received)
        delay = 0.2
        while True:
            started = time.perf_counter()
            try:
                with self.pool.connection() as conn, conn.transaction():
                    written = write_batch(conn, batch)
                break
            except Exception as exc:  # the database is down or restarting: keep the batch, retry
                metrics.DB_ERRORS.inc()
                log.warning("batch of %d messages not written (%s); retrying in %.1f s", len(items), exc, delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        metrics.WRITE_SECONDS.observe(time.perf_counter() - started)
        metrics.BATCH_ROWS.observe(len(items))
        metrics.ROWS.labels("telemetry").inc(written.telemetry_new)
        metrics.ROWS.labels("events").inc(written.events_new)
        metrics.ROWS.labels("dead_letters").inc(written.dead_letters)
        metrics.DUPLICATES.labels("telemetry").inc(len(batch.telemetry) - written.telemetry_new)
        for item in items:
            item.message.ack()
        self.committed_messages += len(items)
        metrics.QUEUE_DEPTH.set(self.queue.qsize())

    def _maintain(self) -> None:
        try:
            with self.pool.connection() as conn:
                done = maintain_partitions(conn, ahead_days=self.settings.partitions_ahead_days,
                                           retention_days=self.settings.retention_days)
            if done:
                log.info("partitions: %s", done)
        except Exception:
            log.exception("partition maintenance failed; will retry")

    def _refresh_registry(self) -> None:
        if not self.settings.require_registered_devices:
            return
        try:
            with self.pool.connection() as conn:
                self._registered = registered_ids(conn)
        except Exception:
            log.exception("could not load the device registry; keeping the last one")
