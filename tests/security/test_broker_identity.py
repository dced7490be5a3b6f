"""Per-device identity on a real Mosquitto: the broker itself refuses spoofing, anonymous and revoked clients.

The broker is started here (not the shared test broker, which allows anonymous clients) with the password and ACL
files that ``BrokerAccounts`` writes, on a free loopback port. Negative checks never sleep: a forged message is
followed by a legitimate one that is published only after the broker acknowledged the forged one, and Mosquitto
queues a message to its subscribers before it acknowledges it, so once the legitimate one has arrived the forged
one would have arrived too.
"""

from __future__ import annotations

import json
import os
import pwd
import queue
import shutil
import stat
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from common import topics
from common.mqtt import BoundedPublisher, Message, Subscriber, connect, make_client
from common.settings import MqttTarget
from estatewatch.broker_accounts import (
    AccountError,
    AccountExistsError,
    AccountRequest,
    BrokerAccounts,
    Issued,
    Kind,
    SignalReloader,
    UnknownAccountError,
    hash_password,
    render_acl,
    verify_password,
)
from estatewatch.embedded import free_port, wait_for_port

SITE = "sec"
WAIT_S = 5.0


@dataclass
class Broker:
    """A Mosquitto of this module's own, enforcing the accounts in ``accounts``."""

    port: int
    process: subprocess.Popen[bytes]
    accounts: BrokerAccounts
    log: Path

    def target(self, issued: Issued | None = None, *, password: str | None = None) -> MqttTarget:
        if issued is None:
            return MqttTarget(host="127.0.0.1", port=self.port)
        return MqttTarget(host="127.0.0.1", port=self.port, username=issued.account.username,
                          password=password if password is not None else issued.password)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    mosquitto = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    assert mosquitto, "these tests need Mosquitto 2 (apt-get install mosquitto); they do not run without it"
    folder = tmp_path_factory.mktemp("secure-broker")
    accounts = BrokerAccounts(folder / "auth")
    accounts.sync(reload=False)  # empty files: the broker must start (and refuse everyone) before any account exists
    port = free_port()
    user = "root" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
    conf = folder / "mosquitto.conf"
    conf.write_text(f"listener {port} 127.0.0.1\n{accounts.mosquitto_config()}user {user}\n"
                    "persistence false\nlog_dest stdout\nlog_type error\nlog_type warning\nlog_type notice\n")
    log = folder / "broker.log"
    with log.open("ab") as out:
        process = subprocess.Popen(  # noqa: S603 (the broker binary with a fixed argument list)
            [mosquitto, "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port)
        accounts.reloader = SignalReloader(pid=process.pid)
        yield Broker(port, process, accounts, log)
    finally:
        process.terminate()
        process.wait(10)


def connect_result(target: MqttTarget, timeout: float = WAIT_S) -> ReasonCode:
    """The broker's CONNACK reason for these credentials (the client is closed again)."""
    answers: queue.Queue[ReasonCode] = queue.Queue()
    client = make_client(target)

    def on_connect(_c: paho.Client, _u: object, _f: paho.ConnectFlags, reason: ReasonCode,
                   _p: Properties | None) -> None:
        answers.put(reason)

    client.on_connect = on_connect
    connect(client, target)
    client.loop_start()
    try:
        return answers.get(timeout=timeout)
    finally:
        client.disconnect()
        client.loop_stop()


def wait_accepted(target: MqttTarget) -> None:
    """An account issued while the broker runs works once the reload is applied: wait for that, bounded."""
    deadline = time.monotonic() + WAIT_S
    while True:
        reason = connect_result(target)
        if not reason.is_failure:
            return
        assert time.monotonic() < deadline, f"still refused after reload: {reason}"
        time.sleep(0.05)


class Inbox:
    """A service account's subscription that collects (topic, payload) in arrival order."""

    def __init__(self, target: MqttTarget, filters: list[str]) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.sub = Subscriber(target, filters, self._on, persistent=False, manual_ack=False)

    def _on(self, message: Message) -> None:
        self.messages.put((message.topic, message.payload))

    def __enter__(self) -> Inbox:
        self.sub.start()
        assert self.sub.wait_connected(WAIT_S), "the service account could not subscribe"
        return self

    def __exit__(self, *_: object) -> None:
        self.sub.stop()

    def until(self, sentinel: bytes) -> list[tuple[str, bytes]]:
        """Everything received up to and including the message whose payload is ``sentinel``."""
        seen: list[tuple[str, bytes]] = []
        while True:
            topic, payload = self.messages.get(timeout=WAIT_S)
            seen.append((topic, payload))
            if payload == sentinel:
                return seen


def telemetry(value: float) -> bytes:
    return json.dumps({"ts": int(time.time() * 1000), "metrics": {"temp_c": value}}).encode()


def publisher(broker: Broker, issued: Issued) -> BoundedPublisher:
    return BoundedPublisher(broker.target(issued), max_inflight=10).start(wait=WAIT_S)


# --- pure checks of the file formats --------------------------------------------------------------------------------

def test_hash_is_mosquitto_pbkdf2_format_and_verifies() -> None:
    encoded = hash_password("correct horse", salt=bytes(range(12)))
    scheme, iterations, salt, digest = encoded.split("$")[1:]
    assert (scheme, iterations, salt) == ("7", "101", "AAECAwQFBgcICQoL")
    assert len(digest) == 88  # 64 bytes in base64
    assert verify_password("correct horse", encoded)
    assert not verify_password("correct horsf", encoded)


def test_acl_names_only_the_account_topics(tmp_path: Path) -> None:
    accounts = BrokerAccounts(tmp_path)
    door = accounts.issue(Kind.UNIT, SITE, "door-7", unit="U-101", leaves=["door"]).account
    cam = accounts.issue(Kind.CAMERA, SITE, "cam-1").account
    text = render_acl([door, cam])
    assert "pattern" not in text
    assert door.topics() == [("write", "estate/sec/unit/U-101/door"), ("write", "estate/sec/device/door-7/status")]
    assert "user cam-1\ntopic write estate/sec/camera/cam-1/frame\ntopic write estate/sec/device/cam-1/status" in text


def test_files_are_private_and_secret_is_not_stored(tmp_path: Path) -> None:
    accounts = BrokerAccounts(tmp_path / "auth")
    issued = accounts.issue(Kind.SENSOR, SITE, "s-1")
    for path in (accounts.registry_file, accounts.password_file, accounts.acl_file):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert issued.password not in path.read_text()
    assert not list((tmp_path / "auth").glob(".passwd.*")), "a temporary file was left behind"
    line = accounts.password_file.read_text().strip()
    assert line.startswith("s-1:$7$")
    assert verify_password(issued.password, line.split(":", 1)[1])
    again = BrokerAccounts(tmp_path / "auth").accounts(SITE)  # the registry persists across instances
    assert [a.username for a in again] == ["s-1"]
    assert "password_hash" not in again[0].public()


@pytest.mark.parametrize(("kind", "device_id", "unit", "leaves", "says"), [
    (Kind.SENSOR, "bad:id", None, None, "no ':'"),
    (Kind.SENSOR, "ew.ingest.sec", None, None, "reserved"),
    (Kind.CAMERA, "cam-1", "U-1", ["door"], "only unit devices"),
    (Kind.UNIT, "door-1", None, ["door"], "unit id"),
    (Kind.UNIT, "door-1", "U-1", ["smoke"], "leaves"),
    (Kind.INGEST, "x", None, None, "takes no device id"),
])
def test_bad_requests_are_refused_with_the_reason(tmp_path: Path, kind: Kind, device_id: str, unit: str | None,
                                                  leaves: list[str] | None, says: str) -> None:
    accounts = BrokerAccounts(tmp_path)
    with pytest.raises(AccountError, match=says):
        accounts.issue(kind, SITE, device_id, unit=unit, leaves=leaves)
    assert accounts.accounts() == []


def test_duplicate_and_unknown_accounts_are_refused(tmp_path: Path) -> None:
    accounts = BrokerAccounts(tmp_path)
    accounts.issue(Kind.GATE, SITE, "gate-1")
    with pytest.raises(AccountExistsError, match="already exists"):
        accounts.issue(Kind.SENSOR, SITE, "gate-1")
    with pytest.raises(UnknownAccountError, match="no account"):
        accounts.revoke("nobody")


def test_a_batch_is_all_or_nothing(tmp_path: Path) -> None:
    accounts = BrokerAccounts(tmp_path)
    accounts.issue(Kind.SENSOR, SITE, "s-2")
    batch = [AccountRequest(Kind.SENSOR, SITE, f"s-{i}") for i in range(1, 4)]  # s-2 exists already
    with pytest.raises(AccountError, match="'s-2' already exists"):
        accounts.issue_many(batch)
    assert [a.username for a in accounts.accounts()] == ["s-2"]
    issued = accounts.issue_many([AccountRequest(Kind.SENSOR, SITE, "s-1"), AccountRequest(Kind.VISION, SITE)])
    assert [i.account.username for i in issued] == ["s-1", "ew.vision.sec"]
    assert len({i.password for i in issued}) == 2


def test_concurrent_issues_all_land(tmp_path: Path) -> None:
    accounts = BrokerAccounts(tmp_path)
    threads = [threading.Thread(target=accounts.issue, args=(Kind.SENSOR, SITE, f"s-{i}")) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(accounts.accounts()) == 8
    assert len(accounts.password_file.read_text().splitlines()) == 8


# --- against the real broker ----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ingest(broker: Broker) -> Issued:
    issued = broker.accounts.issue(Kind.INGEST, SITE)
    wait_accepted(broker.target(issued))
    return issued


def test_device_publishes_its_own_telemetry_to_ingest(broker: Broker, ingest: Issued) -> None:
    device = broker.accounts.issue(Kind.SENSOR, SITE, "s-own")
    wait_accepted(broker.target(device))
    with Inbox(broker.target(ingest), [f"estate/{SITE}/sensor/#"]) as inbox:
        pub = publisher(broker, device)
        body = telemetry(21.5)
        pub.publish(topics.telemetry(SITE, "s-own"), body)
        pub.close()
        assert inbox.until(body) == [(topics.telemetry(SITE, "s-own"), body)]


def test_device_cannot_publish_as_another_device(broker: Broker, ingest: Issued) -> None:
    victim = broker.accounts.issue(Kind.SENSOR, SITE, "s-victim")
    attacker = broker.accounts.issue(Kind.SENSOR, SITE, "s-attacker")
    wait_accepted(broker.target(attacker))
    filters = [f"estate/{SITE}/sensor/#", f"estate/{SITE}/device/#"]
    with Inbox(broker.target(ingest), filters) as inbox:
        pub = publisher(broker, attacker)
        pub.publish(topics.telemetry(SITE, victim.account.username), telemetry(99.0))
        pub.publish(topics.status(SITE, victim.account.username), b"offline")
        sentinel = telemetry(20.0)
        pub.publish(topics.telemetry(SITE, "s-attacker"), sentinel)
        pub.close()
        assert inbox.until(sentinel) == [(topics.telemetry(SITE, "s-attacker"), sentinel)]


def test_camera_cannot_publish_sensor_telemetry(broker: Broker, ingest: Issued) -> None:
    cam = broker.accounts.issue(Kind.CAMERA, SITE, "cam-sec")
    vision = broker.accounts.issue(Kind.VISION, SITE)
    wait_accepted(broker.target(vision))
    with Inbox(broker.target(ingest), [f"estate/{SITE}/sensor/#", f"estate/{SITE}/access/#"]) as sensors, \
            Inbox(broker.target(vision), [topics.frame(SITE, "+")]) as frames:
        pub = publisher(broker, cam)
        pub.publish(topics.telemetry(SITE, "cam-sec"), telemetry(5.0))  # under its own name, on the wrong branch
        pub.publish(topics.access(SITE, "cam-sec"), b'{"ts": 0, "person": "p", "direction": "in", "method": "face"}')
        jpeg = b"\xff\xd8 frame \xff\xd9"
        pub.publish(topics.frame(SITE, "cam-sec"), jpeg)
        pub.close()
        assert frames.until(jpeg) == [(topics.frame(SITE, "cam-sec"), jpeg)]
        sentinel = telemetry(1.0)
        own = broker.accounts.issue(Kind.SENSOR, SITE, "s-after-cam")
        wait_accepted(broker.target(own))
        sensor_pub = publisher(broker, own)
        sensor_pub.publish(topics.telemetry(SITE, "s-after-cam"), sentinel)
        sensor_pub.close()
        assert sensors.until(sentinel) == [(topics.telemetry(SITE, "s-after-cam"), sentinel)]


def test_unit_device_publishes_only_its_unit_and_leaf(broker: Broker, ingest: Issued) -> None:
    door = broker.accounts.issue(Kind.UNIT, SITE, "door-u1", unit="U-1", leaves=["door"])
    wait_accepted(broker.target(door))
    with Inbox(broker.target(ingest), [f"estate/{SITE}/unit/#"]) as inbox:
        pub = publisher(broker, door)
        pub.publish(topics.unit(SITE, "U-1", "motion"), b'{"ts": 0, "sensor": "hall"}')  # its unit, not its leaf
        pub.publish(topics.unit(SITE, "U-2", "door"), b'{"ts": 0, "state": "open"}')  # its leaf, not its unit
        closed = b'{"ts": 0, "state": "closed"}'
        pub.publish(topics.unit(SITE, "U-1", "door"), closed)
        pub.close()
        assert inbox.until(closed) == [(topics.unit(SITE, "U-1", "door"), closed)]


def test_only_the_alerts_role_publishes_alerts(broker: Broker, ingest: Issued) -> None:
    alerts = broker.accounts.issue(Kind.ALERTS, SITE)
    integrator = broker.accounts.issue(Kind.INTEGRATOR, SITE)
    wait_accepted(broker.target(integrator))
    with Inbox(broker.target(integrator), [topics.alerts(SITE)]) as inbox:
        forged = BoundedPublisher(broker.target(ingest), max_inflight=10).start(wait=WAIT_S)
        forged.publish(topics.alerts(SITE), b'{"forged": true}')
        forged.close()
        pub = publisher(broker, alerts)
        pub.publish(topics.alerts(SITE), b'{"state": "new"}')
        pub.close()
        assert inbox.until(b'{"state": "new"}') == [(topics.alerts(SITE), b'{"state": "new"}')]


def test_anonymous_and_wrong_passwords_are_refused(broker: Broker, ingest: Issued) -> None:
    assert connect_result(broker.target()).is_failure
    assert connect_result(broker.target(ingest, password="not-the-secret")).is_failure
    assert not connect_result(broker.target(ingest)).is_failure


def test_revoked_account_is_dropped_and_cannot_reconnect(broker: Broker) -> None:
    device = broker.accounts.issue(Kind.SENSOR, SITE, "s-revoked")
    wait_accepted(broker.target(device))
    connected, dropped = threading.Event(), threading.Event()
    client = make_client(broker.target(device))
    client.on_connect = lambda *_args: connected.set()
    client.on_disconnect = lambda *_args: dropped.set()
    client.reconnect_delay_set(min_delay=30, max_delay=30)  # no reconnect attempt during the test
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        assert connected.wait(WAIT_S)
        broker.accounts.revoke("s-revoked")
        assert dropped.wait(WAIT_S), "the broker kept the revoked account's connection after the reload"
    finally:
        client.loop_stop()
    assert connect_result(broker.target(device)).is_failure
    assert "s-revoked" not in broker.accounts.password_file.read_text()


def test_rotation_retires_the_old_secret(broker: Broker) -> None:
    first = broker.accounts.issue(Kind.GATE, SITE, "gate-rot")
    wait_accepted(broker.target(first))
    second = broker.accounts.rotate("gate-rot")
    wait_accepted(broker.target(second))
    assert connect_result(broker.target(first)).is_failure
