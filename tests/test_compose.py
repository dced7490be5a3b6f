"""The deployment files, checked by reading (Docker does not run here) and the broker config against real Mosquitto.

Every compose service must run a command the CLI really has, with a role ``serve`` accepts, and every ``EW_*``
variable must be a setting (pydantic-settings ignores unknown ones, so a typo would silently do nothing).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, TypedDict

import pytest
import typer
import yaml
from typer.testing import CliRunner

from common.mqtt import BoundedPublisher, Message, Subscriber, shared
from common.settings import MqttTarget, Settings
from estatewatch.broker_accounts import AccountError, AccountRequest, BrokerAccounts, Kind, service_username
from estatewatch.cli import app
from estatewatch.embedded import free_port, wait_for_port
from estatewatch.production_guard import check
from estatewatch.runtime import ROLES

ROOT = Path(__file__).resolve().parents[1]


class _Service(TypedDict, total=False):
    """The keys of a compose service these tests read."""

    image: str
    build: str
    command: list[str]
    environment: dict[str, str]
    depends_on: dict[str, dict[str, str]]
    hostname: str
    volumes: list[str]
    healthcheck: dict[str, object]


class _Option(Protocol):
    opts: list[str]


class _Command(Protocol):
    """What the tests read of a click command: its parameters' option names."""

    @property
    def params(self) -> Sequence[_Option]: ...


COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, _Service] = COMPOSE["services"]
OURS = {name: svc for name, svc in SERVICES.items() if str(svc.get("image", "")).startswith("estatewatch:")}


def _words_before_options(command: list[str]) -> list[str]:
    """The sub-command words before the first option: ``serve --role ingest`` -> ``serve``."""
    path = []
    for word in command:
        if word.startswith("-"):
            break
        path.append(word)
    return path


def _click_command(path: list[str]) -> _Command:
    """The (typer-vendored) click command at ``path``; groups are recognised by their ``commands`` mapping."""
    command: _Command = typer.main.get_command(app)
    for word in path:
        children = getattr(command, "commands", None)
        assert children is not None, f"{' '.join(path)}: {word!r} is below a plain command"
        command = children.get(word)
        assert command is not None, f"the CLI has no command {' '.join(path)!r}"
    return command


def test_estatewatch_services_use_one_image_built_here() -> None:
    assert {"migrate", "ingest-1", "ingest-2", "alerts", "api"} <= set(OURS)
    assert any(name.startswith("vision") for name in OURS)
    assert {svc["image"] for svc in OURS.values()} == {"estatewatch:${EW_VERSION:-latest}"}
    assert all(svc.get("build") == "." for svc in OURS.values())
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["estatewatch"]' in dockerfile
    assert "FROM python:3.11-slim" in dockerfile


@pytest.mark.parametrize("name", sorted(OURS))
def test_each_service_command_exists_in_the_cli(name: str) -> None:
    command = OURS[name]["command"]
    path = _words_before_options(command)
    result = CliRunner().invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    options = {opt for p in _click_command(path).params for opt in p.opts}
    for word in command[len(path):]:
        if word.startswith("-"):
            assert word in options, f"{name}: {' '.join(path)} has no option {word}"


@pytest.mark.parametrize("name", sorted(n for n, s in OURS.items() if "--role" in s["command"]))
def test_each_role_is_one_serve_accepts(name: str) -> None:
    command = OURS[name]["command"]
    roles = command[command.index("--role") + 1].split(",")
    assert set(roles) <= set(ROLES)
    assert name.split("-")[0] in roles  # services are named after their role


def test_every_ew_variable_is_a_setting() -> None:
    fields = {f"EW_{name.upper()}" for name in Settings.model_fields}
    for name, svc in OURS.items():
        unknown = {key for key in svc["environment"] if key.startswith("EW_")} - fields
        assert not unknown, f"{name} sets variables no setting reads: {sorted(unknown)}"


def test_dependencies_exist_and_every_role_waits_for_migrations() -> None:
    for name, svc in SERVICES.items():
        assert set(svc.get("depends_on", {})) <= set(SERVICES), name
    for name, svc in OURS.items():
        if name != "migrate":
            assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert SERVICES["timescaledb"]["image"].startswith("timescale/timescaledb:")
    assert "healthcheck" in SERVICES["timescaledb"]
    assert "healthcheck" in SERVICES["mosquitto"]


