"""The demo estate: ``prepare`` registers a calibration per tower camera and writes the site plan, and the camera
simulator the demo starts streams every camera it registered (started for real against the test broker)."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta

from api.estate_plan import build_layout, load_plan
from common.mqtt import Message, Subscriber
from common.settings import Settings
from estatewatch.bench.demo_counts import flood_peak
from estatewatch.demo import TOWERS, prepare, simulator_commands
from estatewatch.runtime import Embedded, spawn
from vision.camera_config import load_cameras


def test_every_registered_camera_streams(settings: Settings) -> None:
    live = prepare(settings, cameras=2, residents=0)
    registered = load_cameras(live.cameras_file)
    assert sorted(registered) == ["sim-cam-0", "sim-cam-1"]
    assert [c.building for c in registered.values()] == ["A", "B"]
    assert all(c.calibrated for c in registered.values())
    assert all(len(c.window_columns) > 2 for c in registered.values())
    plan = json.loads(live.estate_file.read_text(encoding="utf-8")) if live.estate_file else {}
    towers = {t["id"]: t for t in plan["towers"]}
    assert towers["A"]["unit_format"] == "{tower}-{floor}{unit:02d}"  # units numbered as the residents' are
    assert "floors" not in towers["A"]  # the camera's calibration tells
    assert towers["F"]["floors"] >= 18
    layout = build_layout(load_plan(live.estate_file), registered, {})
    assert [t.id for t in layout.towers] == list(TOWERS)
    assert {c.tower for c in layout.cameras} == {"A", "B"}
    commands = simulator_commands(live, Embedded(), cameras=2, sensors=0, residents=0)
    assert [name for _, name in commands] == ["cameras.log"]
    seen: dict[str, int] = {}
    lock = threading.Lock()

    def on_frame(msg: Message) -> None:
        with lock:
            camera = msg.topic.split("/")[3]
            seen[camera] = seen.get(camera, 0) + 1

    listener = Subscriber(live.mqtt, [f"estate/{live.site}/camera/+/frame"], on_frame, qos=0, persistent=False,
                          manual_ack=False)
    listener.start()
    assert listener.wait_connected(10)
    logs = live.data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    child = spawn(commands[0][0], logs / "cameras.log", live)
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with lock:
                if set(seen) == set(registered) and min(seen.values()) >= 5:
                    break
            time.sleep(0.2)
    finally:
        child.terminate()
        child.wait(10)
        listener.stop()
    assert set(seen) == set(registered), (seen, (logs / "cameras.log").read_text(encoding="utf-8")[-2000:])
    assert min(seen.values()) >= 5



def test_flood_peak_counts_alerts_within_any_60_s() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    times = [t0 + timedelta(seconds=s) for s in (0, 10, 59, 60, 61, 62, 200)]
    # from 0 s: 0, 10, 59 (60 s is the next window); from 10 s: 10, 59, 60, 61, 62
    assert flood_peak(times) == (5, t0 + timedelta(seconds=10))
    assert flood_peak([]) == (0, None)
