"""``estatewatch bench ingest``: the broker's raw receive rate next to EstateWatch's stored-and-committed rate.

Three phases over the same pre-generated telemetry, each under its own site and device ids:
  raw    one paho client with an empty callback (the ceiling: what one process can even receive);
  1proc  one ``estatewatch serve --role ingest`` process, counted as rows committed in PostgreSQL;
  2proc  two such processes in one shared-subscription group.
By default the broker is filled first ("preload"): every consumer's persistent session exists but is offline
while several publisher processes push the messages, and the clock runs only while the consumers drain the
queue, so no publisher can be the bottleneck. ``live`` publishes while the consumers run (also bounded).
Lost and duplicated messages are counted by comparing every (device, seq) sent with the telemetry table.

On the embedded broker authentication is on, as in production: every phase issues one account per device (each
publishes over its own connection, held to its own topics by the ACL) and one ingest account, which both ingest
and the raw baseline log in with, so both sides of the ratio pay the same authentication and ACL cost.
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
from multiprocessing.context import SpawnProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import TypedDict

import psycopg
from psycopg.rows import TupleRow

from common import topics
from common.mqtt import BoundedPublisher
from common.settings import MqttTarget, Settings
from estatewatch.bench.ingest_parts import (
    ROWS_PER_MESSAGE,
    SPAWN,
    Credentials,
    Report,
    Workload,
    make_workload,
    publish_all,
    raw_receive,
)
from estatewatch.broker_accounts import AccountRequest, BrokerAccounts, Kind
from estatewatch.embedded import EmbeddedBroker, EmbeddedPostgres
from store.migrate import apply_migrations

_TupleConn = psycopg.Connection[TupleRow]  # the bench counts with plain tuples: row[0]

READY_MARK = "MQTT connected"  # logged by common.mqtt.Subscriber once the session is up
INGEST_CMD = (sys.executable, "-m", "estatewatch.cli", "serve", "--role", "ingest")


@dataclass(frozen=True)
class BenchConfig:
    """How big a run is: messages per phase, devices, publisher processes and their window, rounds, timeout."""

    messages: int = 100_000
    devices: int = 200  # one broker connection per device when authenticated: keep it modest on 2 cores
    publishers: int = 2
    max_inflight: int = 2000
    live: bool = False
    repeat: int = 3
    timeout_s: float = 300.0


@dataclass(frozen=True)
class PhaseResult:
    """One phase of one round: its receive or store rate, the publishers' rate, and what was lost or doubled."""

    per_s: float
    publish_per_s: float
    lost: int
    duplicated: int


class IngestBench(TypedDict):
    """What ``bench ingest --json`` prints: the keys are a contract of the CLI."""

    raw_receive_per_s: float
    stored_per_s_1proc: float
    stored_per_s_2proc: float
    ratio_1proc_vs_raw: float
    ratio_2proc_vs_raw: float
    ratio_2proc_vs_1proc: float
    lost: int
    duplicated: int
    samples_per_s: dict[str, list[float]]
    publish_per_s: float
    messages_per_phase: int
    repeat: int
    devices: int
    rows_per_message: int
    publishers: int
    max_inflight_per_publisher: int
    mode: str
    services: str
    authentication: str
    cpus: int | None


@dataclass(frozen=True)
class Services:
    """What a run measures against; ``accounts`` is set when the broker enforces per-device accounts."""

    db_url: str
    mqtt_url: str
    where: str
    accounts: BrokerAccounts | None


@dataclass(frozen=True)
class PhaseLogin:
    """How one phase logs in: the consumers' target (URL) and each device's password (None: anonymous)."""

    mqtt_url: str
    credentials: Credentials | None

    @property
    def target(self) -> MqttTarget:
        """The consumers' broker target."""
        return MqttTarget.parse(self.mqtt_url)