def test_persistent_sessions_have_stable_unique_names_and_partitions_cover_every_camera() -> None:
    ingest = [svc["environment"].get("EW_MQTT_CLIENT_ID") for n, svc in OURS.items() if n.startswith("ingest")]
    assert None not in ingest
    assert len(ingest) == len(set(ingest))
    workers = [n for n in OURS if n not in ("migrate", "broker-accounts", "api")]  # one-shots have no session
    hostnames = [OURS[n].get("hostname") for n in workers]  # alerts names its session after the host
    assert hostnames == workers
    parts = [svc["environment"]["EW_VISION_PARTITION"] for n, svc in OURS.items() if n.startswith("vision")]
    counts = {p.split("/")[1] for p in parts}
    assert len(counts) == 1
    assert sorted(int(p.split("/")[0]) for p in parts) == list(range(int(counts.pop())))


def test_bind_mounted_files_are_in_the_repository() -> None:
    for name, svc in SERVICES.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), f"{name} mounts missing {source}"


# --- the broker configuration of the deployment, on a real Mosquitto -------------------------------------------

SITE = "e1"
SERVICE_PASSWORDS = {Kind.INGEST: "ingest-password-0123456789abc", Kind.ALERTS: "alerts-password-0123456789abc",
                     Kind.API: "api-password-0123456789abcdefg", Kind.INTEGRATOR: "integrator-password-012345678"}


@dataclass
class DeployBroker:
    """deploy/mosquitto/mosquitto.conf as shipped, on the files BrokerAccounts writes, in tmp_path."""

    port: int
    accounts: BrokerAccounts
    device_password: str


