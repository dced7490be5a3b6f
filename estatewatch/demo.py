"""``estatewatch demo``: the whole system on one machine with simulated hardware.

Simulators run as child processes through the CLI, so nothing in the service imports them. Residents live on a fast
clock (one simulated hour every ``RESIDENT_SPEED`` seconds / 3600), with rule hours compressed the same way, so an
elderly resident who stays home raises an alert within minutes instead of a day.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from alerts.responder_seed import seed_demo_responders
from common.settings import Settings
from estatewatch.demo_entrance import take_over_gates
from estatewatch.runtime import Embedded, embedded_services, serve, settings_env, spawn
from store.db import connect
from store.migrate import apply_migrations

log = logging.getLogger(__name__)

FOREVER_S = str(365 * 24 * 3600)
RESIDENT_SPEED = 600.0  # simulated seconds per real second: a day in 2 min 24 s
STARTUP_GRACE_S = 4.0  # let the services subscribe before the simulators publish
# The estate: the resident simulator's six buildings, in two rows of three on the site plan. The first towers get
# a facade camera each (``--cameras``); a tower without one shows its residents' and sensors' alerts all the same.
TOWERS = ("A", "B", "C", "D", "E", "F")
UNITS_PER_FLOOR = 4  # the resident simulator numbers units 01-04 on every floor
# One camera simulator process for all cameras (frames interleaved, each camera its own scene: seed 11, 12, ...),
# 720p at 10 fps: about 8 ms of rendering and encoding per frame, so four cameras take a third of a core. Each
# five-minute loop throws two objects per camera from floors and columns drawn from its seed.
CAMERA_SCENE = ["--fps", "10", "--resolution", "720p", "--seconds", "300", "--throws", "2", "--seed", "11"]


def camera_args(cameras: int) -> list[str]:
    """The camera simulator's scene arguments: the same for writing the calibrations and for streaming, so every
    registered camera streams the scene its calibration was written for.
    """
    return ["--cameras", str(cameras), *CAMERA_SCENE]


def _cli(args: list[str], settings: Settings) -> None:
    """Run ``estatewatch ARGS`` to completion (set-up steps of the demo)."""
    # our own CLI under this interpreter (an absolute path), with arguments the demo itself builds
    subprocess.run([sys.executable, "-m", "estatewatch.cli", *args], env=settings_env(settings), check=True,  # noqa: S603
                   stdout=subprocess.DEVNULL)


def prepare(settings: Settings, *, cameras: int, residents: int) -> Settings:
    """Seed what the simulators need before the services start: camera calibrations named after their towers,
    the estate's site plan, residents and rules on the fast clock.
    """
    update: dict[str, object] = {}
    if cameras:
        if cameras > len(TOWERS):
            raise ValueError(f"the demo estate has {len(TOWERS)} towers: at most {len(TOWERS)} cameras")
        cameras_file = settings.data_dir / "sim" / "cameras.json"
        cameras_file.parent.mkdir(parents=True, exist_ok=True)
        _cli(["simulate", "cameras", *camera_args(cameras), "--cameras-out", str(cameras_file)], settings)
        update["cameras_file"] = cameras_file
        configs = _name_cameras(cameras_file)
    else:
        configs = []
    update["estate_file"] = write_estate_plan(settings.data_dir / "sim" / "estate.json", configs)
    if residents:
        update["alert_rules_file"] = _prepare_residents(settings, residents)
    return settings.model_copy(update=update)


def _name_cameras(cameras_file: Path) -> list[dict[str, object]]:
    """Give the simulated cameras the demo's tower names, so camera, resident and map alerts share one building."""
    configs: list[dict[str, object]] = json.loads(cameras_file.read_text(encoding="utf-8"))
    for tower, cfg in zip(TOWERS, configs, strict=False):
        cfg["building"] = tower
        cfg["name"] = f"Tower {tower} facade"
    cameras_file.write_text(json.dumps(configs, indent=1), encoding="utf-8")
    return configs


