"""The ingest component: MQTT in, validated rows out, acknowledged only after they are committed.

The MQTT thread validates and queues; one writer thread drains the queue into batches (size or time bound) and
commits each in one transaction, then acknowledges the batch's messages. A crash or a database outage before the
commit leaves the messages unacknowledged, so the broker redelivers them to the persistent session; writes are
idempotent, so redeliveries are stored once.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections import deque

from common import topics
from common.clock import Clock, WallClock
from common.messages import Accepted, Limits, Rejected, parse
from common.mqtt import Message, Subscriber, shared
from common.retry import retry_until
from common.settings import Settings
from common.topics import Kind
from ingest import metrics
from ingest.batch import Batch
from ingest.retention import run_retention
from ingest.writer import Written, write_batch
from store.db import Pool, connect, make_pool
from store.maintenance import maintain_partitions
from store.registry import DeviceRegistry

log = logging.getLogger(__name__)

MAINTENANCE_EVERY_S = 3600.0
MAX_PENDING = 200_000  # received, not yet committed; past this the MQTT thread waits (back-pressure to the broker)

GC_THRESHOLD = 20_000  # allocations between young-generation collections (the default is 700)

_gc_tuned = False

_Item = tuple[Message, Accepted | Rejected, float]  # the message, its validation, when it arrived (epoch s)


def ingest_filters(site: str, group: str | None) -> list[str]:
    """Everything ingest stores: the sensor, access, unit and device branches (not camera frames)."""
    branches = ("sensor", "access", "unit", "device")
    return [shared(group, topics.branch(site, name)) for name in branches]


def _tune_gc() -> None:
    """Make the cyclic garbage collector cheap for a process that allocates a few objects per message.

    Profiling the ingest path showed the collector costing more than validation: by default it runs every 700
    allocations, and its full passes walk every object loaded at startup (pydantic schemas, psycopg, paho).
    Those live as long as the process, so they are frozen out of collection, and young objects are collected
    less often (the messages of a batch die together after its commit; few of them form cycles anyway).
    """
    global _gc_tuned
    if _gc_tuned:  # once per process: ``serve --role all`` and tests may start several services
        return
    _gc_tuned = True
    gc.collect()
    gc.freeze()
    threshold, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(max(threshold, GC_THRESHOLD), gen1, gen2)


class IngestService:
    """Start with ``start()``; ``stop()`` drains what was received and commits it.

    The MQTT thread and the writer thread share the GIL, so the per-message path is kept lean: no locks (a deque,
    whose append and popleft are atomic, and an Event set only when the writer may be asleep), no Prometheus
    calls (the writer adds up each batch's counts and records them once per batch).
    """

    def __init__(self, settings: Settings, *, clock: Clock | None = None, pool: Pool | None = None) -> None:
        self.settings = settings
        self.clock = clock or WallClock()
        self.limits = Limits.from_settings(settings)
        self._own_pool = pool is None
        self.pool = pool or make_pool(settings.require_database_url(), min_size=1, max_size=2, name="ingest")
        self._pending: deque[_Item] = deque()
        # payload bytes queued = in - out; each counter has one writer thread, so no lock is needed
        self._bytes_in = 0
        self._bytes_out = 0
        self._arrived = threading.Event()  # set by the MQTT thread when it queues into a possibly idle writer
        self._drained = threading.Event()  # set by the writer after taking a batch: room for a waiting producer
        self._stop = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name="ingest-writer", daemon=True)
        self.registry = DeviceRegistry(name="ingest")  # consulted only with EW_REQUIRE_REGISTERED_DEVICES
        self.committed_messages = 0
        client_id = settings.mqtt_client_id or f"ew-ingest-{settings.site}"
        self.subscriber = Subscriber(
            settings.mqtt, ingest_filters(settings.site, settings.ingest_group), self._on_message,
            client_id=client_id, qos=1, persistent=True, manual_ack=True,
        )

    def start(self) -> None:
        """Start the writer before subscribing, so the first redelivered messages find it ready."""
        _tune_gc()
        if self.settings.require_registered_devices:
            # its own short connections, not the pool's: a load must fail fast and recover at once, whatever the
            # pool's reconnect backoff
            self.registry.start(lambda: connect(self.settings.require_database_url()))
        self._writer.start()
        self.subscriber.start()

    def stop(self) -> None:
        """Stop receiving, commit and acknowledge what is queued, then close the pool if this service opened it."""
        self.registry.stop()  # first: releases the network thread if it still waits for the first load
        self.subscriber.stop()
        self._stop.set()
        self._arrived.set()
        self._writer.join(timeout=30)
        if self._own_pool:
            self.pool.close()

    @property
    def queue_depth(self) -> int:
        """Messages received but not yet committed: how far the writer is behind."""
        return len(self._pending)

    @property
    def queue_bytes(self) -> int:
        """Payload bytes received and not yet taken by the writer (bounded by ``EW_INGEST_QUEUE_BYTES``)."""
        return self._bytes_in - self._bytes_out

    def _on_message(self, message: Message) -> None:
        result = parse(message.topic, message.payload, self.clock.now(), self.limits)
        if self.settings.require_registered_devices and type(result) is Accepted:
            judged = self._registration(result)
            if judged is None:
                return  # stopping before the registry ever loaded: unacknowledged, the broker redelivers it
            result = judged
        if type(result) is Rejected:
            log.warning("rejected %s message on %s: %s (%s)", result.kind.value, message.topic[:200], result.reason,
                        result.detail)
        pending = self._pending
        limit = self.settings.ingest_queue_bytes
        while (len(pending) >= MAX_PENDING or (pending and self._bytes_in - self._bytes_out >= limit)) \
                and not self._stop.is_set():  # back-pressure: stop reading the socket, the broker holds the rest
            self._drained.clear()
            if len(pending) >= MAX_PENDING or (pending and self._bytes_in - self._bytes_out >= limit):
                self._drained.wait(0.1)
        self._bytes_in += len(message.payload)
        pending.append((message, result, time.time()))
        if not self._arrived.is_set():
            self._arrived.set()

    def _registration(self, accepted: Accepted) -> Accepted | Rejected | None:
        """Every kind from an unregistered id becomes ``unknown_device``: telemetry and status by device, access by
        gate, door/motion/water by flat. Until the registry first loads, wait (back-pressure): None when stopping.
        """
        if not self.registry.loaded and not self.registry.wait_loaded(self._stop):
            return None
        route = accepted.route
        if self.registry.admits(route.kind, route.entity):
            return accepted
        noun = "unit" if route.kind in (Kind.DOOR, Kind.MOTION, Kind.WATER) else "device"
        return Rejected(route.kind, "unknown_device", f"{noun} {route.entity!r} is not registered")

    def _write_loop(self) -> None:
        last_maintenance = 0.0
        last_retention = 0.0
        while not (self._stop.is_set() and not self._pending):
            items = self._collect()
            now = time.monotonic()
            if now - last_maintenance > MAINTENANCE_EVERY_S:
                last_maintenance = now
                self._maintain()
            if now - last_retention > self.settings.retention_every_s:
                last_retention = now
                self.retain()
            if items:
                self._commit(items)

    def _collect(self) -> list[_Item]:
        """Up to ``batch_max_rows`` messages, waiting at most ``batch_max_wait_ms`` after the first for more."""
        pending = self._pending
        if not pending:
            self._arrived.clear()  # cleared before looking again, so an append from now on sets it
            if not pending and not self._arrived.wait(0.2):
                return []
            if not pending:
                return []
        limit = self.settings.batch_max_rows
        deadline = time.monotonic() + self.settings.batch_max_wait_ms / 1000.0
        while len(pending) < limit and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(remaining, 0.005))
        take = min(len(pending), limit)
        popleft = pending.popleft
        items = [popleft() for _ in range(take)]
        self._bytes_out += sum(len(m.payload) for m, _r, _a in items)
        self._drained.set()
        return items

    def _commit(self, items: list[_Item]) -> None:
        batch = Batch(self.settings.site)
        add = batch.add
        for message, result, received_at_s in items:
            add(message.topic, message.payload, result, received_at_s)
        self._count(batch)
        started = [0.0]

        def write() -> Written:
            started[0] = time.perf_counter()
            with self.pool.connection() as conn, conn.transaction():
                return write_batch(conn, batch)

        # the database is down or restarting: keep the batch and retry; nothing is acknowledged before the commit
        written = retry_until(write, what=f"writing a batch of {len(items)} messages",
                              on_error=lambda _exc: metrics.DB_ERRORS.inc())
        metrics.WRITE_SECONDS.observe(time.perf_counter() - started[0])
        for message, _result, _at in items:  # only now is every message of the batch durable
            message.ack()
        self.committed_messages += len(items)
        metrics.BATCH_ROWS.observe(len(items))
        metrics.ROWS.labels("telemetry").inc(written.telemetry_new)
        metrics.ROWS.labels("events").inc(written.events_new)
        metrics.ROWS.labels("dead_letters").inc(written.dead_letters)
        metrics.DUPLICATES.labels("telemetry").inc(len(batch.telemetry) - written.telemetry_new)
        metrics.QUEUE_DEPTH.set(len(self._pending))

    @staticmethod
    def _count(batch: Batch) -> None:
        """Per-batch totals into ``ew_ingest_messages_total``: one ``labels().inc()`` per kind and reason."""
        for kind, n in batch.accepted.items():
            metrics.MESSAGES.labels(kind, "accepted", "").inc(n)
        for (kind, reason), n in batch.rejected.items():
            metrics.MESSAGES.labels(kind, "rejected", reason).inc(n)

    def _maintain(self) -> None:
        try:
            with self.pool.connection() as conn:
                done = maintain_partitions(conn, ahead_days=self.settings.partitions_ahead_days,
                                           retention_days=self.settings.retention_days)
            if done:
                log.info("partitions: %s", done)
        except Exception:
            log.exception("partition maintenance failed; will retry")

    def retain(self) -> dict[str, int]:
        """One retention pass (dead letters, delivered outbox, evidence files); a failure waits for the next."""
        try:
            with self.pool.connection() as conn:
                done = run_retention(conn, self.settings, self.clock.now())
        except Exception:
            log.exception("retention pass failed; will retry")
            return {}
        if any(done.values()):
            log.info("retention: %s", done)
        return done
