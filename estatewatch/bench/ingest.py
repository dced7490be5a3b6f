"""``estatewatch bench ingest``: the broker's raw receive rate next to EstateWatch's stored-and-committed rate.

Three phases over the same pre-generated telemetry, each under its own site and device ids:
  raw    one paho client with an empty callback (the ceiling: what one process can even receive);
  1proc  one ``estatewatch serve --role ingest`` process, counted as rows committed in PostgreSQL;
  2proc  two such processes in one shared-subscription group.
By default the broker is filled first ("preload"): every consumer's persistent session exists but is offline
while several publisher processes push the messages, and the clock runs only while the consumers drain the
queue, so no publisher can be the bottleneck. ``live`` publishes while the consumers run (also bounded).
Lost and duplicated messages are counted by comparing every (device, seq) sent with the telemetry table.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from estatewatch.bench.ingest_parts import ROWS_PER_MESSAGE, SPAWN, Workload, make_workload, publish_all, raw_receive
from estatewatch.config import MqttTarget, Settings

READY_MARK = "MQTT connected"  # logged by ingest.mqtt.Subscriber once the session is up
INGEST_CMD = (sys.executable, "-m", "estatewatch.cli", "serve", "--role", "ingest")


@dataclass(frozen=True)
class BenchConfig:
    messages: int = 100_000
    devices: int = 1000
    publishers: int = 2
    max_inflight: int = 2000
    live: bool = False
    repeat: int = 3
    timeout_s: float = 300.0


@dataclass(frozen=True)
class PhaseResult:
    per_s: float
    publish_per_s: float
    lost: int
    duplicated: int


@contextlib.contextmanager
def _services(settings: Settings, workdir: Path) -> Iterator[tuple[str, str, str]]:
    """The database and broker to measure against: the configured ones, else embedded ones in ``workdir``."""
    from estatewatch.embedded import EmbeddedBroker, EmbeddedPostgres
    from store.migrate import apply_migrations

    stack = contextlib.ExitStack()
    with stack:
        db_url, kind = settings.database_url, "external"
        if db_url is None:
            pg = EmbeddedPostgres(workdir / "pg").start()
            stack.callback(pg.stop, "immediate")
            db_url, kind = pg.url, "embedded"
        apply_migrations(db_url)
        mqtt_url, broker = settings.mqtt_url, "external"
        if mqtt_url is None:
            embedded = EmbeddedBroker(workdir / "mqtt").start()
            stack.callback(embedded.stop)
            mqtt_url, broker = embedded.url, f"embedded {embedded.kind}"
        yield db_url, mqtt_url, f"database {kind}, broker {broker}"


class _Ingest:
    """``estatewatch serve --role ingest`` processes with stable client ids, so their sessions outlive them."""

    def __init__(self, db_url: str, mqtt_url: str, site: str, count: int, logdir: Path) -> None:
        self.db_url, self.mqtt_url, self.site, self.count, self.logdir = db_url, mqtt_url, site, count, logdir
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Path] = []
        self.starts = 0

    def start(self, *, wait: bool = True, timeout_s: float = 60.0) -> None:
        """Spawn the processes; with ``wait``, return once each has its MQTT session (and subscriptions)."""
        self.starts += 1
        self.logs = []
        for i in range(self.count):
            env = {**os.environ, "EW_DATABASE_URL": self.db_url, "EW_MQTT_URL": self.mqtt_url, "EW_SITE": self.site,
                   "EW_INGEST_GROUP": f"g-{self.site}", "EW_MQTT_CLIENT_ID": f"{self.site}-{i}",
                   "EW_DATA_DIR": str(self.logdir / f"data{i}")}
            log = self.logdir / f"{self.site}-{i}-{self.starts}.log"
            self.logs.append(log)
            with log.open("wb") as out:
                self.procs.append(subprocess.Popen(list(INGEST_CMD), env=env, stdout=out, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + timeout_s
        while wait and not all(READY_MARK in log.read_text(errors="replace") for log in self.logs):
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"ingest did not connect within {timeout_s:.0f} s")
            self.check()
            time.sleep(0.05)
        if wait:
            time.sleep(0.5)  # the SUBACK follows the CONNACK

    def check(self) -> None:
        """Raise with the log of a process that exited."""
        for proc, log in zip(self.procs, self.logs, strict=True):
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"ingest exited with {proc.returncode}; log:\n{tail}")

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


def _count_rows(conn: psycopg.Connection[Any], prefix: str, devices: list[str] | None = None) -> int:
    if devices is not None:
        row = conn.execute("SELECT count(*) FROM telemetry WHERE device_id = ANY(%s)", (devices,)).fetchone()
    else:
        row = conn.execute("SELECT count(*) FROM telemetry WHERE device_id >= %s AND device_id < %s",
                           (prefix, prefix + "~")).fetchone()
    return int(row[0]) if row else 0


def _wait_for_rows(conn: psycopg.Connection[Any], prefix: str, workload: Workload, messages: int,
                   timeout_s: float) -> float:
    """Stored messages per second, from the first committed rows until all rows are there.

    Counting every row each poll would itself load the database, so progress is watched on the four devices
    whose messages come last in every round (a few hundred rows, an index range scan), and the whole count runs
    only when they show the first rows and once they are complete.
    """
    sentinels = sorted({workload.device(prefix, k) for k in range(max(0, messages - 4), messages)})
    sentinel_rows = sum(1 for k in range(messages) if workload.device(prefix, k) in sentinels) * ROWS_PER_MESSAGE
    expect = messages * ROWS_PER_MESSAGE
    deadline = time.monotonic() + timeout_s
    first: tuple[float, int] | None = None
    seen, moved = 0, time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - moved < 20:
        now_seen = _count_rows(conn, prefix, sentinels)
        if now_seen > seen:
            seen, moved = now_seen, time.monotonic()
        if first is None and seen > 0:
            first = (time.perf_counter(), _count_rows(conn, prefix))
        if seen >= sentinel_rows:
            break
        time.sleep(0.02)
    last = (time.perf_counter(), 0)
    stalled_since = time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - stalled_since < 20:
        rows = _count_rows(conn, prefix)
        if rows > last[1]:
            stalled_since = time.monotonic()
        last = (time.perf_counter(), rows)
        if rows >= expect:
            break
        time.sleep(0.05)
    if first is None or last[0] <= first[0]:
        return 0.0
    return (last[1] - first[1]) / ROWS_PER_MESSAGE / (last[0] - first[0])


def _audit(conn: psycopg.Connection[Any], prefix: str, workload: Workload, messages: int) -> tuple[int, int]:
    """(lost, duplicated) messages: every (device, seq) sent must have exactly its two metric rows."""
    counts = {(d, s): n for d, s, n in conn.execute(
        "SELECT device_id, seq, count(*) FROM telemetry WHERE device_id >= %s AND device_id < %s GROUP BY 1, 2",
        (prefix, prefix + "~")).fetchall()}
    lost = duplicated = 0
    for k in range(messages):
        n = counts.pop((workload.device(prefix, k), k // workload.devices), 0)
        lost += n < ROWS_PER_MESSAGE
        duplicated += n > ROWS_PER_MESSAGE
    return lost, duplicated + len(counts)  # rows for a (device, seq) never sent count as duplicates too


def _items(workload: Workload, site: str, prefix: str) -> list[tuple[str, bytes]]:
    return [(workload.topic(site, prefix, k), p) for k, p in enumerate(workload.payloads)]


def _raw_phase(cfg: BenchConfig, target: MqttTarget, workload: Workload, site: str) -> PhaseResult:
    items = _items(workload, site, "raw-")
    topic_filter = f"estate/{site}/sensor/+/telemetry"
    ready, results = SPAWN.Queue(), SPAWN.Queue()

    def consumer(expect: int) -> Any:
        proc = SPAWN.Process(target=raw_receive, args=(target, f"{site}-raw", topic_filter, f"g-{site}", expect,
                                                       ready, results, cfg.timeout_s))
        proc.start()
        ready.get(timeout=60)
        return proc

    publish_rate = 0.0
    if not cfg.live:  # make the session, leave, queue everything for it, then time the drain
        first = consumer(0)
        results.get(timeout=60)
        first.join(30)
        publish_rate = publish_all(target, items, cfg.publishers, cfg.max_inflight)
        proc = consumer(len(items))
    else:
        proc = consumer(len(items))
        publish_rate = publish_all(target, items, cfg.publishers, cfg.max_inflight)
    count, t_first, t_last = results.get(timeout=cfg.timeout_s + 60)
    proc.join(30)
    per_s = (count - 1) / (t_last - t_first) if count > 1 and t_last > t_first else 0.0
    return PhaseResult(per_s, publish_rate, len(items) - min(count, len(items)), max(0, count - len(items)))


def _ingest_phase(cfg: BenchConfig, mqtt_url: str, workload: Workload, db_url: str, site: str,
                  processes: int, logdir: Path) -> PhaseResult:
    prefix = f"{site}-"
    items = _items(workload, site, prefix)
    target = MqttTarget.parse(mqtt_url)
    ingest = _Ingest(db_url, mqtt_url, site, processes, logdir)
    with psycopg.connect(db_url, autocommit=True) as conn:
        ingest.start()
        try:
            if not cfg.live:
                ingest.stop()
                publish_rate = publish_all(target, items, cfg.publishers, cfg.max_inflight)
                ingest.start(wait=False)  # the queue drains as soon as a session is back: watch from now
                per_s = _wait_for_rows(conn, prefix, workload, len(items), cfg.timeout_s)
                ingest.check()
            else:
                started = time.perf_counter()
                publish_rate = publish_all(target, items, cfg.publishers, cfg.max_inflight)
                _wait_for_rows(conn, prefix, workload, len(items), cfg.timeout_s)
                per_s = len(items) / (time.perf_counter() - started)
        finally:
            ingest.stop()
        lost, duplicated = _audit(conn, prefix, workload, len(items))
        conn.execute("DELETE FROM telemetry WHERE device_id >= %s AND device_id < %s", (prefix, prefix + "~"))
        conn.execute("DELETE FROM devices WHERE device_id >= %s AND device_id < %s", (prefix, prefix + "~"))
    return PhaseResult(per_s, publish_rate, lost, duplicated)


def run_bench(cfg: BenchConfig, say: Callable[[str], None] | None = None,
              settings: Settings | None = None) -> dict[str, Any]:
    """Run the three phases (``cfg.repeat`` times, interleaved) and return the figures (docs/performance.md).

    Rates are medians over the repetitions; interleaving the phases spreads any background load on the machine
    over all of them instead of penalising whichever phase ran while it lasted.
    """
    say = say or (lambda _msg: None)
    run = uuid.uuid4().hex[:6]
    settings = settings or Settings()
    samples: dict[str, list[PhaseResult]] = {"raw": [], "1proc": [], "2proc": []}
    with tempfile.TemporaryDirectory(prefix="ew-bench-") as tmp, _services(settings, Path(tmp)) as (db, mqtt, where):
        target = MqttTarget.parse(mqtt)
        say(f"{where}; generating {cfg.messages} messages from {cfg.devices} devices")
        workload = make_workload(cfg.messages, cfg.devices, datetime.now(UTC))
        for r in range(cfg.repeat):
            say(f"round {r + 1}/{cfg.repeat}, phase raw: empty paho callback")
            raw = _raw_phase(cfg, target, workload, f"braw{run}{r}")
            samples["raw"].append(raw)
            say(f"  {raw.per_s:,.0f} msg/s received; publishers {raw.publish_per_s:,.0f} msg/s")
            for processes in (1, 2):
                say(f"round {r + 1}/{cfg.repeat}, phase {processes}proc: estatewatch serve --role ingest x{processes}")
                result = _ingest_phase(cfg, mqtt, workload, db, f"b{processes}p{run}{r}", processes, Path(tmp))
                samples[f"{processes}proc"].append(result)
                say(f"  {result.per_s:,.0f} msg/s stored; lost {result.lost}, duplicated {result.duplicated}")
    raw_s, one, two = (statistics.median(x.per_s for x in samples[k]) for k in ("raw", "1proc", "2proc"))
    every = [x for phase in samples.values() for x in phase]
    return {
        "raw_receive_per_s": round(raw_s, 1),
        "stored_per_s_1proc": round(one, 1),
        "stored_per_s_2proc": round(two, 1),
        "ratio_1proc_vs_raw": round(one / raw_s, 3) if raw_s else 0.0,
        "ratio_2proc_vs_raw": round(two / raw_s, 3) if raw_s else 0.0,
        "ratio_2proc_vs_1proc": round(two / one, 3) if one else 0.0,
        "lost": sum(x.lost for x in every),
        "duplicated": sum(x.duplicated for x in every),
        "samples_per_s": {k: [round(x.per_s, 1) for x in v] for k, v in samples.items()},
        "publish_per_s": round(min(x.publish_per_s for x in every), 1),
        "messages_per_phase": cfg.messages,
        "repeat": cfg.repeat,
        "devices": cfg.devices,
        "rows_per_message": ROWS_PER_MESSAGE,
        "publishers": cfg.publishers,
        "max_inflight_per_publisher": cfg.max_inflight,
        "mode": "live" if cfg.live else "preload",
        "services": where,
        "cpus": os.cpu_count(),
    }
