"""What the demo estate raises in N minutes: ``python -m estatewatch.bench.demo_counts --minutes 15 --json``.

Runs ``estatewatch demo`` itself (``estatewatch.demo.run_demo``: embedded PostgreSQL and broker, the same
simulators and services) headless in a fresh data folder, waits N minutes, then reads from its database:

- alerts of each type, and whether every rule of the sensor profile raised at least one;
- the flood banner in the steady state, by the console's own criterion (``FloodMeter`` in
  ``api/static/js/model.js``: 10 or more new unresolved alerts within 60 s), over every minute after the warm-up;
- whether every registered camera streamed (frames per camera, age of its last frame), and where the littering
  alerts came from (camera, floor, window column);
- the CPU each simulator used, and the load average, since the machine is shared.

Nothing here is tuned on: the figures are a report of the demo's configuration as it is.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from alerts.sensor_profiles import default_profile
from common.settings import Settings
from estatewatch.bench.demo_screens import take as take_screenshots
from estatewatch.demo import run_demo
from estatewatch.embedded import free_port
from estatewatch.runtime import Embedded
from store.db import connect

FLOOD_THRESHOLD = 10  # FloodMeter(threshold = 10, windowMs = 60_000) in api/static/js/model.js
FLOOD_WINDOW = timedelta(seconds=60)
STREAM_WINDOW_S = 60.0  # a camera streams when frames arrived over the last minute of the run


def flood_peak(created: list[datetime]) -> tuple[int, datetime | None]:
    """The most alerts created within any 60 s window, and when that window began (two pointers, sorted times)."""
    times = sorted(created)
    best, at, lo = 0, None, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= FLOOD_WINDOW:
            lo += 1
        if hi - lo + 1 > best:
            best, at = hi - lo + 1, times[lo]
    return best, at


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a running process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="ascii").rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def frame_counts(settings: Settings) -> dict[str, int]:
    """Frames each camera of the site has delivered so far."""
    with connect(settings.require_database_url()) as conn:
        return {r["camera_id"]: r["frames"] for r in conn.execute(
            "SELECT camera_id, frames FROM cameras WHERE site = %s", (settings.site,))}


def collect(settings: Settings, started: Embedded, *, since: datetime, warmup: timedelta,
            frames_before: dict[str, int], window_s: float) -> dict[str, Any]:
    """Read the counts from the demo's database while it still runs; ``frames_before`` were counted
    ``window_s`` seconds ago, so a camera streams when its count grew since.
    """
    site = settings.site
    with connect(settings.require_database_url()) as conn:
        by_type = {r["type"]: r["n"] for r in conn.execute(
            "SELECT type, count(*) AS n FROM alerts WHERE site = %s GROUP BY type ORDER BY type", (site,))}
        created = [r["created_at"] for r in conn.execute(
            "SELECT created_at FROM alerts WHERE site = %s AND created_at >= %s", (site, since + warmup))]
        unresolved = conn.execute("SELECT count(*) AS n FROM alerts WHERE site = %s AND status <> 'resolved'",
                                  (site,)).fetchone()
        cams = conn.execute("SELECT camera_id, building, frames, rejected, last_frame_at FROM cameras"
                            " WHERE site = %s ORDER BY camera_id", (site,)).fetchall()
        throws = conn.execute("SELECT camera_id, floor, window_column FROM littering_events WHERE site = %s",
                              (site,)).fetchall()
    now = datetime.now(UTC)
    rules = default_profile().rules
    fired = {r.name: by_type.get(r.type, 0) > 0 for r in rules}
    peak, peak_at = flood_peak(created)
    per_camera = {c["camera_id"]: {
        "tower": c["building"], "frames": c["frames"], "rejected": c["rejected"],
        "last_frame_age_s": None if c["last_frame_at"] is None
        else round((now - c["last_frame_at"]).total_seconds(), 1),
        "littering_events": sum(1 for t in throws if t["camera_id"] == c["camera_id"]),
        "fps_last_window": round((c["frames"] - frames_before.get(c["camera_id"], 0)) / window_s, 2),
    } for c in cams}
    places = Counter((t["camera_id"], t["floor"], t["window_column"]) for t in throws)
    children = {" ".join(child.args[3:5]) if isinstance(child.args, list) else str(child.pid): _cpu_s(child.pid)
                for child in started.children}
    return {
        "minutes": round((now - since).total_seconds() / 60, 2),
        "alerts_by_type": by_type,
        "alerts_total": sum(by_type.values()),
        "unresolved_at_end": unresolved["n"] if unresolved else None,
        "sensor_rules_fired": fired,
        "every_sensor_rule_fired": all(fired.values()),
        "flood": {"criterion": f">= {FLOOD_THRESHOLD} new alerts within 60 s (console FloodMeter)",
                  "steady_state_from_minute": warmup.total_seconds() / 60, "peak_per_60s": peak,
                  "peak_window_start": peak_at.isoformat() if peak_at else None,
                  "banner_in_steady_state": peak >= FLOOD_THRESHOLD},
        "cameras": per_camera,
        # streaming = frames kept arriving over the last window; the frames' capture stamps (last_frame_age_s) lag
        # behind the wall clock when a loaded machine slows the simulator below its 10 fps, so they are reported only
        "every_camera_streamed": bool(per_camera) and all(c["fps_last_window"] > 0 for c in per_camera.values()),
        "streaming_window_s": window_s,
        "littering_places": [{"camera": cam, "floor": floor, "column": None if col is None else col + 1, "n": n}
                             for (cam, floor, col), n in sorted(places.items(), key=str)],
        "distinct_littering_places": len(places),
        "simulator_cpu_s": children,
        "loadavg": Path("/proc/loadavg").read_text(encoding="ascii").split()[:3],
    }


def _sleep_until(deadline: float) -> None:
    while time.monotonic() < deadline:
        time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))


def run(minutes: float, *, cameras: int, sensors: int, residents: int, warmup_minutes: float,
        data_dir: Path | None = None, screenshots: Path | None = None,
        screenshots_at: float | None = None) -> dict[str, Any]:
    """Run the demo for ``minutes`` in a fresh data folder (removed afterwards unless given) and count; with
    ``screenshots``, save the console's views there ``screenshots_at`` minutes in (default: 70 % of the run).
    """
    own = data_dir is None
    folder = Path(tempfile.mkdtemp(prefix="ew-demo-counts-")) if data_dir is None else data_dir
    # a fresh estate: embedded services (no EW_DATABASE_URL / EW_MQTT_URL), a free port, nothing from the shell
    settings = Settings(data_dir=folder, http_host="127.0.0.1", http_port=free_port(), database_url=None,
                        mqtt_url=None, admin_token=None)
    result: dict[str, Any] = {}
    done = threading.Event()

    def shoot(live: Settings, start: float) -> None:
        if screenshots is None:
            return
        _sleep_until(start + 60 * (screenshots_at if screenshots_at is not None else minutes * 0.7))
        token = live.admin_token.get_secret_value() if live.admin_token else ""
        paths = take_screenshots(f"http://{live.http_host}:{live.http_port}", token, screenshots)
        result["screenshots"] = [str(p) for p in paths]

    def measure(live: Settings, started: Embedded) -> None:
        since = datetime.now(UTC)
        shooter = threading.Thread(target=shoot, args=(live, time.monotonic()), name="demo-screens", daemon=True)
        shooter.start()
        window_s = min(STREAM_WINDOW_S, minutes * 30)
        _sleep_until(time.monotonic() + minutes * 60 - window_s)
        before, counted_at = frame_counts(live), time.monotonic()
        _sleep_until(counted_at + window_s)
        result.update(collect(live, started, since=since, warmup=timedelta(minutes=warmup_minutes),
                              frames_before=before, window_s=time.monotonic() - counted_at))
        shooter.join(timeout=300)
        done.set()

    try:
        with contextlib.redirect_stdout(sys.stderr):  # the demo's own messages: stdout is for the report
            run_demo(settings, cameras=cameras, sensors=sensors, residents=residents, until=measure)
    finally:
        if own:
            shutil.rmtree(folder, ignore_errors=True)
    if not done.is_set():
        raise RuntimeError("the demo stopped before the counts were taken (see its log above)")
    return {"settings": {"cameras": cameras, "sensors": sensors, "residents": residents,
                         "warmup_minutes": warmup_minutes}, **result}


def main(argv: list[str] | None = None) -> None:
    """Command line: run the demo headless and print the counts."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--minutes", type=float, default=15.0)
    parser.add_argument("--warmup-minutes", type=float, default=3.0,
                        help="minutes before the steady state in which the flood banner is judged")
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--sensors", type=int, default=40)
    parser.add_argument("--residents", type=int, default=60)
    parser.add_argument("--data-dir", type=Path, default=None, help="keep the demo's data here (default: a "
                                                                    "temporary folder, removed)")
    parser.add_argument("--screenshots", type=Path, default=None,
                        help="save screenshots of the map, camera wall and Elders views (en, zh-CN) here")
    parser.add_argument("--screenshots-at", type=float, default=None, help="minutes into the run (default 70 %%)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    report = run(args.minutes, cameras=args.cameras, sensors=args.sensors, residents=args.residents,
                 warmup_minutes=args.warmup_minutes, data_dir=args.data_dir, screenshots=args.screenshots,
                 screenshots_at=args.screenshots_at)
    if args.json:
        print(json.dumps(report, default=str))
    else:
        for key, value in report.items():
            print(f"{key}: {value}")
    left = [t.name for t in threading.enumerate()
            if t is not threading.main_thread() and not t.daemon and t.is_alive()]
    if left:  # a thread the demo did not stop would keep the interpreter (and this measurement) from ending
        print(f"threads left running after the demo stopped: {', '.join(left)}; exiting", file=sys.stderr, flush=True)
        sys.stdout.flush()
        os._exit(0)


if __name__ == "__main__":
    main()
