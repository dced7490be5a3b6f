"""``VisionService``: the live driver. MQTT camera frames -> checks -> worker processes partitioned by camera.

Frames are subscribed with QoS 0 and without a persistent session: they are high-volume and worthless a few
seconds late, so after an outage the service starts from the live picture instead of a backlog the broker kept.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue

from prometheus_client import Counter

from common import topics
from common.mqtt import Message, Subscriber
from common.settings import Settings
from store.db import connect
from store.littering import CameraHealth, upsert_camera, upsert_health
from store.registry import DeviceRegistry
from vision import metrics as m
from vision.activity_map import ActivityParams
from vision.camera_config import CameraConfig, load_cameras
from vision.decode import BadFrameError
from vision.frame_guard import checked_size, inside
from vision.paths import latest_frame_path
from vision.records import AlertSink
from vision.reports import (
    EvidenceFailed,
    FrameRejected,
    FramesAnalysed,
    LitteringFound,
    TracksRejected,
    WorkerReport,
)
from vision.silence import CameraStatus, CameraStatusSink, SilenceWatch
from vision.workers import FrameItem, WorkerConfig, close_inbox, in_partition, parse_partition, worker_for, worker_main

log = logging.getLogger(__name__)

QUEUE_FRAMES = 64  # per worker; beyond this frames are dropped (counted), never queued without bound
HEALTH_EVERY_S = 2.0
HEALTH_ERRORS = Counter("ew_vision_health_errors_total", "Passes of the vision health loop that failed")


@dataclass
class CameraSeen:
    """What the service process knows about a camera, for health and metrics."""

    width: int = 0
    height: int = 0
    last_wall: float = 0.0
    last_at: datetime | None = None
    latest: bytes | None = None
    latest_written: bool = True
    frames: int = 0
    rejected: int = 0
    window_frames: int = 0
    window_start: float = 0.0
    fps: float = 0.0
    silent: bool = False


class VisionService:
    """Subscribes to camera frames, validates them, and spreads cameras over worker processes."""

    def __init__(self, settings: Settings, *, silent_after_s: float = 10.0,
                 alert_sink: AlertSink | None = None, ignore_cameras: frozenset[str] = frozenset(),
                 camera_sink: CameraStatusSink | None = None, offline_after_s: float = 30.0) -> None:
        """``camera_sink`` (with a database) turns a camera silent for ``offline_after_s`` into a device alert."""
        self.settings = settings
        self.ignore_cameras = ignore_cameras  # entrance cameras: the face service's, never analysed or saved here
        self.alert_sink = alert_sink
        self.silent_after_s = silent_after_s
        self.cameras: dict[str, CameraConfig] = load_cameras(settings.cameras_file)
        self.n_workers = settings.vision_workers or os.cpu_count() or 1
        self.partition = parse_partition(settings.vision_partition)
        self._ctx = mp.get_context("spawn")  # no fork: the MQTT and database threads must not be duplicated
        self._inboxes: list[Queue[FrameItem | None]] = []
        self._procs: list[BaseProcess] = []
        self._outbox: Queue[WorkerReport] = self._ctx.Queue()
        self._seen: dict[str, CameraSeen] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._subscriber: Subscriber | None = None
        # the latest events (camera, event_id, floor, alert id), for logs and tests; the database has them all
        self.events: deque[tuple[str, str, int | None, str | None]] = deque(maxlen=100)
        self.camera_sink = camera_sink if settings.database_url is not None else None
        self.silence = SilenceWatch(settings.site, offline_after_s,
                                    {cid: c.building for cid, c in self.cameras.items()})
        self._status: list[CameraStatus] = []  # frames came back: resolved on the health loop, not the network one
        # with EW_REQUIRE_REGISTERED_DEVICES a camera must be registered, configured in the cameras file or not
        self.registry = DeviceRegistry(name="vision")

    # lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Store camera configurations, spawn the workers, then subscribe to frames."""
        self._store_configs()
        if self.camera_sink is not None:
            self.silence.watch([c for c in self.cameras if c not in self.ignore_cameras
                                and in_partition(c, self.partition)], time.monotonic())
        conf = self._worker_config()
        for i in range(self.n_workers):
            self._inboxes.append(self._ctx.Queue(maxsize=QUEUE_FRAMES))
            self._procs.append(self._spawn(i, conf))
        for target in (self._read_reports, self._health_loop):
            th = threading.Thread(target=target, name=f"vision-{target.__name__}", daemon=True)
            th.start()
            self._threads.append(th)
        if self.settings.require_registered_devices:  # no database: nothing is known, every frame is refused
            self.registry.start(lambda: connect(self.settings.require_database_url()))
        self._subscriber = Subscriber(self.settings.mqtt, [topics.frame(self.settings.site, "+")], self._on_message,
                                      qos=0, persistent=False, manual_ack=False)
        self._subscriber.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until the broker has acknowledged the frame subscription."""
        return self._subscriber is not None and self._subscriber.wait_connected(timeout)

    def stop(self) -> None:
        """Unsubscribe, let workers finish their open tracks and evidence, and write health a last time."""
        self._stopping = True  # the health loop must not restart workers that are told to exit
        if self._subscriber is not None:
            self._subscriber.stop()
        self.registry.stop()
        for inbox in self._inboxes:
            with contextlib.suppress(queue.Full):
                inbox.put(None, timeout=2)
        for proc in self._procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
        for inbox, proc in zip(self._inboxes, self._procs, strict=False):
            close_inbox(inbox, proc)  # no feeder thread outlives stop(), and exit never waits on a dead reader
        self._stop.set()
        for th in self._threads:
            th.join(timeout=5)
        self._write_health()

    def _worker_config(self) -> WorkerConfig:
        cams = {cid: c.model_dump(exclude_none=True) for cid, c in self.cameras.items()}
        return WorkerConfig(self.settings.site, self.settings.database_url, self.settings.evidence_dir, cams,
                            self.silent_after_s, self.alert_sink,
                            max_cameras=self.settings.vision_max_cameras_per_worker,
                            ring_bytes=self.settings.vision_ring_bytes,
                            activity=ActivityParams(tau_h=self.settings.activity_map_tau_h,
                                                    warmup_h=self.settings.activity_map_warmup_h),
                            activity_save_s=self.settings.activity_map_save_s)

    def _spawn(self, index: int, conf: WorkerConfig) -> BaseProcess:
        proc = self._ctx.Process(target=worker_main, args=(conf, self._inboxes[index], self._outbox),
                                 name=f"ew-vision-{index}", daemon=True)
        proc.start()
        return proc

    def _store_configs(self) -> None:
        if self.settings.database_url is None or not self.cameras:
            return
        with connect(self.settings.database_url) as conn, conn.transaction():
            for cfg in self.cameras.values():
                config = json.loads(cfg.model_dump_json(exclude_none=True))
                upsert_camera(conn, self.settings.site, cfg.id, cfg.name, cfg.building, config)

    # frames --------------------------------------------------------------------------------------------------

    def _on_message(self, msg: Message) -> None:
        route = topics.parse_topic(msg.topic)
        if route is None or route.kind is not topics.Kind.FRAME:
            m.FRAMES.labels("", "bad_topic").inc()
            return
        camera = route.entity
        if camera in self.ignore_cameras:
            return  # an entrance camera: no detector, and its frames never reach the disk
        if not in_partition(camera, self.partition) or not self._registered(camera):
            return  # another vision process (EW_VISION_PARTITION) owns this camera, or nobody registered it
        now = time.monotonic()
        with self._lock:
            seen = self._seen.get(camera)
            if seen is None:
                if len(self._seen) >= self.settings.vision_max_cameras:  # fake ids must not grow memory
                    m.FRAMES.labels("", "too_many_cameras").inc()
                    return
                seen = self._seen[camera] = CameraSeen(window_start=now)
        try:
            width, height = checked_size(msg.payload, max_bytes=self.settings.max_frame_bytes,
                                         max_pixels=self.settings.max_frame_pixels)
        except BadFrameError as exc:
            self._reject(camera, seen, exc.reason)
            return
        ts_ms = _ts_ms(msg)
        with self._lock:
            if seen.width and (seen.width, seen.height) != (width, height):
                m.RESOLUTION_CHANGES.labels(camera).inc()
                log.info("camera %s changed resolution %dx%d -> %dx%d", camera, seen.width, seen.height, width,
                         height)
            seen.width, seen.height = width, height
            seen.last_wall, seen.last_at = now, datetime.fromtimestamp(ts_ms / 1000.0, UTC)
            seen.latest, seen.latest_written = msg.payload, False
            seen.window_frames += 1
            seen.frames += 1
            if self.camera_sink is not None and (back := self.silence.frame(camera, now, datetime.now(UTC))):
                self._status.append(back)
        try:
            self._inboxes[worker_for(camera, self.n_workers)].put_nowait((camera, msg.payload, ts_ms, width))
        except queue.Full:
            m.FRAMES.labels(camera, "dropped").inc()

    def _registered(self, camera: str) -> bool:
        """With ``EW_REQUIRE_REGISTERED_DEVICES``, whether the camera is registered; a refusal is counted before any
        state, buffer or worker exists for it, under no camera label (fake ids must not make metric series).
        """
        if not self.settings.require_registered_devices or self.registry.known(camera):
            return True
        m.FRAMES.labels("", "unknown_device").inc()
        return False

    def _reject(self, camera: str, seen: CameraSeen, reason: str) -> None:
        m.FRAMES.labels(camera, reason).inc()
        with self._lock:
            seen.rejected += 1
        log.info("camera %s: frame rejected (%s)", camera, reason)

    # reports and health --------------------------------------------------------------------------------------

    def _read_reports(self) -> None:
        while not self._stop.is_set():
            try:
                report = self._outbox.get(timeout=0.5)
            except queue.Empty:
                continue
            self._on_report(report)

    def _on_report(self, report: WorkerReport) -> None:
        camera = report.camera
        match report:
            case FramesAnalysed(count=count):
                m.FRAMES.labels(camera, "ok").inc(count)
            case FrameRejected(reason=reason):
                m.FRAMES.labels(camera, reason).inc()
                with self._lock:
                    if camera in self._seen:
                        self._seen[camera].rejected += 1
            case LitteringFound(event_id=event_id, floor=floor, alert_id=alert_id):
                m.LITTERING_EVENTS.labels(camera).inc()
                self.events.append((camera, event_id, floor, alert_id))
                log.info("littering on camera %s: event %s, floor %s", camera, event_id, floor)
            case EvidenceFailed():
                m.EVIDENCE_FAILURES.labels(camera).inc()
            case TracksRejected(by_reason=by_reason):
                for reason, n in by_reason.items():
                    m.TRACKS_REJECTED.labels(camera, reason).inc(n)

    def _health_loop(self) -> None:
        """Restart dead workers and write health, every second, whatever goes wrong in one pass."""
        last_db = 0.0
        while not self._stop.wait(1.0):
            try:
                last_db = self._health_pass(last_db)
            except Exception:  # this thread restarts crashed workers: it must outlive any one failure
                HEALTH_ERRORS.inc()
                log.exception("vision health pass failed; next pass in 1 s")

    def _health_pass(self, last_db: float) -> float:
        """One pass of the health loop; returns when health was last written to the database."""
        self._check_workers()
        now = time.monotonic()
        with self._lock:
            for camera, seen in self._seen.items():
                if not seen.last_wall:
                    continue
                age = now - seen.last_wall
                m.SECONDS_SINCE_FRAME.labels(camera).set(round(age, 1))
                silent = age > self.silent_after_s
                if silent and not seen.silent:
                    m.SILENCES.labels(camera).inc()
                    log.warning("camera %s silent for %.0f s", camera, age)
                seen.silent = silent
                m.SILENT.labels(camera).set(1 if silent else 0)
        self._camera_status(now)
        if now - last_db >= HEALTH_EVERY_S:
            last_db = now
            self._write_health()
        return last_db

    def _camera_status(self, now: float) -> None:
        """Cameras gone silent past the limit, and those whose frames came back, through the camera sink."""
        if self.camera_sink is None or self.settings.database_url is None:
            return
        with self._lock:
            changes, self._status = [*self._status, *self.silence.check(now, datetime.now(UTC))], []
        if not changes:
            return
        try:
            with connect(self.settings.database_url) as conn, conn.transaction():
                for change in changes:
                    self.camera_sink(conn, change)
        except Exception:
            with self._lock:
                for change in changes:
                    self.silence.unreport(change)
            raise
        for change in changes:
            log.warning("camera %s %s", change.camera, "back online" if change.online
                        else f"offline: no frame for {change.silent_s:.0f} s")

    def _check_workers(self) -> None:
        for i, proc in enumerate(self._procs):
            if not proc.is_alive() and not self._stopping:
                log.error("vision worker %d died (exit %s); restarting", i, proc.exitcode)
                m.WORKER_RESTARTS.inc()
                self._procs[i] = self._spawn(i, self._worker_config())

    def _write_health(self) -> None:
        """Latest frames to disk and health rows to the database, for the API (another process)."""
        now = time.monotonic()
        rows: list[CameraHealth] = []
        latest: list[tuple[str, bytes]] = []
        with self._lock:
            for camera, seen in self._seen.items():
                span = now - seen.window_start
                if span > 0:
                    seen.fps = seen.window_frames / span
                seen.window_frames, seen.window_start = 0, now
                if seen.latest is not None and not seen.latest_written:
                    latest.append((camera, seen.latest))
                    seen.latest_written = True
                if seen.last_at is not None:
                    rows.append(CameraHealth(camera, seen.width, seen.height, round(seen.fps, 2), seen.last_at,
                                             seen.frames, seen.rejected))
                seen.frames = seen.rejected = 0
        for camera, jpeg in latest:
            try:
                self._write_latest(camera, jpeg)
            except (OSError, ValueError):  # a full disk or an id no file may have: the other cameras go on
                log.exception("latest frame of camera %r not written", camera[:80])
        if rows and self.settings.database_url is not None:
            try:
                with connect(self.settings.database_url) as conn, conn.transaction():
                    upsert_health(conn, self.settings.site, rows)
            except Exception:
                log.exception("camera health write failed")


    def _write_latest(self, camera: str, jpeg: bytes) -> None:
        folder = self.settings.data_dir / "cameras"
        inside(folder, camera)  # refuses ids that are not protocol ids or that would leave the folder
        path = latest_frame_path(self.settings.data_dir, camera)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(jpeg)
        tmp.replace(path)


def _ts_ms(msg: Message) -> float:
    """The camera's capture time (user property ``ts``, epoch ms) or, without one, the time of arrival."""
    raw = msg.user_property("ts")
    if raw is not None:
        try:
            return float(raw)
        except ValueError:
            pass
    return time.time() * 1000.0
