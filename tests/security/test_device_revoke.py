"""Revoking a device account unregisters the device: the broker refuses the account (Mosquitto, reloaded), and
every role's registry refuses the device's id from its next reload, whatever account the messages come through.
Real PostgreSQL and Mosquitto; command line and admin API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from common import topics
from common.mqtt import BoundedPublisher
from common.settings import MqttTarget, Settings, get_settings
from estatewatch.broker_accounts import BrokerAccounts, Kind
from estatewatch.cli import app
from estatewatch.runtime import embedded_services, for_role
from estatewatch.wiring import ApiBrokerAccounts
from ingest.service import IngestService
from store.db import connect
from store.registry import DeviceRegistry
from tests.helpers import ADMIN_TOKEN, can_login, number, wait_until

WAIT_S = 10.0


def _registered(db_url: str, device: str) -> bool:
    return number(db_url, "SELECT count(*) FROM devices WHERE device_id = %s AND registered", (device,)) == 1


def _reading(seq: int) -> bytes:
    return json.dumps({"ts": int(time.time() * 1000), "seq": seq, "metrics": {"temperature_c": 21.0}}).encode()


def _publish(target: MqttTarget, topic: str, payload: bytes) -> None:
    pub = BoundedPublisher(target, max_inflight=10).start(wait=WAIT_S)
    try:
        pub.publish(topic, payload)
    finally:
        pub.close()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()  # the CLI reads its settings once per process
    yield monkeypatch
    get_settings.cache_clear()


def test_cli_revoke_unregisters_the_device_for_every_route_in(db_url: str, site: str, tmp_path: Path,
                                                              cli_env: pytest.MonkeyPatch) -> None:
    base = Settings(database_url=db_url, mqtt_url=None, site=site, data_dir=tmp_path / "demo", batch_max_wait_ms=50,
                    require_registered_devices=True)
    with embedded_services(base) as (live, started):
        assert started.broker is not None
        assert started.accounts is not None
        for name, value in {"EW_BROKER_AUTH_DIR": str(started.accounts.directory),
                            "EW_BROKER_PID_FILE": str(started.broker.pid_file), "EW_DATABASE_URL": db_url,
                            "EW_MQTT_URL": started.broker.url, "EW_SITE": site}.items():
            cli_env.setenv(name, value)
        issued = CliRunner().invoke(app, ["devices", "issue", "--kind", "sensor", "--id", "s-gone", "--json"])
        assert issued.exit_code == 0, issued.output
        device = MqttTarget.parse(json.loads(issued.stdout)[0]["mqtt_url"])
        assert _registered(db_url, "s-gone")
        ingest = IngestService(for_role(live, "ingest", started.role_urls))
        ingest.start()  # its registry loads now: the device is registered
        try:
            assert ingest.subscriber.wait_connected(WAIT_S)
            _publish(device, topics.telemetry(site, "s-gone"), _reading(1))
            wait_until(lambda: number(db_url, "SELECT count(*) FROM telemetry WHERE device_id = 's-gone'") == 1,
                       WAIT_S, "the registered device's reading")

            revoked = CliRunner().invoke(app, ["devices", "revoke", "s-gone"])
            assert revoked.exit_code == 0, revoked.output
            assert "unregistered" in revoked.stdout
            assert not _registered(db_url, "s-gone")
            deadline = time.monotonic() + WAIT_S  # the broker refuses the account from its reload (SIGHUP) on
            while can_login(device):
                assert time.monotonic() < deadline, "the revoked account still logs in"
            # the next registry reload (forced here, every 15 s in service) refuses the id on any account
            with connect(db_url) as conn:
                assert ingest.registry.refresh(conn)
            assert not ingest.registry.known("s-gone")
            _publish(MqttTarget.parse(started.role_urls["simulator"]), topics.telemetry(site, "s-gone"), _reading(2))
            wait_until(lambda: number(db_url, "SELECT count(*) FROM dead_letters WHERE reason = 'unknown_device' "
                                      "AND topic = %s", (topics.telemetry(site, "s-gone"),)) == 1,
                       WAIT_S, "the revoked device's reading refused as unknown_device")
            assert number(db_url, "SELECT count(*) FROM telemetry WHERE device_id = 's-gone'") == 1
        finally:
            ingest.stop()
    unknown = CliRunner().invoke(app, ["devices", "revoke", "s-gone"])  # gone already: an error, nothing changes
    assert unknown.exit_code == 2


def test_api_revoke_unregisters_the_device_and_only_it(settings: Settings, tmp_path: Path) -> None:
    accounts = BrokerAccounts(tmp_path / "broker-auth")
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with TestClient(create_app(settings, broker_accounts=ApiBrokerAccounts(accounts))) as client:
        for body in ({"kind": "camera", "device_id": "cam-gone"}, {"kind": "camera", "device_id": "cam-kept"},
                     {"kind": "unit", "device_id": "door-gone", "unit": "t1-0101", "leaves": ["door"]}):
            assert client.post("/api/v1/broker/accounts", json=body, headers=admin).status_code == 201
        accounts.issue(Kind.INTEGRATOR, settings.site)
        registry = DeviceRegistry(name="test")
        with connect(settings.require_database_url()) as conn:
            assert registry.refresh(conn)
        assert registry.known("cam-gone")
        assert registry.admits("door", "t1-0101")
        for username in ("cam-gone", "door-gone", f"ew.integrator.{settings.site}"):
            assert client.delete(f"/api/v1/broker/accounts/{username}", headers=admin).status_code == 204
    with connect(settings.require_database_url()) as conn:
        assert registry.refresh(conn)
        rows = conn.execute("SELECT device_id, registered FROM devices ORDER BY device_id").fetchall()
    assert rows == [{"device_id": "cam-gone", "registered": False}, {"device_id": "cam-kept", "registered": True},
                    {"device_id": "door-gone", "registered": False}]  # the rows stay, with their history
    assert not registry.known("cam-gone")
    assert registry.known("cam-kept")
    assert not registry.admits("door", "t1-0101")  # the flat's only unit device is gone