def write_estate_plan(path: Path, cameras: list[dict[str, object]]) -> Path:
    """The demo's site plan (``EW_ESTATE_FILE``): six towers, the north and south gates (the entrance demo's
    gate ids), a camera in front of each watched tower. Units are numbered as the resident simulator does
    (``A-1203``), window columns shared among them.
    """
    columns: dict[str, int] = {}
    for cfg in cameras:
        lines = cfg.get("window_columns")
        if isinstance(lines, list) and len(lines) > 1:
            columns[str(cfg["building"])] = len(lines) - 1
    towers = []
    for i, tower in enumerate(TOWERS):
        x, y = 110 + 300 * (i % 3), 90 + 230 * (i // 3)
        towers.append({"id": tower, "name": f"Tower {tower}", "x": x, "y": y, "width": 180, "height": 80,
                       **({} if tower in columns else {"floors": 18 + 2 * i}),
                       "unit_format": "{tower}-{floor}{unit:02d}",
                       "columns_per_unit": math.ceil(columns.get(tower, UNITS_PER_FLOOR) / UNITS_PER_FLOOR)})
    plan = {"name": "EstateWatch demo estate", "width": 1000, "height": 600, "towers": towers,
            "gates": [{"id": "north", "name": "North gate", "x": 500, "y": 22},
                      {"id": "south", "name": "South gate", "x": 500, "y": 575}]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(plan, indent=1), encoding="utf-8")
    return path


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


def simulator_commands(settings: Settings, started: Embedded, *, cameras: int, sensors: int,
                       residents: int) -> list[tuple[list[str], str]]:
    """The simulators to run, as (``estatewatch`` arguments, log file name): one camera process streaming every
    camera ``prepare`` registered, the sensor fleet, the residents.
    """
    commands: list[tuple[list[str], str]] = []
    if sensors:
        own = ["--own-accounts"] if started.accounts is not None else []
        commands.append((["simulate", "sensors", "--devices", str(sensors), "--rate", str(max(1.0, sensors / 5)),
                          "--duration", FOREVER_S, "--malformed-share", "0.01", "--dropouts", "2", *own],
                         "sensors.log"))
    if cameras:
        commands.append((["simulate", "cameras", *camera_args(cameras), "--loop"], "cameras.log"))
    if residents:
        sim_dir = settings.data_dir / "sim" / "residents"
        commands.append((["simulate", "residents", "--out", str(sim_dir), "--residents", str(residents), "--days",
                          "30", "--speed", str(RESIDENT_SPEED), "--mqtt"], "residents.log"))
    return commands


def start_simulators(settings: Settings, started: Embedded, *, cameras: int, sensors: int, residents: int) -> None:
    """Sensors, cameras and residents publishing over MQTT as real hardware would.

    On the demo's own broker every sensor logs in as itself (``--own-accounts``), so the broker holds each to its
    own topics exactly as in production; cameras and residents publish with the simulator's service account.
    """
    logs = settings.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    settings = simulator_settings(settings, started)
    for args, log_name in simulator_commands(settings, started, cameras=cameras, sensors=sensors,
                                             residents=residents):
        started.children.append(spawn(args, logs / log_name, settings))


def run_demo(settings: Settings, *, cameras: int, sensors: int, residents: int,
             until: Callable[[Settings, Embedded], None] | None = None) -> None:
    """Start embedded services, seed them, start the simulators after a grace period and serve until Ctrl+C.

    ``until`` runs (on its own thread) once the simulators are started; when it returns, the demo stops as on
    Ctrl+C. ``estatewatch.bench.demo_counts`` measures the demo this way, on the same code path.
    """
    with embedded_services(settings) as (live, started):
        apply_migrations(live.require_database_url())
        with connect(live.require_database_url()) as conn:  # people to dispatch alerts to (grid, security, ...)
            seed_demo_responders(conn, live.site)
            conn.commit()
        live = prepare(live, cameras=cameras, residents=residents)
        # faces at the gates when the faces extra is here: the bridge then publishes the residents' events
        live, residents = take_over_gates(live, started, residents=residents, speed=RESIDENT_SPEED,
                                          grace_s=STARTUP_GRACE_S, for_simulators=simulator_settings)
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
                  f"  logs:     {live.data_dir / 'logs'}\n  press Ctrl+C to stop\n", flush=True,
                  file=sys.stdout if until is None else sys.stderr)  # a measured run keeps stdout for its report
            if until is not None:
                try:
                    until(live, started)
                finally:
                    os.kill(os.getpid(), signal.SIGINT)  # the server's own graceful stop, as on Ctrl+C

        threading.Thread(target=later, name="demo-simulators", daemon=True).start()
        serve(live, {"all"}, role_urls=started.role_urls, broker_accounts=started.accounts)
