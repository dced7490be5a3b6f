"""The MQTT edge: one place that builds paho-mqtt 2.x clients, subscribes, acknowledges and publishes with bounds.

Production code receives ``Message`` objects or calls ``BoundedPublisher.publish`` and never imports paho, so a
different broker client would be one file. Only the sensor fleet simulator (its own connect callbacks) and the
ingest bench (its raw-paho baseline) use paho types next to these helpers.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from common.settings import MqttTarget

log = logging.getLogger(__name__)

SESSION_EXPIRY_S = 7 * 24 * 3600


class Message:
    """One received message; ``ack()`` tells the broker it is safely handled (QoS 1 with manual acks).

    A plain ``__slots__`` class rather than a frozen dataclass: one is built per received message on the network
    thread, and a frozen dataclass's ``__init__`` costs several times more.
    """

    __slots__ = ("_client", "mid", "payload", "qos", "retain", "topic", "user_properties")

    def __init__(self, topic: str, payload: bytes, qos: int, mid: int, user_properties: tuple[tuple[str, str], ...],
                 retain: bool, _client: paho.Client | None = None) -> None:
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.mid = mid
        self.user_properties = user_properties
        self.retain = retain
        self._client = _client

    def __repr__(self) -> str:
        return f"Message(topic={self.topic!r}, qos={self.qos}, mid={self.mid}, bytes={len(self.payload)})"

    def ack(self) -> None:
        """Tell the broker this message is durably handled, so it is not redelivered after a reconnect."""
        if self._client is not None and self.qos > 0:
            self._client.ack(self.mid, self.qos)

    def user_property(self, name: str) -> str | None:
        """The first MQTT 5 user property called ``name`` (frames carry their timestamp this way), or None."""
        for key, value in self.user_properties:
            if key == name:
                return value
        return None


def shared(group: str | None, topic_filter: str) -> str:
    """``$share/<group>/<filter>`` so that processes of one group split the messages; plain filter without a group."""
    return f"$share/{group}/{topic_filter}" if group else topic_filter


def make_client(
    target: MqttTarget,
    client_id: str | None = None,
    *,
    persistent: bool = False,
    manual_ack: bool = False,
    will: tuple[str, bytes] | None = None,
) -> paho.Client:
    """A paho client for MQTT 5 with reconnect backoff; ``persistent`` keeps the session across reconnects."""
    client = paho.Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id or f"ew-{uuid.uuid4().hex[:12]}",
        protocol=paho.MQTTv5,
        manual_ack=manual_ack,
    )
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set()
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    client.max_queued_messages_set(0)
    if will is not None:
        client.will_set(will[0], will[1], qos=1, retain=True)
    client.user_data_set({"persistent": persistent})
    return client


def _properties(packet_type: int) -> Properties:
    """MQTT 5 properties for one packet type; the one call into paho's untyped constructor."""
    return Properties(packet_type)


def connect(client: paho.Client, target: MqttTarget, *, persistent: bool = False, keepalive: int = 30) -> None:
    """Connect (asynchronously: the network loop retries until the broker answers)."""
    props = _properties(PacketTypes.CONNECT)
    props.SessionExpiryInterval = SESSION_EXPIRY_S if persistent else 0
    client.connect_async(target.host, target.port, keepalive=keepalive, clean_start=not persistent,
                         properties=props)


class Subscriber:
    """Subscribes to topic filters (again after every reconnect) and hands each message to ``handler``.

    With ``manual_ack`` the handler (or whoever it passes the message to) must call ``Message.ack()`` once the
    message is durably handled; until then the broker redelivers it after a reconnect.
    """

    def __init__(
        self,
        target: MqttTarget,
        filters: Sequence[str],
        handler: Callable[[Message], None],
        *,
        client_id: str | None = None,
        qos: int = 1,
        persistent: bool = True,
        manual_ack: bool = True,
    ) -> None:
        self.target = target
        self.filters = list(filters)
        self.handler = handler
        self.qos = qos
        self.persistent = persistent
        self.connected = threading.Event()
        self.client = make_client(target, client_id, persistent=persistent, manual_ack=manual_ack)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    def start(self) -> None:
        """Connect and run the network loop on its own thread; subscriptions follow each connect."""
        connect(self.client, self.target, persistent=self.persistent)
        self.client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop the network loop; unacknowledged messages stay with the broker."""
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until connected and the broker has acknowledged the subscriptions."""
        return self.connected.wait(timeout)

    def _on_connect(self, client: paho.Client, _ud: object, flags: paho.ConnectFlags, reason: ReasonCode,
                    _props: Properties | None) -> None:
        if reason.is_failure:
            log.warning("MQTT connect refused: %s", reason)
            return
        log.info("MQTT connected (session present: %s)", flags.session_present)
        client.subscribe([(f, self.qos) for f in self.filters])

    def _on_subscribe(self, _c: paho.Client, _ud: object, _mid: int, reasons: list[ReasonCode],
                      _props: Properties | None) -> None:
        refused = [f for f, r in zip(self.filters, reasons, strict=False) if r.is_failure]
        if refused:
            log.error("broker refused subscriptions %s", refused)
        self.connected.set()  # only now can no message published to our filters be missed

    def _on_disconnect(self, _c: paho.Client, _ud: object, _flags: paho.DisconnectFlags, reason: ReasonCode,
                       _props: Properties | None) -> None:
        self.connected.clear()
        if reason.value == 0:
            log.info("MQTT disconnected")
        else:
            log.warning("MQTT disconnected: %s; reconnecting with backoff", reason)

    def _on_message(self, client: paho.Client, _ud: object, msg: paho.MQTTMessage) -> None:
        props = getattr(msg, "properties", None)
        user_props = tuple(getattr(props, "UserProperty", None) or ())
        message = Message(msg.topic, bytes(msg.payload), msg.qos, msg.mid, user_props, bool(msg.retain), client)
        try:
            self.handler(message)
        except Exception:  # a bug in one handler must not kill the network loop
            log.exception("handler failed for a message on %s", msg.topic)