def _phase_login(services: Services, site: str, devices: list[str]) -> PhaseLogin:
    """Issue the phase's ingest account and one account per device, and wait until the broker accepts them."""
    if services.accounts is None:
        return PhaseLogin(services.mqtt_url, None)
    target = MqttTarget.parse(services.mqtt_url)
    requests = [AccountRequest(Kind.INGEST, site), *(AccountRequest(Kind.SENSOR, site, d) for d in devices)]
    issued = services.accounts.issue_many(requests)
    login = PhaseLogin(issued[0].mqtt_url(target.host, target.port),
                       {i.account.username: i.password for i in issued[1:]})
    _wait_accepted(login.target)
    return login


def _wait_accepted(target: MqttTarget, timeout_s: float = 15.0) -> None:
    """The broker applies a reload between two of its loop turns: wait until the new account can log in."""
    deadline = time.monotonic() + timeout_s
    while True:
        probe = BoundedPublisher(target, max_inflight=1)
        try:
            probe.start(wait=1.0)
        except ConnectionError:
            if time.monotonic() > deadline:
                raise
        else:
            return
        finally:
            probe.close(flush_timeout=0)


@contextlib.contextmanager
def _services(settings: Settings, workdir: Path) -> Iterator[Services]:
    """The database and broker to measure against: the configured ones, else embedded ones in ``workdir``."""
    stack = contextlib.ExitStack()
    with stack:
        db_url, kind = settings.database_url, "external"
        if db_url is None:
            pg = EmbeddedPostgres(workdir / "pg").start()
            stack.callback(pg.stop, "immediate")
            db_url, kind = pg.url, "embedded"
        apply_migrations(db_url)
        mqtt_url, broker, accounts = settings.mqtt_url, "external", None
        if mqtt_url is None:
            embedded = EmbeddedBroker(workdir / "mqtt", auth=BrokerAccounts(workdir / "broker-auth")).start()
            stack.callback(embedded.stop)
            mqtt_url, broker, accounts = embedded.url, f"embedded {embedded.kind}", embedded.auth
        yield Services(db_url, mqtt_url, f"database {kind}, broker {broker}", accounts)


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
                   "EW_DATA_DIR": str(self.logdir / f"data{i}"),
                   # waived on purpose: the bench's devices are not registered (the ratio measures the ingest
                   # path), and an operator's own broker may be anonymous; `serve` refuses both otherwise
                   "EW_ALLOW_UNREGISTERED_DEVICES": "true",
                   "EW_ALLOW_ANONYMOUS_MQTT": "false" if MqttTarget.parse(self.mqtt_url).username else "true"}
            log = self.logdir / f"{self.site}-{i}-{self.starts}.log"
            self.logs.append(log)
            with log.open("wb") as out:
                # our own CLI under this interpreter (an absolute path), with a fixed argument list
                self.procs.append(subprocess.Popen(list(INGEST_CMD), env=env, stdout=out,  # noqa: S603
                                                   stderr=subprocess.STDOUT))
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
        """SIGTERM every process (ingest commits what it holds) and kill any that is not gone after 30 s."""
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs.clear()


def _count_rows(conn: _TupleConn, prefix: str, devices: list[str] | None = None) -> int:
    if devices is not None:
        row = conn.execute("SELECT count(*) FROM telemetry WHERE device_id = ANY(%s)", (devices,)).fetchone()
    else:
        row = conn.execute("SELECT count(*) FROM telemetry WHERE device_id >= %s AND device_id < %s",
                           (prefix, prefix + "~")).fetchone()
    return int(row[0]) if row else 0


