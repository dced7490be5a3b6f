"""``estatewatch demo``: the whole system on one machine with simulated hardware.

Simulators run as child processes through the CLI, so nothing in the service imports them.
"""

from __future__ import annotations

import logging
import time

from estatewatch.config import Settings
from estatewatch.runtime import Embedded, embedded_services, serve, spawn
from store.migrate import apply_migrations

log = logging.getLogger(__name__)

FOREVER_S = str(365 * 24 * 3600)


def start_simulators(settings: Settings, started: Embedded, *, cameras: int, sensors: int, residents: int) -> None:
    """Sensors, cameras and residents publishing over MQTT like real hardware would."""
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    if sensors:
        started.children.append(spawn(
            ["simulate", "sensors", "--devices", str(sensors), "--rate", str(max(1.0, sensors / 5)),
             "--duration", FOREVER_S, "--malformed-share", "0.01", "--dropouts", "2"],
            logs / "sensors.log", settings))
    if cameras:
        started.children.append(spawn(
            ["simulate", "cameras", "--cameras", str(cameras), "--fps", "10", "--resolution", "720p",
             "--seconds", FOREVER_S],
            logs / "cameras.log", settings))
    _ = residents


def run_demo(settings: Settings, *, cameras: int, sensors: int, residents: int) -> None:
    with embedded_services(settings) as (live, started):
        apply_migrations(live.require_database_url())
        start_simulators(live, started, cameras=cameras, sensors=sensors, residents=residents)
        token = live.admin_token.get_secret_value() if live.admin_token else ""
        url = f"http://{live.http_host}:{live.http_port}/"
        print(f"\nEstateWatch demo\n  console:     {url}\n  admin token: {token}\n"
              f"  database:    {live.database_url}\n  broker:      {live.mqtt_url}\n  press Ctrl+C to stop\n",
              flush=True)
        time.sleep(0.1)
        serve(live, {"all"})
