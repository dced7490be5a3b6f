"""``VisionService``: the live driver. MQTT camera frames -> checks -> worker processes partitioned by camera.

Frames are subscribed with QoS 0 and without a persistent session: they are high-volume and worthless a few
seconds late, so after an outage the service starts from the live picture instead of a backlog the broker kept.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import os
import queue
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from estatewatch.config import Settings
from ingest.mqtt import Message, Subscriber
from vision import metrics as m
from vision.camera_config import CameraConfig, load_cameras
from vision.decode import BadFrameError, jpeg_size
from vision.workers import WorkerConfig, in_partition, parse_partition, worker_for, worker_main

log = logging.getLogger(__name__)

QUEUE_FRAMES = 64  # per worker; beyond this frames are dropped (counted), never queued without bound
HEALTH_EVERY_S = 2.0


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


def frame_topic(site: str) -> str:
    return f"estate/{site}/camera/+/frame"


def latest_frame_path(data_dir: Path, camera: str) -> Path:
    """Where the newest JPEG of a camera is kept for the API (one file per camera, replaced atomically)."""
    return data_dir / "cameras" / f"{camera}.jpg"


class VisionService:
    """Subscribes to camera frames, validates them, and spreads cameras over worker processes."""

    def __init__(self, settings: Settings, *, silent_after_s: float = 10.0) -> None:
        self.settings = settings
        self.silent_after_s = silent_after_s
        self.cameras: dict[str, CameraConfig] = load_cameras(settings.cameras_file)
        self.n_workers = settings.vision_workers or os.cpu_count() or 1
        self.partition = parse_partition(settings.vision_partition)
        self._ctx = mp.get_context("spawn")  # no fork: the MQTT and database threads must not be duplicated
        self._inboxes: list[Any] = []
        self._procs: list[Any] = []
        self._outbox: Any = self._ctx.Queue()
        self._seen: dict[str, CameraSeen] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._stopping = False
        self._threads: list[threading.Thread] = []
        self._subscriber: Subscriber | None = None
        # the latest events (camera, event_id, floor, alert id), for logs and tests; the database has them all
        self.events: deque[tuple[str, str, int | None, str | None]] = deque(maxlen=100)

    # lifecycle -----------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._store_configs()
        conf = self._worker_config()
        for i in range(self.n_workers):
            self._inboxes.append(self._ctx.Queue(maxsize=QUEUE_FRAMES))
            self._procs.append(self._spawn(i, conf))
        for target in (self._read_reports, self._health_loop):
            th = threading.Thread(target=target, name=f"vision-{target.__name__}", daemon=True)
            th.start()
            self._threads.append(th)
        self._subscriber = Subscriber(self.settings.mqtt, [frame_topic(self.settings.site)], self._on_message,
                                      qos=0, persistent=False, manual_ack=False)
        self._subscriber.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._subscriber is not None and self._subscriber.wait_connected(timeout)

    def stop(self) -> None:
        self._stopping = True  # the health loop must not restart workers that are told to exit
        if self._subscriber is not None:
            self._subscriber.stop()
        for inbox in self._inboxes:
            with contextlib.suppress(queue.Full):
                inbox.put(None, timeout=2)
        for proc in self._procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
        self._stop.set()
        for th in self._threads:
            th.join(timeout=5)
        self._write_health()

    def _worker_config(self) -> WorkerConfig:
        cams = {cid: c.model_dump(exclude_none=True) for cid, c in self.cameras.items()}
        return WorkerConfig(self.settings.site, self.settings.database_url, self.settings.evidence_dir, cams,
                            self.silent_after_s)

    def _spawn(self, index: int, conf: WorkerConfig) -> Any:
        proc = self._ctx.Process(target=worker_main, args=(conf, self._inboxes[index], self._outbox),
                                 name=f"ew-vision-{index}", daemon=True)
        proc.start()
        return proc

    def _store_configs(self) -> None:
        if self.settings.database_url is None or not self.cameras:
            return
        from store.db import connect
        from vision.store import upsert_camera_config

        with connect(self.settings.database_url) as conn, conn.transaction():
            for cfg in self.cameras.values():
                upsert_camera_config(conn, self.settings.site, cfg)

    # frames --------------------------------------------------------------------------------------------------

    def _on_message(self, msg: Message) -> None:
        parts = msg.topic.split("/")
        if len(parts) != 5:
            return
        camera = parts[3]
        if not in_partition(camera, self.partition):
            return  # another vision process (EW_VISION_PARTITION) owns this camera
        now = time.monotonic()
        with self._lock:
            seen = self._seen.setdefault(camera, CameraSeen(window_start=now))
        if len(msg.payload) > self.settings.max_frame_bytes:
            self._reject(camera, seen, "oversized")
            return
        try:
            width, height = jpeg_size(msg.payload)
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
        try:
            self._inboxes[worker_for(camera, self.n_workers)].put_nowait((camera, msg.payload, ts_ms, width))
        except queue.Full:
            m.FRAMES.labels(camera, "dropped").inc()

    def _reject(self, camera: str, seen: CameraSeen, reason: str) -> None:
        m.FRAMES.labels(camera, reason).inc()
        with self._lock:
            seen.rejected += 1
        log.info("camera %s: frame rejected (%s)", camera, reason)

    # reports and health --------------------------------------------------------------------------------------

    def _read_reports(self) -> None:
        while not self._stop.is_set():
            try:
                item = self._outbox.get(timeout=0.5)
            except queue.Empty:
                continue
            kind, camera = item[0], item[1]
            if kind == "ok":
                m.FRAMES.labels(camera, "ok").inc(item[2])
            elif kind == "rejected":
                m.FRAMES.labels(camera, item[2]).inc()
                with self._lock:
                    self._seen.setdefault(camera, CameraSeen()).rejected += 1
            elif kind == "event":
                m.LITTERING_EVENTS.labels(camera).inc()
                self.events.append((camera, item[2], item[3], item[4]))
                log.info("littering on camera %s: event %s, floor %s", camera, item[2], item[3])
            elif kind == "evidence_failed":
                m.EVIDENCE_FAILURES.labels(camera).inc()
            elif kind == "tracks_rejected":
                for reason, n in item[2].items():
                    m.TRACKS_REJECTED.labels(camera, reason).inc(n)

    def _health_loop(self) -> None:
        last_db = 0.0
        while not self._stop.wait(1.0):
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
            if now - last_db >= HEALTH_EVERY_S:
                last_db = now
                self._write_health()

    def _check_workers(self) -> None:
        for i, proc in enumerate(self._procs):
            if not proc.is_alive() and not self._stopping:
                log.error("vision worker %d died (exit %s); restarting", i, proc.exitcode)
                m.WORKER_RESTARTS.inc()
                self._procs[i] = self._spawn(i, self._worker_config())

    def _write_health(self) -> None:
        """Latest frames to disk and health rows to the database, for the API (another process)."""
        from vision.store import CameraHealth

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
            path = latest_frame_path(self.settings.data_dir, camera)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(jpeg)
            tmp.replace(path)
        if rows and self.settings.database_url is not None:
            from store.db import connect
            from vision.store import upsert_health

            try:
                with connect(self.settings.database_url) as conn, conn.transaction():
                    upsert_health(conn, self.settings.site, rows)
            except Exception:
                log.exception("camera health write failed")


def _ts_ms(msg: Message) -> float:
    """The camera's capture time (user property ``ts``, epoch ms) or, without one, the time of arrival."""
    raw = msg.user_property("ts")
    if raw is not None:
        try:
            return float(raw)
        except ValueError:
            pass
    return time.time() * 1000.0