def _wait_for_rows(conn: _TupleConn, prefix: str, workload: Workload, messages: int,
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
    # before the first rows only the deadline counts: a loaded machine may take long to start the processes
    while time.monotonic() < deadline and (first is None or time.monotonic() - moved < 20):
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


def _audit(conn: _TupleConn, prefix: str, workload: Workload, messages: int) -> tuple[int, int]:
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


def _devices(workload: Workload, prefix: str) -> list[str]:
    return [workload.device(prefix, k) for k in range(workload.devices)]


def _raw_phase(cfg: BenchConfig, services: Services, workload: Workload, site: str) -> PhaseResult:
    items = _items(workload, site, f"{site}-")
    login = _phase_login(services, site, _devices(workload, f"{site}-"))
    target = login.target
    topic_filter = topics.telemetry(site, "+")
    ready: Queue[str] = SPAWN.Queue()
    results: Queue[Report] = SPAWN.Queue()

    def consumer(expect: int) -> SpawnProcess:
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
        publish_rate = publish_all(target, items, cfg.publishers, cfg.max_inflight, login.credentials)
        proc = consumer(len(items))
    else:
        proc = consumer(len(items))
        publish_rate = publish_all(target, items, cfg.publishers, cfg.max_inflight, login.credentials)
    count, t_first, t_last = results.get(timeout=cfg.timeout_s + 60)
    proc.join(30)
    per_s = (count - 1) / (t_last - t_first) if count > 1 and t_last > t_first else 0.0
    return PhaseResult(per_s, publish_rate, len(items) - min(count, len(items)), max(0, count - len(items)))


def _ingest_phase(cfg: BenchConfig, services: Services, workload: Workload, site: str,
                  processes: int, logdir: Path) -> PhaseResult:
    prefix = f"{site}-"
    items = _items(workload, site, prefix)
    login = _phase_login(services, site, _devices(workload, prefix))
    target, db_url = login.target, services.db_url
    ingest = _Ingest(db_url, login.mqtt_url, site, processes, logdir)
    with psycopg.connect(db_url, autocommit=True) as conn:
        ingest.start()
        try:
            if not cfg.live:
                ingest.stop()
                publish_rate = publish_all(target, items, cfg.publishers, cfg.max_inflight, login.credentials)
                ingest.start(wait=False)  # the queue drains as soon as a session is back: watch from now
                per_s = _wait_for_rows(conn, prefix, workload, len(items), cfg.timeout_s)
                ingest.check()
            else:
                started = time.perf_counter()
                publish_rate = publish_all(target, items, cfg.publishers, cfg.max_inflight, login.credentials)
                _wait_for_rows(conn, prefix, workload, len(items), cfg.timeout_s)
                per_s = len(items) / (time.perf_counter() - started)
        finally:
            ingest.stop()
        lost, duplicated = _audit(conn, prefix, workload, len(items))
        conn.execute("DELETE FROM telemetry WHERE device_id >= %s AND device_id < %s", (prefix, prefix + "~"))
        conn.execute("DELETE FROM devices WHERE device_id >= %s AND device_id < %s", (prefix, prefix + "~"))
    return PhaseResult(per_s, publish_rate, lost, duplicated)


def run_bench(cfg: BenchConfig, say: Callable[[str], None] | None = None,
              settings: Settings | None = None) -> IngestBench:
    """Run the three phases (``cfg.repeat`` times, interleaved) and return the figures (docs/performance.md).

    Rates are medians over the repetitions; interleaving the phases spreads any background load on the machine
    over all of them instead of penalising whichever phase ran while it lasted.
    """
    say = say or (lambda _msg: None)
    run = uuid.uuid4().hex[:6]
    settings = settings or Settings()
    samples: dict[str, list[PhaseResult]] = {"raw": [], "1proc": [], "2proc": []}
    with tempfile.TemporaryDirectory(prefix="ew-bench-") as tmp, _services(settings, Path(tmp)) as services:
        auth = ("per-device accounts and ACLs (one connection per device)" if services.accounts is not None
                else "as configured (EW_MQTT_URL)")
        say(f"{services.where}; broker login: {auth}; generating {cfg.messages} messages from {cfg.devices} devices")
        workload = make_workload(cfg.messages, cfg.devices, datetime.now(UTC))
        for r in range(cfg.repeat):
            say(f"round {r + 1}/{cfg.repeat}, phase raw: empty paho callback")
            raw = _raw_phase(cfg, services, workload, f"braw{run}{r}")
            samples["raw"].append(raw)
            say(f"  {raw.per_s:,.0f} msg/s received; publishers {raw.publish_per_s:,.0f} msg/s")
            for processes in (1, 2):
                say(f"round {r + 1}/{cfg.repeat}, phase {processes}proc: estatewatch serve --role ingest x{processes}")
                result = _ingest_phase(cfg, services, workload, f"b{processes}p{run}{r}", processes, Path(tmp))
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
        "services": services.where,
        "authentication": auth,
        "cpus": os.cpu_count(),
    }
