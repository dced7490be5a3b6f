"""Device identity in the demo's own configuration: ``embedded_services`` starts Mosquitto with accounts, gives
each service its own, and the demo's sensor fleet logs in device by device, so the broker refuses spoofing there too.

Negative checks never sleep: the forged message is followed by a legitimate one from the same connection, which
Mosquitto handles in order, so once the legitimate row is stored the forged one would have been stored too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from common import topics
from common.mqtt import BoundedPublisher
from common.settings import MqttTarget, Settings, get_settings
from estatewatch.cli import app
from estatewatch.commands.sensors import fleet_credentials
from estatewatch.demo import simulator_settings
from estatewatch.runtime import Embedded, embedded_services, for_role
from ingest.service import IngestService
from simulators.sensor_fleet import FleetOptions, SensorFleet
from tests.helpers import can_login, number, wait_until

WAIT_S = 10.0


@dataclass
class Demo:
    """The demo's embedded broker and ingest, on the test's database."""

    live: Settings
    started: Embedded
    ingest: IngestService

    def target(self, username: str | None = None, password: str | None = None) -> MqttTarget:
        assert self.started.broker is not None
        broker = MqttTarget.parse(self.started.broker.url)
        return broker.model_copy(update={"username": username, "password": password})


@pytest.fixture
def demo(db_url: str, site: str, tmp_path: Path) -> Iterator[Demo]:
    base = Settings(database_url=db_url, mqtt_url=None, site=site, data_dir=tmp_path / "demo", batch_max_wait_ms=50)
    with embedded_services(base) as (live, started):
        ingest = IngestService(for_role(live, "ingest", started.role_urls))
        ingest.start()
        assert ingest.subscriber.wait_connected(WAIT_S), "ingest could not log in with its own account"
        try:
            yield Demo(live, started, ingest)
        finally:
            ingest.stop()


def _publisher(target: MqttTarget) -> BoundedPublisher:
    return BoundedPublisher(target, max_inflight=10).start(wait=WAIT_S)


def _until_login(target: MqttTarget, expected: bool) -> None:
    """A reload (SIGHUP) lands between two turns of the broker's loop: wait, bounded, for it to apply."""
    deadline = time.monotonic() + WAIT_S
    while can_login(target) is not expected:
        assert time.monotonic() < deadline, f"login still {'refused' if expected else 'accepted'} after the reload"


def _reading(seq: int, value: float) -> bytes:
    return json.dumps({"ts": int(time.time() * 1000), "seq": seq, "metrics": {"temperature_c": value}}).encode()


def _rows(db_url: str, device: str, seq: int) -> int:
    return number(db_url, "SELECT count(*) FROM telemetry WHERE device_id = %s AND seq = %s", (device, seq))


def test_demo_broker_has_accounts_for_every_service_and_refuses_anonymous(demo: Demo) -> None:
    broker, accounts = demo.started.broker, demo.started.accounts
    assert broker is not None
    assert accounts is not None
    assert broker.authenticated
    assert set(demo.started.role_urls) == {"ingest", "vision", "alerts", "api", "simulator"}
    users = {MqttTarget.parse(url).username for url in demo.started.role_urls.values()}
    assert len(users) == 5  # five accounts, not one shared one
    assert MqttTarget.parse(demo.live.mqtt_url or "").username == f"ew.api.{demo.live.site}"
    assert not can_login(demo.target())
    assert not can_login(demo.target(f"ew.api.{demo.live.site}", "not-the-secret"))
    assert "allow_anonymous false" in (broker.datadir / "mosquitto.conf").read_text()


def test_demo_fleet_device_cannot_publish_as_another(demo: Demo) -> None:
    sim = simulator_settings(demo.live, demo.started)
    credentials = fleet_credentials(sim, 5)  # what `simulate sensors --own-accounts` does in the demo
    report = SensorFleet(demo.target(), demo.live.site, FleetOptions(devices=5, rate=200.0),
                         credentials=credentials).run(count=10)
    db_url = demo.live.require_database_url()
    wait_until(lambda: number(db_url, "SELECT count(DISTINCT (device_id, seq)) FROM telemetry")
               >= len(report.telemetry), WAIT_S, "the fleet's telemetry")
    attacker, victim = "temp-00000", "smoke-00001"
    pub = _publisher(demo.target(attacker, credentials[attacker]))
    pub.publish(topics.telemetry(demo.live.site, victim), _reading(990_001, 99.0))  # forged: the victim's topic
    pub.publish(topics.telemetry(demo.live.site, attacker), _reading(990_001, 21.0))  # its own: accepted
    pub.close()
    wait_until(lambda: _rows(db_url, attacker, 990_001) > 0, WAIT_S, "the attacker's own reading")
    assert _rows(db_url, victim, 990_001) == 0
    registered = number(db_url, "SELECT count(*) FROM devices WHERE registered AND device_id = ANY(%s)",
                        (list(credentials),))
    assert registered == 5


def test_demo_simulator_account_cannot_raise_alerts_or_impersonate_ingest(demo: Demo) -> None:
    accounts = demo.started.accounts
    assert accounts is not None
    simulator = MqttTarget.parse(demo.started.role_urls["simulator"])
    alerts = MqttTarget.parse(demo.started.role_urls["alerts"])
    alert_topics = {a.username: a.topics() for a in accounts.accounts(demo.live.site)}
    assert ("write", topics.alerts(demo.live.site)) in alert_topics[alerts.username or ""]
    assert ("write", topics.alerts(demo.live.site)) not in alert_topics[simulator.username or ""]
    assert all(access == "read" for access, _ in alert_topics[f"ew.ingest.{demo.live.site}"])


def test_cli_issues_a_device_that_logs_in_and_revokes_it(demo: Demo, monkeypatch: pytest.MonkeyPatch) -> None:
    broker, accounts = demo.started.broker, demo.started.accounts
    assert broker is not None
    assert accounts is not None
    monkeypatch.setenv("EW_BROKER_AUTH_DIR", str(accounts.directory))
    monkeypatch.setenv("EW_BROKER_PID_FILE", str(broker.pid_file))
    monkeypatch.setenv("EW_DATABASE_URL", demo.live.require_database_url())
    monkeypatch.setenv("EW_MQTT_URL", broker.url)
    monkeypatch.setenv("EW_SITE", demo.live.site)
    get_settings.cache_clear()  # the CLI reads its settings once per process
    try:
        issued = CliRunner().invoke(app, ["devices", "issue", "--kind", "gate", "--id", "gate-cli", "--json"])
        assert issued.exit_code == 0, issued.output
        row = json.loads(issued.stdout)[0]
        assert row["username"] == "gate-cli"
        target = MqttTarget.parse(row["mqtt_url"])
        _until_login(target, expected=True)
        listed = CliRunner().invoke(app, ["devices", "list", "--json"])
        assert "gate-cli" in listed.stdout
        assert row["password"] not in listed.stdout
        duplicate = CliRunner().invoke(app, ["devices", "issue", "--kind", "gate", "--id", "gate-cli"])
        assert duplicate.exit_code == 2
        assert "already exists" in duplicate.output
        revoked = CliRunner().invoke(app, ["devices", "revoke", "gate-cli"])
        assert revoked.exit_code == 0, revoked.output
        _until_login(target, expected=False)
    finally:
        get_settings.cache_clear()