class BoundedPublisher:
    """Publishes with at most ``max_inflight`` unacknowledged QoS 1 messages (back-pressure: ``publish`` waits).

    paho queues without limit and stalls past 65,535 messages in flight, so every publisher in EstateWatch,
    simulators included, goes through this class.
    """

    def __init__(
        self,
        target: MqttTarget,
        client_id: str | None = None,
        *,
        max_inflight: int = 1000,
        will: tuple[str, bytes] | None = None,
        persistent: bool = False,
    ) -> None:
        self.target = target
        self.persistent = persistent
        self._slots = threading.BoundedSemaphore(max_inflight)
        self._max = max_inflight
        self._lock = threading.Lock()
        self._pending: set[int] = set()
        self._acked_early: set[int] = set()
        self.connected = threading.Event()
        self.client = make_client(target, client_id, persistent=persistent, will=will)
        self.client.max_inflight_messages_set(min(max_inflight, 65000))
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish

    def start(self, wait: float | None = 10.0) -> BoundedPublisher:
        """Connect and start the network loop; with ``wait``, fail fast when no broker answers in time.

        Raises:
            ConnectionError: no broker acknowledged the connection within ``wait`` seconds.
        """
        connect(self.client, self.target, persistent=self.persistent)
        self.client.loop_start()
        if wait is not None and not self.connected.wait(wait):
            raise ConnectionError(f"no MQTT broker answered at {self.target.host}:{self.target.port}")
        return self

    def publish(
        self,
        topic: str,
        payload: bytes | str,
        *,
        qos: int = 1,
        retain: bool = False,
        user_properties: Sequence[tuple[str, str]] = (),
        timeout: float | None = None,
    ) -> bool:
        """Publish; block while ``max_inflight`` QoS>0 messages are unacknowledged. False on timeout."""
        props = None
        if user_properties:
            props = _properties(PacketTypes.PUBLISH)
            props.UserProperty = list(user_properties)
        if qos == 0:
            self.client.publish(topic, payload, qos=0, retain=retain, properties=props)
            return True
        if not self._slots.acquire(timeout=timeout):  # None blocks; Semaphore treats -1 as "do not wait"
            return False
        # paho's own lock is held while it calls on_publish: never call into paho while holding ours.
        info = self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)
        with self._lock:
            if info.mid in self._acked_early:  # the broker answered before we got here
                self._acked_early.discard(info.mid)
                release = True
            else:
                self._pending.add(info.mid)
                release = False
        if release:
            self._slots.release()
        return True

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every QoS>0 message is acknowledged by the broker."""
        acquired = 0
        deadline = time.monotonic() + timeout
        try:
            for _ in range(self._max):
                if not self._slots.acquire(timeout=max(0.0, deadline - time.monotonic())):
                    return False
                acquired += 1
            return True
        finally:
            for _ in range(acquired):
                self._slots.release()

    @property
    def in_flight(self) -> int:
        """How many QoS 1 messages the broker has not acknowledged yet (back-pressure, in metrics)."""
        with self._lock:
            return len(self._pending)

    def close(self, flush_timeout: float = 30.0) -> None:
        """Wait up to ``flush_timeout`` for outstanding acknowledgements, then disconnect."""
        self.flush(flush_timeout)
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, _c: paho.Client, _ud: object, _f: paho.ConnectFlags, reason: ReasonCode,
                    _p: Properties | None) -> None:
        if not reason.is_failure:
            self.connected.set()

    def _on_disconnect(self, _c: paho.Client, _ud: object, _f: paho.DisconnectFlags, _r: ReasonCode,
                       _p: Properties | None) -> None:
        self.connected.clear()

    def _on_publish(self, _c: paho.Client, _ud: object, mid: int, _r: ReasonCode, _p: Properties) -> None:
        with self._lock:
            if mid not in self._pending:
                self._acked_early.add(mid)
                return
            self._pending.discard(mid)
        self._slots.release()
