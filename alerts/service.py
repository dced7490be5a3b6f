"""``AlertsService``: the live driver. MQTT in (shared group, manual ack after commit), a due-time tick on wall
time, SLA escalation, and the outbox dispatcher (webhooks + ``estate/{site}/alerts``)."""

from __future__ import annotations

import logging
import queue
import socket
import threading
import time
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from prometheus_client import Counter, Histogram

from alerts.config import AlertsConfig
from alerts.device_rules import DeviceMessage
from alerts.mqtt_out import OutboxDispatcher
from alerts.presence import PresenceEvent
from alerts.processor import Processor
from alerts.repository import escalate_due
from estatewatch.clock import Clock, WallClock
from estatewatch.config import Settings
from ingest.messages import Accepted, AccessPayload, DoorPayload, Limits, MotionPayload, TelemetryPayload, parse
from ingest.mqtt import BoundedPublisher, Message, Subscriber, shared
from ingest.topics import Kind
from store.db import connect

log = logging.getLogger(__name__)

EVENTS = Counter("ew_alerts_events_total", "Messages handled by the alerts service", ["kind", "outcome"])
RAISED = Counter("ew_alerts_raised_total", "Alert raises (new or repeated) by the alerts service")
TICK = Histogram("ew_alerts_tick_seconds", "Duration of one due-time tick (rules + SLA)")

TOPICS = ("access/+/event", "unit/+/door", "unit/+/motion", "unit/+/water", "device/+/status", "sensor/+/telemetry")


def to_presence_event(accepted: Accepted) -> PresenceEvent | None:
    """The rules' view of a validated access / door / motion / water message."""
    p, entity = accepted.payload, accepted.route.entity
    if isinstance(p, AccessPayload):
        return PresenceEvent(accepted.ts, "access", resident=p.person, direction=p.direction, gate=entity,
                             method=p.method)
    if isinstance(p, DoorPayload):
        return PresenceEvent(accepted.ts, "door", unit=entity, state=p.state)
    if isinstance(p, MotionPayload):
        return PresenceEvent(accepted.ts, "motion", unit=entity, sensor=p.sensor)
    if accepted.route.kind is Kind.WATER and p is not None:
        return PresenceEvent(accepted.ts, "water", unit=entity, litres=float(getattr(p, "litres", 0.0)))
    return None


