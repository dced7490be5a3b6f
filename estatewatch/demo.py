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

from common.settings import Settings
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
    # our own CLI under this interpreter (an absolute path), with arguments the demo itself builds
    subprocess.run([sys.executable, "-m", "estatewatch.cli", *args], env=settings_env(settings), check=True,  # noqa: S603
                   stdout=subprocess.DEVNULL)


def prepare(settings: Settings, *, cameras: int, residents: int) -> Settings:
    """Seed what the simulators need before the services start: camera calibrations, residents and rules on the
    fast clock.
    """
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


def simulator_settings(settings: Settings, started: Embedded) -> Settings:
    """What the simulators run with: the simulator account, and for the sensor fleet the right to issue each of
    its devices an account of its own (the registry folder and the broker's pid file, for the reload).
    """
    if started.accounts is None or started.broker is None:
        return settings  # a broker of the operator's, or the anonymous fallback broker
    return settings.model_copy(update={"mqtt_url": started.role_urls["simulator"],
                                       "broker_auth_dir": started.accounts.directory,
                                       "broker_pid_file": started.broker.pid_file})


def start_simulators(settings: Settings, started: Embedded, *, cameras: int, sensors: int, residents: int) -> None:
    """Sensors, cameras and residents publishing over MQTT as real hardware would.

    On the demo's own broker every sensor logs in as itself (``--own-accounts``), so the broker holds each to its
    own topics exactly as in production; cameras and residents publish with the simulator's service account.
    """
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    settings = simulator_settings(settings, started)
    if sensors:
        own = ["--own-accounts"] if started.accounts is not None else []
        started.children.append(spawn(
            ["simulate", "sensors", "--devices", str(sensors), "--rate", str(max(1.0, sensors / 5)),
             "--duration", FOREVER_S, "--malformed-share", "0.01", "--dropouts", "2", *own],
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
    """Start embedded services, seed them, start the simulators after a grace period and serve until Ctrl+C."""
    with embedded_services(settings) as (live, started):
        apply_migrations(live.require_database_url())
        live = prepare(live, cameras=cameras, residents=residents)
        token = live.admin_token.get_secret_value() if live.admin_token else ""
        url = f"http://{live.http_host}:{live.http_port}/"
        broker = started.broker.url if started.broker else "(EW_MQTT_URL)"
        if started.accounts is not None:
            broker += f"  (one account per device and service: estatewatch devices list, {started.accounts.directory})"

        def later() -> None:
            time.sleep(STARTUP_GRACE_S)
            start_simulators(live, started, cameras=cameras, sensors=sensors, residents=residents)
            print(f"\nEstateWatch demo is running\n  console:  {url}  (sign in as admin, password: the token)\n"
                  f"  token:    {token}\n  database: {live.database_url}\n  broker:   {broker}\n"
                  f"  logs:     {live.data_dir / 'logs'}\n  press Ctrl+C to stop\n", flush=True)

        threading.Thread(target=later, name="demo-simulators", daemon=True).start()
        serve(live, {"all"}, role_urls=started.role_urls, broker_accounts=started.accounts)
