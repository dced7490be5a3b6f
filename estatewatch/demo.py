"""``estatewatch demo``: the whole system on one machine with simulated hardware.

Simulators run as child processes through the CLI, so nothing in the service imports them. Residents live on a fast
clock (one simulated hour every ``RESIDENT_SPEED`` seconds / 3600), with rule hours compressed the same way, so an
elderly resident who stays home raises an alert within minutes instead of a day.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from pathlib import Path

from estatewatch.config import Settings
from estatewatch.runtime import Embedded, embedded_services, serve, settings_env, spawn
from store.migrate import apply_migrations

log = logging.getLogger(__name__)

FOREVER_S = str(365 * 24 * 3600)
RESIDENT_SPEED = 1800.0  # simulated seconds per real second: a day in 48 s
STARTUP_GRACE_S = 4.0  # let the services subscribe before the simulators publish
# one throw per camera per minute of 720p scene, replayed in a loop; the calibration is the scene's own
CAMERA_SCENE = ["--fps", "10", "--resolution", "720p", "--seconds", "60", "--throws", "1", "--seed", "11"]


def _cli(args: list[str], settings: Settings) -> None:
    """Run ``estatewatch ARGS`` to completion (set-up steps of the demo)."""
    subprocess.run([sys.executable, "-m", "estatewatch.cli", *args], env=settings_env(settings), check=True,
                   stdout=subprocess.DEVNULL)


def prepare(settings: Settings, *, cameras: int, residents: int) -> Settings:
    """Seed what the simulators need before the services start: camera calibrations, residents and rules on the
    fast clock."""
    update: dict[str, object] = {}
    if cameras:
        cameras_file = settings.data_dir / "sim" / "cameras.json"
        cameras_file.parent.mkdir(parents=True, exist_ok=True)
        _cli(["simulate", "cameras", "--cameras", str(cameras), *CAMERA_SCENE, "--cameras-out", str(cameras_file)],
             settings)
        update["cameras_file"] = cameras_file
    if residents:
        update["alert_rules_file"] = _prepare_residents(settings, residents)
    return settings.model_copy(update=update)


def _prepare_residents(settings: Settings, residents: int) -> Path:
    sim_dir = settings.data_dir / "sim" / "residents"
    sim_dir.mkdir(parents=True, exist_ok=True)
    _cli(["simulate", "residents", "--out", str(sim_dir), "--residents", str(residents), "--days", "30",
          "--speed", str(RESIDENT_SPEED)], settings)
    _cli(["residents", "import", str(sim_dir / "residents.fast.csv")], settings)
    return sim_dir / "rules.fast.json"


def start_simulators(settings: Settings, started: Embedded, *, cameras: int, sensors: int, residents: int) -> None:
    """Sensors, cameras and residents publishing over MQTT as real hardware would."""
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if sensors:
        started.children.append(spawn(
            ["simulate", "sensors", "--devices", str(sensors), "--rate", str(max(1.0, sensors / 5)),
             "--duration", FOREVER_S, "--malformed-share", "0.01", "--dropouts", "2"],
            logs / "sensors.log", settings))
    if cameras:
        started.children.append(spawn(["simulate", "cameras", *CAMERA_SCENE, "--loop"], logs / "cameras.log", settings))
    if residents:
        sim_dir = settings.data_dir / "sim" / "residents"
        started.children.append(spawn(
            ["simulate", "residents", "--out", str(sim_dir), "--residents", str(residents), "--days", "30",
             "--speed", str(RESIDENT_SPEED), "--mqtt"],
            logs / "residents.log", settings))


def run_demo(settings: Settings, *, cameras: int, sensors: int, residents: int) -> None:
    with embedded_services(settings) as (live, started):
        apply_migrations(live.require_database_url())
        live = prepare(live, cameras=cameras, residents=residents)
        token = live.admin_token.get_secret_value() if live.admin_token else ""
        url = f"http://{live.http_host}:{live.http_port}/"

        def later() -> None:
            time.sleep(STARTUP_GRACE_S)
            start_simulators(live, started, cameras=cameras, sensors=sensors, residents=residents)
            print(f"\nEstateWatch demo is running\n  console:  {url}  (sign in as admin, password: the token)\n"
                  f"  token:    {token}\n  database: {live.database_url}\n  broker:   {live.mqtt_url}\n"
                  f"  logs:     {live.data_dir / 'logs'}\n  press Ctrl+C to stop\n", flush=True)

        threading.Thread(target=later, name="demo-simulators", daemon=True).start()
        serve(live, {"all"})
