"""The outbox dispatcher: delivers outbox rows, webhooks over HTTP and lifecycle messages on ``estate/{site}/alerts``
over MQTT, so none is lost when the receiver, the broker or the service restarts.

MQTT and webhooks run in threads of their own, and webhooks to different endpoints run at the same time (a pool of
``concurrency`` threads, one endpoint per thread at a time, so each endpoint still gets its rows in order): a slow
or silent receiver holds up only its own rows, for at most one attempt's deadline each.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import httpx

from alerts.delivery_policy import RetryPolicy
from alerts.payloads import dumps
from alerts.webhook_delivery import Delivery, deliver_webhook, fail
from alerts.webhook_guard import AddressGuard
from alerts.webhook_secrets import SecretBox, default_box
from common import topics
from common.mqtt import BoundedPublisher
from common.retry import Backoff, StoppedError, retry_until
from store import outbox
from store.db import Conn, connect

log = logging.getLogger(__name__)


def _claim(conn: Conn, channel: str, policy: RetryPolicy, limit: int) -> list[outbox.Claimed]:
    now = datetime.now(UTC)
    return outbox.claim(conn, channel, now, now + timedelta(seconds=policy.lease_s), limit)


def publish_mqtt_rows(conn: Conn, publisher: BoundedPublisher, policy: RetryPolicy, limit: int = 200) -> int:
    """Publish due MQTT rows at QoS 1; mark them delivered only once the broker has acknowledged them all."""
    rows = _claim(conn, "mqtt", policy, limit)
    if not rows:
        return 0
    for row in rows:
        alert = row.payload.get("alert")
        site = str(alert.get("site", "")) if isinstance(alert, dict) else ""
        publisher.publish(topics.alerts(site), dumps(row.payload), qos=1)
    acked = publisher.flush(timeout=10)
    now = datetime.now(UTC)
    with conn.transaction():
        if acked:
            outbox.mark_delivered(conn, [row.id for row in rows], now)
        else:
            for row in rows:
                fail(conn, row, now, "broker did not acknowledge", policy, None)
    return len(rows)


class OutboxDispatcher:
    """Threads that drain the outbox: webhooks over HTTP and (with a publisher) the MQTT alerts topic.

    ``guard`` is the SSRF guard every webhook attempt passes (the alerts service builds it from the settings);
    None means the strictest guard: no private, loopback or link-local receiver, and no allow-list.
    """

    def __init__(self, database_url: str, publisher: BoundedPublisher | None, *,
                 policy: RetryPolicy | None = None, idle_s: float = 0.5, http_timeout_s: float = 10.0,
                 backoff: Backoff | None = None, guard: AddressGuard | None = None, box: SecretBox | None = None,
                 concurrency: int = 8) -> None:
        self.database_url = database_url
        self.publisher = publisher
        self.policy = policy or RetryPolicy()
        self.idle_s = idle_s
        self.backoff = backoff or Backoff(initial_s=0.5, max_s=5.0)
        self.concurrency = concurrency
        # an attempt must end well inside its row's lease, or another dispatcher could take the row meanwhile
        deadline = min(http_timeout_s, self.policy.lease_s / 2)
        # no guard given means the strictest one (no internal receiver), never "trust every address"
        self.delivery = Delivery(guard if guard is not None else AddressGuard(), box or default_box(), deadline)
        self.per_endpoint = max(1, int(self.policy.lease_s // (2 * deadline)))
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._busy: set[str] = set()
        self._busy_lock = threading.Lock()
        self._done = threading.Event()
        self._local = threading.local()
        self._conns: list[Conn] = []  # the pool threads' connections, closed when the dispatcher stops

    def start(self) -> None:
        """Start delivering in background threads (MQTT and webhooks apart)."""
        targets = [("outbox-webhooks", self._run_webhooks)]
        if self.publisher is not None:
            targets.append(("outbox-mqtt", self._run_mqtt))
        for name, target in targets:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Stop after the current attempts."""
        self._stop.set()
        self._done.set()
        for thread in self._threads:
            thread.join(timeout=15 + self.delivery.deadline_s)

    def drain_once(self, conn: Conn, client: httpx.Client | None = None) -> int:
        """One synchronous pass over due rows, one after another; returns how many were attempted.

        For tools and tests; ``client`` is accepted for compatibility and unused (each attempt is pinned).
        """
        del client
        done = 0
        if self.publisher is not None:
            done += publish_mqtt_rows(conn, self.publisher, self.policy)
        gone: set[str] = set()
        for row in _claim(conn, "webhook", self.policy, 50):
            if row.endpoint_id in gone:
                continue  # disabled by a 410 a moment ago: its rows are dead letters already
            if deliver_webhook(conn, row, self.policy, self.delivery) == "gone" and row.endpoint_id is not None:
                gone.add(row.endpoint_id)
            done += 1
        return done

    # ---- MQTT

    def _mqtt_session(self) -> None:
        publisher = self.publisher
        if publisher is None:
            return
        with connect(self.database_url, autocommit=True) as conn:
            while not self._stop.is_set():
                if publish_mqtt_rows(conn, publisher, self.policy) == 0:
                    self._stop.wait(self.idle_s)

    def _run_mqtt(self) -> None:
        try:
            retry_until(self._mqtt_session, what="outbox MQTT", stop=self._stop, backoff=self.backoff)
        except StoppedError:
            return

    # ---- webhooks

    def _webhook_session(self, pool: ThreadPoolExecutor) -> None:
        """Claim due rows of idle endpoints and hand each endpoint's rows to a pool thread; until stopped."""
        with connect(self.database_url, autocommit=True) as conn:
            while not self._stop.is_set():
                with self._busy_lock:
                    busy = set(self._busy)
                free = self.concurrency - len(busy)
                rows: list[outbox.Claimed] = []
                if free > 0:
                    now = datetime.now(UTC)
                    rows = outbox.claim_webhooks(conn, now, now + timedelta(seconds=self.policy.lease_s),
                                                 per_endpoint=self.per_endpoint, limit=free * self.per_endpoint,
                                                 busy=sorted(busy))
                groups: dict[str, list[outbox.Claimed]] = defaultdict(list)
                for row in rows:
                    groups[row.endpoint_id or ""].append(row)
                for endpoint_id, group in groups.items():
                    with self._busy_lock:
                        self._busy.add(endpoint_id)
                    pool.submit(self._deliver_group, endpoint_id, group)
                if not rows:
                    self._done.wait(self.idle_s)
                    self._done.clear()

    def _connection(self) -> Conn:
        conn: Conn | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = connect(self.database_url, autocommit=True)
            self._local.conn = conn
            with self._busy_lock:
                self._conns.append(conn)
        return conn

    def _deliver_group(self, endpoint_id: str, rows: list[outbox.Claimed]) -> None:
        """In a pool thread: one endpoint's rows in order; a failure leaves the rest to come back after the lease."""
        try:
            for row in rows:
                if self._stop.is_set():
                    break
                if deliver_webhook(self._connection(), row, self.policy, self.delivery) == "gone":
                    break  # disabled by the 410: its other rows are dead letters already
        except Exception:  # a restarting database: the rows' leases run out and they are claimed again
            log.exception("webhook delivery to %s failed; its rows come back after their lease", endpoint_id)
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()
            self._local.conn = None
        finally:
            with self._busy_lock:
                self._busy.discard(endpoint_id)
            self._done.set()

    def _run_webhooks(self) -> None:
        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="ew-webhook") as pool, \
                contextlib.suppress(StoppedError):
            retry_until(lambda: self._webhook_session(pool), what="outbox webhooks", stop=self._stop,
                        backoff=self.backoff)
        for conn in self._conns:
            conn.close()
