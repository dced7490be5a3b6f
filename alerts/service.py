"""``AlertsService``: the live driver. MQTT in (shared group, manual ack after commit), a due-time tick on wall
time, SLA escalation, and the outbox dispatcher (webhooks + ``estate/{site}/alerts``).

When the database is away, work is kept and retried with backoff (``common.retry``) until it is back: a batch is
acknowledged to the broker only after its transaction committed, so nothing is lost and nothing is dropped.
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from zoneinfo import ZoneInfo

from prometheus_client import Counter, Histogram

from alerts.actions import escalate_due
from alerts.config import AlertsConfig
from alerts.db_driver import Processor
from alerts.outbox_dispatcher import OutboxDispatcher
from alerts.payloads import install_log_redaction
from alerts.presence import PresenceEvent
from alerts.sensor_driver import DeviceMessage
from alerts.webhook_guard import AddressGuard
from alerts.webhook_secrets import SecretBox
from alerts.work_orders import escalate_due_stages
from common.clock import Clock, WallClock
from common.messages import (
    Accepted,
    AccessPayload,
    DoorPayload,
    Limits,
    MotionPayload,
    TelemetryPayload,
    WaterPayload,
    parse,
)
from common.mqtt import BoundedPublisher, Message, Subscriber, shared
from common.retry import Backoff, StoppedError, retry_until
from common.settings import Settings
from common.topics import Kind, subscriptions
from store.db import Conn, connect
from store.registry import DeviceRegistry

log = logging.getLogger(__name__)

EVENTS = Counter("ew_alerts_events_total", "Messages handled by the alerts service", ["kind", "outcome"])
RAISED = Counter("ew_alerts_raised_total", "Alert raises (new or repeated) by the alerts service")
TICK = Histogram("ew_alerts_tick_seconds", "Duration of one due-time tick (rules + SLA)")

KINDS = (Kind.ACCESS, Kind.DOOR, Kind.MOTION, Kind.WATER, Kind.STATUS, Kind.TELEMETRY)
BACKOFF = Backoff(initial_s=0.2, max_s=5.0)


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
    if isinstance(p, WaterPayload):
        return PresenceEvent(accepted.ts, "water", unit=entity, litres=float(p.litres))
    return None


def to_device_message(accepted: Accepted) -> DeviceMessage | None:
    """The sensor rules' view of a validated telemetry or status message."""
    kind, entity = accepted.route.kind, accepted.route.entity
    if kind is Kind.TELEMETRY and isinstance(accepted.payload, TelemetryPayload):
        return DeviceMessage(entity, accepted.ts, metrics=dict(accepted.payload.metrics))
    if kind is Kind.STATUS and accepted.status is not None:
        return DeviceMessage(entity, accepted.ts, online=accepted.status == "online")
    return None