class AlertsService:
    """Start with ``start()`` (non-blocking), stop with ``stop()``. Several processes may run: the shared
    subscription splits messages, ``SKIP LOCKED`` splits due residents and outbox rows.

    Messages are handled in batches (one transaction each, acknowledged after the commit), which is what lets one
    process keep up with thousands of events per second."""

    def __init__(self, settings: Settings, *, clock: Clock | None = None, tick_s: float = 1.0,
                 config: AlertsConfig | None = None, batch_max: int = 500) -> None:
        self.settings = settings
        self.clock = clock or WallClock()
        self.tick_s = tick_s
        self.batch_max = batch_max
        self.config = config or AlertsConfig.load(settings.alert_rules_file)
        self.processor = Processor(settings.site, self.config.rules, self.config.sensors, self.config.sla)
        self.ticker = Processor(settings.site, self.config.rules, self.config.sensors, self.config.sla)
        self.limits = Limits(site=settings.site, max_json_bytes=settings.max_json_bytes,
                             future_tolerance=timedelta(seconds=settings.future_tolerance_s),
                             past_tolerance=timedelta(days=settings.past_tolerance_days),
                             local_tz=ZoneInfo(settings.timezone))
        self._url = settings.require_database_url()
        self._queue: queue.Queue[tuple[Accepted, Message]] = queue.Queue(maxsize=20 * batch_max)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        client_id = f"ew-alerts-{settings.site}-{socket.gethostname()}"[:64]
        filters = [shared(settings.alerts_group, f"estate/{settings.site}/{t}") for t in TOPICS]
        self.subscriber = Subscriber(settings.mqtt, filters, self._on_message, client_id=client_id)
        self.publisher: BoundedPublisher | None = None
        self.dispatcher: OutboxDispatcher | None = None

    def start(self) -> None:
        self.publisher = BoundedPublisher(self.settings.mqtt, max_inflight=500).start(wait=None)
        self.dispatcher = OutboxDispatcher(self._url, self.publisher, policy=self.config.retry)
        self.dispatcher.start()
        for name, target in (("alerts-work", self._work_loop), ("alerts-tick", self._tick_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self.subscriber.start()

    def stop(self) -> None:
        self.subscriber.stop()
        self._stop.set()  # the worker finishes what is queued, then exits
        for thread in self._threads:
            thread.join(timeout=15)
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.publisher is not None:
            self.publisher.close(flush_timeout=5)

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self.subscriber.wait_connected(timeout)

    # ---- inbound

    def _on_message(self, message: Message) -> None:
        result = parse(message.topic, message.payload, self.clock.now(), self.limits)
        if not isinstance(result, Accepted):
            EVENTS.labels(result.kind.value, "rejected").inc()
            message.ack()  # ingest keeps the dead letter; redelivery would not make it valid
            return
        self._queue.put((result, message))  # blocks the network loop when the worker falls behind: back-pressure

    def _next_batch(self) -> list[tuple[Accepted, Message]]:
        try:
            batch = [self._queue.get(timeout=0.2)]
        except queue.Empty:
            return []
        while len(batch) < self.batch_max:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _work_loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not (self._stop.is_set() and self._queue.empty()):
            batch = self._next_batch()
            if not batch:
                continue
            for attempt in range(5):
                try:
                    if conn is None or conn.closed:
                        conn = connect(self._url)
                    with conn.transaction():
                        raised = self.handle_batch(conn, [a for a, _ in batch])
                    break
                except Exception:  # a deadlock or a restarting database: retry the whole batch
                    log.exception("alerts: batch of %d failed (attempt %d)", len(batch), attempt + 1)
                    if conn is not None:
                        conn.close()
                    conn = None
                    time.sleep(min(5.0, 0.2 * 2**attempt))
            else:
                EVENTS.labels("batch", "error").inc(len(batch))
                continue  # not acknowledged: the broker redelivers them after a reconnect
            RAISED.inc(len(raised))
            for accepted, message in batch:
                EVENTS.labels(accepted.route.kind.value, "ok").inc()
                message.ack()
        if conn is not None:
            conn.close()

    def handle_batch(self, conn: psycopg.Connection[Any], batch: list[Accepted]) -> list[str]:
        """Apply validated messages in the caller's transaction: presence events and device messages."""
        now = self.clock.now()
        presence: list[PresenceEvent] = []
        devices: list[DeviceMessage] = []
        for accepted in batch:
            kind, entity = accepted.route.kind, accepted.route.entity
            if kind is Kind.TELEMETRY and isinstance(accepted.payload, TelemetryPayload):
                devices.append(DeviceMessage(entity, accepted.ts, metrics=dict(accepted.payload.metrics)))
            elif kind is Kind.STATUS and accepted.status is not None:
                devices.append(DeviceMessage(entity, accepted.ts, online=accepted.status == "online"))
            else:
                ev = to_presence_event(accepted)
                if ev is not None:
                    presence.append(ev)
        return (self.processor.on_presence_events(conn, presence, now) if presence else []) + \
            self.processor.on_device_messages(conn, devices, now)

    # ---- time

    def tick_once(self, conn: psycopg.Connection[Any]) -> list[str]:
        """One due-time pass: resident and device rules, then SLA escalation."""
        now = self.clock.now()
        with TICK.time(), conn.transaction():
            raised = self.ticker.tick(conn, now)
            escalate_due(conn, now, self.config.sla, site=self.settings.site)
        RAISED.inc(len(raised))
        return raised

    def _tick_loop(self) -> None:
        conn: psycopg.Connection[Any] | None = None
        while not self._stop.wait(self.tick_s):
            try:
                if conn is None or conn.closed:
                    conn = connect(self._url)
                self.tick_once(conn)
            except Exception:  # a database restart, or a bug: log it, keep ticking
                log.exception("alerts tick failed; retrying")
                if conn is not None:
                    conn.close()
                conn = None
        if conn is not None:
            conn.close()
