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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from estatewatch.cli import app
from estatewatch.config import MqttTarget, Settings
from estatewatch.embedded import free_port, wait_for_port
from estatewatch.runtime import ROLES
from ingest.mqtt import BoundedPublisher, Message, Subscriber, shared

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
OURS = {name: svc for name, svc in SERVICES.items() if str(svc.get("image", "")).startswith("estatewatch:")}


def _words_before_options(command: list[str]) -> list[str]:
    """The sub-command words before the first option: ``serve --role ingest`` -> ``serve``."""
    path = []
    for word in command:
        if word.startswith("-"):
            break
        path.append(word)
    return path


def _click_command(path: list[str]) -> Any:
    """The (typer-vendored) click command at ``path``; groups are recognised by their ``commands`` mapping."""
    command: Any = typer.main.get_command(app)
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
    workers = [n for n in OURS if n not in ("migrate", "api")]
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

USERS = {"estatewatch": "svc-secret", "devices": "dev-secret", "integrator": "int-secret"}


@pytest.fixture
def deploy_broker(tmp_path: Path) -> Iterator[int]:
    """deploy/mosquitto/ as shipped, with paths and port moved into tmp_path."""
    if shutil.which("mosquitto_passwd") is None:
        pytest.fail("mosquitto_passwd is missing: install the mosquitto package (make test does)")
    port = free_port()
    passwd = tmp_path / "passwd"
    passwd.touch(mode=0o600)
    for user, password in USERS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True, capture_output=True)
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    conf = re.sub(r"^listener 1883$", f"listener {port} 127.0.0.1", conf, flags=re.M)
    conf = conf.replace("/mosquitto/data/passwd", str(passwd)).replace("/mosquitto/data/", f"{tmp_path}/")
    conf = conf.replace("/mosquitto/config/acl", str(ROOT / "deploy/mosquitto/acl"))
    conf = conf.replace("log_dest stdout", f"log_dest file {tmp_path}/broker.log")
    if os.geteuid() == 0:  # as root, mosquitto would switch to a user that cannot read tmp_path
        conf += "user root\n"
    (tmp_path / "mosquitto.conf").write_text(conf)
    process = subprocess.Popen(["mosquitto", "-c", str(tmp_path / "mosquitto.conf")], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _target(port: int, user: str | None) -> MqttTarget:
    return MqttTarget(host="127.0.0.1", port=port, username=user, password=USERS.get(user or ""))


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


def _collect(port: int, user: str, filters: list[str]) -> tuple[Subscriber, list[Message]]:
    got: list[Message] = []
    lock = threading.Lock()

    def keep(message: Message) -> None:
        with lock:
            got.append(message)

    subscriber = Subscriber(_target(port, user), filters, keep, persistent=False, manual_ack=False)
    subscriber.start()
    assert subscriber.wait_connected()
    return subscriber, got


def test_deployed_broker_refuses_strangers_and_applies_the_acl(deploy_broker: int) -> None:
    port = deploy_broker
    assert _refused(_target(port, None))
    assert _refused(MqttTarget(host="127.0.0.1", port=port, username="devices", password="wrong"))

    ingest, to_ingest = _collect(port, "estatewatch", [shared("ingest", "estate/e1/sensor/#")])
    integrator, to_integrator = _collect(port, "integrator", ["estate/#"])
    snoop, to_device = _collect(port, "devices", ["estate/+/sensor/#", "estate/+/alerts"])
    time.sleep(0.3)  # SUBACKs follow the CONNACKs
    device = BoundedPublisher(_target(port, "devices")).start()
    service = BoundedPublisher(_target(port, "estatewatch")).start()
    device.publish("estate/e1/sensor/temp-1/telemetry", b'{"ts":1,"metrics":{"t":1.0}}')
    device.publish("estate/e1/alerts", b'{"forged":true}')  # devices may not raise alerts
    service.publish("estate/e1/alerts", b'{"type":"new"}')
    device.flush()
    service.flush()
    deadline = time.monotonic() + 5
    while (not to_ingest or not to_integrator) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # anything the ACL wrongly let through would arrive by now
    for client in (ingest, integrator, snoop):
        client.stop()
    device.close()
    service.close()

    assert [m.topic for m in to_ingest] == ["estate/e1/sensor/temp-1/telemetry"]
    assert [(m.topic, m.payload) for m in to_integrator] == [("estate/e1/alerts", b'{"type":"new"}')]
    assert to_device == []