class _Connection:
    """One lazily opened database connection, dropped on failure so the next attempt opens a fresh one."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._conn: Conn | None = None

    def get(self) -> Conn:
        if self._conn is None or self._conn.closed:
            self._conn = connect(self._url)
        return self._conn

    def drop(self, _exc: Exception | None = None) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None


class AlertsService:
    """Start with ``start()`` (non-blocking), stop with ``stop()``. Several processes may run: the shared
    subscription splits messages, ``SKIP LOCKED`` splits due residents and outbox rows.

    Messages are handled in batches (one transaction each, acknowledged after the commit), which is what lets one
    process keep up with thousands of events per second.
    """

    def __init__(self, settings: Settings, *, clock: Clock | None = None, tick_s: float = 1.0,
                 config: AlertsConfig | None = None, batch_max: int = 500) -> None:
        install_log_redaction()  # resident personal data never reaches this role's logs
        self.settings = settings
        self.clock = clock or WallClock()
        self.tick_s = tick_s
        self.batch_max = batch_max
        self.config = config or AlertsConfig.load(settings.alert_rules_file)
        zone = ZoneInfo(settings.timezone)
        self.processor = Processor(settings.site, self.config.rules, self.config.sensors, self.config.sla, tz=zone)
        self.ticker = Processor(settings.site, self.config.rules, self.config.sensors, self.config.sla, tz=zone)
        self.limits = Limits.from_settings(settings)
        self.registry = DeviceRegistry(name="alerts")  # consulted only with EW_REQUIRE_REGISTERED_DEVICES
        self._url = settings.require_database_url()
        self._queue: queue.Queue[tuple[Accepted, Message]] = queue.Queue(maxsize=20 * batch_max)
        self._stop = threading.Event()  # no more input: finish what is queued
        self._abandon = threading.Event()  # stop retrying: what is not committed stays unacknowledged
        self._threads: list[threading.Thread] = []
        client_id = f"ew-alerts-{settings.site}-{socket.gethostname()}"[:64]
        filters = [shared(settings.alerts_group, t) for t in subscriptions(settings.site, KINDS)]
        self.subscriber = Subscriber(settings.mqtt, filters, self._on_message, client_id=client_id)
        self.publisher: BoundedPublisher | None = None
        self.dispatcher: OutboxDispatcher | None = None

    def start(self) -> None:
        """Start the outbox dispatcher, the worker and the tick, then subscribe."""
        self.publisher = BoundedPublisher(self.settings.mqtt, max_inflight=500).start(wait=None)
        self.dispatcher = OutboxDispatcher(
            self._url, self.publisher, policy=self.config.retry,
            http_timeout_s=self.settings.webhook_deadline_s, concurrency=self.settings.webhook_concurrency,
            guard=AddressGuard.from_text(self.settings.webhook_allow_networks),
            box=SecretBox.from_settings(self.settings))
        self.dispatcher.start()
        for name, target in (("alerts-work", self._work_loop), ("alerts-tick", self._tick_loop)):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        if self.settings.require_registered_devices:
            self.registry.start(lambda: connect(self._url))
        self.subscriber.start()

    def stop(self) -> None:
        """Unsubscribe, let the worker finish what is queued (unless the database stays away), stop the rest."""
        self.registry.stop()  # first: releases the network thread if it still waits for the first load
        self.subscriber.stop()
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=15)
        self._abandon.set()  # still retrying after that: give up; the broker redelivers what was not acknowledged
        for thread in self._threads:
            thread.join(timeout=5)
        if self.dispatcher is not None:
            self.dispatcher.stop()
        if self.publisher is not None:
            self.publisher.close(flush_timeout=5)

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until the subscriptions are acknowledged (nothing published afterwards is missed)."""
        return self.subscriber.wait_connected(timeout)

    # ---- inbound

    def _on_message(self, message: Message) -> None:
        result = parse(message.topic, message.payload, self.clock.now(), self.limits)
        if not isinstance(result, Accepted):
            EVENTS.labels(result.kind.value, "rejected").inc()
            message.ack()  # ingest keeps the dead letter; redelivery would not make it valid
            return
        if self.settings.require_registered_devices and not self._registered(result, message):
            return
        self._queue.put((result, message))  # blocks the network loop when the worker falls behind: back-pressure

    def _registered(self, accepted: Accepted, message: Message) -> bool:
        """Whether the sender is registered; a stranger's message is counted and acknowledged, creating no rows and
        no rule state. Until the registry first loads this waits (back-pressure), so a start during a database
        outage refuses nobody; stopping before that leaves the message unacknowledged for redelivery.
        """
        if not self.registry.wait_loaded(self._stop):
            return False
        route = accepted.route
        if self.registry.admits(route.kind, route.entity):
            return True
        EVENTS.labels(route.kind.value, "unknown_device").inc()
        message.ack()  # ingest keeps the dead letter (reason unknown_device)
        return False

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
        conn = _Connection(self._url)
        try:
            while not (self._stop.is_set() and self._queue.empty()):
                batch = self._next_batch()
                if batch:
                    self._commit_batch(conn, batch)
        except StoppedError:
            log.warning("alerts: stopped with an uncommitted batch; the broker redelivers it")
        finally:
            conn.drop()

    def _commit_batch(self, conn: _Connection, batch: list[tuple[Accepted, Message]]) -> None:
        """Handle one batch in one transaction, retried until it commits; then acknowledge its messages."""

        def work() -> list[str]:
            c = conn.get()
            with c.transaction():
                return self.handle_batch(c, [a for a, _ in batch])

        def failed(exc: Exception) -> None:  # a deadlock or a restarting database: retry the whole batch
            EVENTS.labels("batch", "error").inc(len(batch))
            conn.drop(exc)

        raised = retry_until(work, what=f"alerts batch of {len(batch)}", stop=self._abandon, backoff=BACKOFF,
                             on_error=failed)
        RAISED.inc(len(raised))
        for accepted, message in batch:
            EVENTS.labels(accepted.route.kind.value, "ok").inc()
            message.ack()

    def handle_batch(self, conn: Conn, batch: list[Accepted]) -> list[str]:
        """Apply validated messages in the caller's transaction: presence events and device messages."""
        now = self.clock.now()
        presence: list[PresenceEvent] = []
        devices: list[DeviceMessage] = []
        for accepted in batch:
            device = to_device_message(accepted)
            if device is not None:
                devices.append(device)
            elif (ev := to_presence_event(accepted)) is not None:
                presence.append(ev)
        raised = self.processor.on_presence_events(conn, presence, now) if presence else []
        return raised + self.processor.on_device_messages(conn, devices, now)

    # ---- time

    def tick_once(self, conn: Conn) -> list[str]:
        """One due-time pass: resident and device rules, then SLA escalation."""
        now = self.clock.now()
        with TICK.time(), conn.transaction():
            raised = self.ticker.tick(conn, now)
            escalate_due(conn, now, self.config.sla, site=self.settings.site)
            escalate_due_stages(conn, now, self.config.sla, site=self.settings.site)  # work-order stages
        RAISED.inc(len(raised))
        return raised

    def _tick_loop(self) -> None:
        conn = _Connection(self._url)
        try:
            while not self._stop.wait(self.tick_s):
                retry_until(lambda: self.tick_once(conn.get()), what="alerts tick", stop=self._stop,
                            backoff=BACKOFF, on_error=conn.drop)
        except StoppedError:
            pass
        finally:
            conn.drop()