@pytest.fixture
def deploy_broker(tmp_path: Path) -> Iterator[DeployBroker]:
    mosquitto = shutil.which("mosquitto")
    if mosquitto is None:
        pytest.fail("mosquitto is missing: install the mosquitto package (make test does)")
    accounts = BrokerAccounts(tmp_path / "auth")
    accounts.set_passwords([(AccountRequest(kind, SITE), pw) for kind, pw in SERVICE_PASSWORDS.items()])
    device = accounts.issue(Kind.SENSOR, SITE, "temp-1")
    port = free_port()
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    conf = re.sub(r"^listener 1883$", f"listener {port} 127.0.0.1", conf, flags=re.M)
    conf = conf.replace("/mosquitto/data/auth/", f"{accounts.directory}/").replace("/mosquitto/data/", f"{tmp_path}/")
    conf = conf.replace("log_dest stdout", f"log_dest file {tmp_path}/broker.log")
    if os.geteuid() == 0:  # as root, mosquitto would switch to a user that cannot read tmp_path
        conf += "user root\n"
    (tmp_path / "mosquitto.conf").write_text(conf)
    # the broker by absolute path, on the configuration written just above
    process = subprocess.Popen([mosquitto, "-c", str(tmp_path / "mosquitto.conf")],  # noqa: S603
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield DeployBroker(port, accounts, device.password)
    finally:
        process.terminate()
        process.wait(10)


def _target(port: int, kind: Kind | None, password: str | None = None) -> MqttTarget:
    if kind is None:
        return MqttTarget(host="127.0.0.1", port=port)
    return MqttTarget(host="127.0.0.1", port=port, username=service_username(kind, SITE),
                      password=password or SERVICE_PASSWORDS[kind])


def _refused(target: MqttTarget) -> bool:
    publisher = BoundedPublisher(target)
    try:
        publisher.start(wait=1.0)
    except ConnectionError:
        return True
    finally:  # stop its network thread, which would otherwise keep retrying for the rest of the session
        publisher.client.disconnect()
        publisher.client.loop_stop()
    return False


def _collect(target: MqttTarget, filters: list[str]) -> tuple[Subscriber, list[Message]]:
    got: list[Message] = []
    lock = threading.Lock()

    def keep(message: Message) -> None:
        with lock:
            got.append(message)

    subscriber = Subscriber(target, filters, keep, persistent=False, manual_ack=False)
    subscriber.start()
    assert subscriber.wait_connected()
    return subscriber, got


def test_deployed_broker_refuses_strangers_and_applies_the_acl(deploy_broker: DeployBroker) -> None:
    port = deploy_broker.port
    assert _refused(_target(port, None))
    assert _refused(_target(port, Kind.INGEST, "wrong-password-0123456789"))
    device_target = MqttTarget(host="127.0.0.1", port=port, username="temp-1",
                               password=deploy_broker.device_password)

    ingest, to_ingest = _collect(_target(port, Kind.INGEST), [shared("ingest", "estate/e1/sensor/#")])
    integrator, to_integrator = _collect(_target(port, Kind.INTEGRATOR), ["estate/e1/alerts"])
    time.sleep(0.3)  # SUBACKs follow the CONNACKs
    device = BoundedPublisher(device_target).start()
    alerts = BoundedPublisher(_target(port, Kind.ALERTS)).start()
    device.publish("estate/e1/sensor/temp-2/telemetry", b'{"ts":1,"metrics":{"t":9.0}}')  # as another device
    device.publish("estate/e1/alerts", b'{"forged":true}')  # devices may not raise alerts
    device.publish("estate/e1/sensor/temp-1/telemetry", b'{"ts":1,"metrics":{"t":1.0}}')
    alerts.publish("estate/e1/alerts", b'{"type":"new"}')
    device.flush()
    alerts.flush()
    deadline = time.monotonic() + 5
    while (not to_ingest or not to_integrator) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # anything the ACL wrongly let through would arrive by now
    for client in (ingest, integrator):
        client.stop()
    device.close()
    alerts.close()

    assert [m.topic for m in to_ingest] == ["estate/e1/sensor/temp-1/telemetry"]
    assert [(m.topic, m.payload) for m in to_integrator] == [("estate/e1/alerts", b'{"type":"new"}')]


def test_set_passwords_is_idempotent(tmp_path: Path) -> None:
    accounts = BrokerAccounts(tmp_path)
    requests = [(AccountRequest(kind, SITE), pw) for kind, pw in SERVICE_PASSWORDS.items()]
    accounts.set_passwords(requests)
    before = accounts.password_file.read_text()
    accounts.set_passwords(requests)
    assert accounts.password_file.read_text() == before  # unchanged passwords keep their hashes
    with pytest.raises(AccountError, match="at least"):
        accounts.set_passwords([(AccountRequest(Kind.VISION, SITE), "short")])


def _fill(value: str) -> str:
    """Compose interpolation as with a complete .env: defaults where given, a strong secret where required."""
    value = re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", value)
    return re.sub(r"\$\{[A-Z_]+:\?[^}]*\}", "Zx8-filled-in-by-dot-env-0123456789", value)


def test_each_role_logs_in_with_its_own_account_and_serve_would_accept_the_settings() -> None:
    ensured = OURS["broker-accounts"]["command"]
    roles = {pair.split("=")[0] for pair in ensured if "=" in pair}
    for name, svc in OURS.items():
        url = svc["environment"].get("EW_MQTT_URL")
        if "--role" not in svc["command"]:
            continue
        role = svc["command"][svc["command"].index("--role") + 1]
        assert url is not None, name
        assert url.startswith(f"mqtt://ew.{role}.${{EW_SITE:-demo}}:"), name
        assert role in roles, f"{name} logs in as ew.{role}.* but broker-accounts does not create it"
        env = {k: v for k, v in svc["environment"].items() if k.startswith("EW_")}
        env = {k: _fill(v) for k, v in env.items()}
        settings = Settings.model_validate({k[3:].lower(): v for k, v in env.items()})
        assert check(settings, {role}) == [], name
    health = str(SERVICES["mosquitto"]["healthcheck"]["test"])
    assert "ew.api." in health
    assert "MQTT_SERVICE_PASSWORD" not in (ROOT / "docker-compose.yml").read_text()
    assert not (ROOT / "deploy/mosquitto/acl").exists()  # the shared accounts are gone


def test_broker_entrypoint_is_valid_shell() -> None:
    shell = shutil.which("sh")
    assert shell is not None
    # the system shell by absolute path, checking syntax only
    done = subprocess.run([shell, "-n", str(ROOT / "deploy/mosquitto/entrypoint.sh")],  # noqa: S603
                          capture_output=True, check=False)
    assert done.returncode == 0, done.stderr
