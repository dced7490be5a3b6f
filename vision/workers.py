"""Vision worker processes: each owns a set of cameras (by a stable hash of the id), so one camera's frames always
reach the same background model, tracker and ring buffer.

Workers report back to the service over a queue (rejections, events); the service owns the Prometheus metrics.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import queue
import signal
import time
import uuid
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any, Protocol

import psycopg

from common.retry import Backoff, retry_until
from store.activity_maps import load_map, save_map
from store.db import Conn, connect
from store.littering import set_clip, set_evidence
from vision.activity_map import ActivityMap, ActivityParams
from vision.camera_config import CameraConfig
from vision.decode import BadFrameError, decode_gray, scale_for_width
from vision.detector import Detector, LitteringEvent
from vision.evidence import FrameRing, PendingEvidence, clip_bounds, encode_mp4, write_evidence
from vision.frame_guard import inside
from vision.records import AlertSink, StoredEvent, store_event
from vision.reports import (
    EvidenceFailed,
    FrameRejected,
    FramesAnalysed,
    LitteringFound,
    TracksRejected,
    WorkerReport,
)

log = logging.getLogger(__name__)

DEFAULT_FPS = 20.0


def worker_for(camera: str, workers: int) -> int:
    """Stable across processes and restarts (unlike ``hash``)."""
    return zlib.crc32(camera.encode()) % workers


def parse_partition(text: str | None) -> tuple[int, int] | None:
    """``EW_VISION_PARTITION`` "i/n" as (i, n); None takes every camera."""
    if not text:
        return None
    index, count = (int(part) for part in text.split("/"))
    if not 0 <= index < count:
        raise ValueError(f"vision partition {text!r}: i must be in 0..n-1")
    return index, count


def in_partition(camera: str, partition: tuple[int, int] | None) -> bool:
    """Whether this vision process owns the camera. A different hash from ``worker_for`` (CRC32 is linear, so a
    salted CRC would keep its low bits), so that a process's cameras still spread over all of its workers.
    """
    if partition is None:
        return True
    digest = hashlib.blake2b(camera.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % partition[1] == partition[0]


def close_inbox(inbox: Queue[Any], proc: BaseProcess, timeout_s: float = 5.0) -> None:
    """End the inbox of a worker told to stop, so that its feeder thread does not outlive ``stop()``.

    A worker that exited by itself read everything up to the final ``None``: close the queue and join the feeder.
    A worker that had to be terminated may have left frames (QoS 0: they go) and even the queue's read lock behind,
    so its feeder may never finish writing: it is left to die with the process, and exit does not wait for it.
    """
    proc.join(timeout_s)
    if proc.exitcode != 0:
        inbox.cancel_join_thread()
        inbox.close()
        return
    inbox.close()
    inbox.join_thread()


FrameItem = tuple[str, bytes, float, int]
"""A frame handed to a worker: camera id, JPEG bytes, capture time (epoch ms), width from the JPEG header."""


class TooManyCamerasError(Exception):
    """A frame of a new camera when the worker already holds ``max_cameras``."""


class ReportSink(Protocol):
    """Where a worker puts its reports: the service's multiprocessing queue, or a list-backed one in tests."""

    def put(self, item: WorkerReport) -> None:
        """Send one report."""


class FrameSource(Protocol):
    """Where a worker takes its frames from; ``None`` tells it to finish."""

    def get(self, timeout: float) -> FrameItem | None:
        """Wait up to ``timeout`` seconds for the next item; raise ``queue.Empty`` when none came."""


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker process needs, picklable: it crosses a process boundary at spawn."""

    site: str
    database_url: str | None
    evidence_dir: Path
    cameras: dict[str, dict[str, object]]  # CAMERA.json objects by id (plain dicts: they cross a process boundary)
    silent_after_s: float = 10.0
    alert_sink: AlertSink | None = None  # picklable (wiring.LitteringAlerts): it goes to the worker
    max_cameras: int = 64  # cameras this worker keeps state for: fake ids cannot grow its memory without bound
    ring_bytes: int = 48 * 1024 * 1024  # JPEG bytes of one camera's evidence ring
    activity: ActivityParams = field(default_factory=ActivityParams)  # the cameras' activity maps
    activity_save_s: float = 300.0  # seconds between saves of a camera's activity map


@dataclass
class CameraState:
    """One camera's detector, ring buffer of recent JPEGs and pending evidence, inside its worker."""

    cfg: CameraConfig
    detector: Detector
    ring: FrameRing
    frames: int = 0
    first_ts_ms: float | None = None
    last_wall: float = field(default_factory=time.monotonic)
    pending: list[PendingEvidence] = field(default_factory=list)
    idle: bool = False
    rejected_reported: dict[str, int] = field(default_factory=dict)  # detector's rejected tracks, as last reported
    activity_saved: float = field(default_factory=time.monotonic)  # when its activity map was last saved

    @property
    def fps(self) -> float:
        """The configured frame rate, or the default when the camera's configuration has none."""
        return self.cfg.fps or DEFAULT_FPS


class Worker:
    """The per-process loop body, separate from process plumbing so it can be driven directly in tests."""

    def __init__(self, conf: WorkerConfig, outbox: ReportSink) -> None:
        self.conf = conf
        self.outbox = outbox
        self.cams: dict[str, CameraState] = {}
        self._conn: Conn | None = None
        self._ok: dict[str, int] = {}  # decoded frames per camera, reported in batches (one message per frame is waste)
        self._ok_sent = time.monotonic()
        # MP4 encoding is slow (VP9): one background thread, off the frame path; events are rare
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ew-clip")

    def camera(self, camera: str) -> CameraState:
        """The camera's state, made on its first frame from its configuration (or defaults)."""
        state = self.cams.get(camera)
        if state is None:
            if len(self.cams) >= self.conf.max_cameras:
                raise TooManyCamerasError(camera)
            raw = self.conf.cameras.get(camera, {"id": camera})
            cfg = CameraConfig.model_validate(raw)
            state = CameraState(cfg, Detector(cfg), FrameRing(cfg.fps or 25.0, max_bytes=self.conf.ring_bytes))
            state.detector.activity = self._load_activity(camera)
            self.cams[camera] = state
        return state

    def on_frame(self, camera: str, jpeg: bytes, ts_ms: float, width: int) -> None:
        """Decode, detect, buffer the JPEG for evidence, and report what happened."""
        try:
            st = self.camera(camera)
        except TooManyCamerasError:
            self.outbox.put(FrameRejected("", "too_many_cameras"))
            return
        st.last_wall = time.monotonic()
        st.idle = False
        scale = scale_for_width(width)
        try:
            gray = decode_gray(jpeg, scale)
        except BadFrameError as exc:
            self.outbox.put(FrameRejected(camera, exc.reason))
            return
        if st.first_ts_ms is None:
            st.first_ts_ms = ts_ms
        index = st.frames
        st.frames += 1
        st.ring.append(index, jpeg)
        events = st.detector.feed(gray, index, (ts_ms - st.first_ts_ms) / 1000.0, scale)
        if time.monotonic() - st.activity_saved >= self.conf.activity_save_s:
            self._save_activity(st)
        for ev in events:
            self._on_event(st, ev)
        self._flush_evidence(st, index)
        self._ok[camera] = self._ok.get(camera, 0) + 1
        if time.monotonic() - self._ok_sent > 0.5:
            self.report_counts()

    def report_counts(self) -> None:
        """Send the frame counts and the rejected-track counts gathered since the last report."""
        for camera, n in self._ok.items():
            self.outbox.put(FramesAnalysed(camera, n))
        self._ok.clear()
        for camera, st in self.cams.items():
            now = st.detector.stats.rejected
            new = {r: n - st.rejected_reported.get(r, 0) for r, n in now.items() if n != st.rejected_reported.get(r, 0)}
            if new:
                self.outbox.put(TracksRejected(camera, new))
                st.rejected_reported = dict(now)
        self._ok_sent = time.monotonic()

    def on_idle(self) -> None:
        """Cameras silent for a while: judge their open tracks and write evidence with the frames there are."""
        self.report_counts()
        now = time.monotonic()
        for st in self.cams.values():
            if not st.idle and now - st.last_wall > min(3.0, self.conf.silent_after_s):
                st.idle = True
                for ev in st.detector.finish():
                    self._on_event(st, ev)
                self._flush_evidence(st, None)

    def _on_event(self, st: CameraState, ev: LitteringEvent) -> None:
        event_id = uuid.uuid4().hex
        base = datetime.fromtimestamp((st.first_ts_ms or 0) / 1000.0, UTC)
        occurred, ended = base + timedelta(seconds=ev.t_start), base + timedelta(seconds=ev.t_end)
        alert_id = self._store(StoredEvent(event_id, self.conf.site, occurred, ended, ev, st.cfg.building))
        self.outbox.put(LitteringFound(ev.camera, event_id, ev.floor, alert_id))
        _, until = clip_bounds(ev, st.fps)
        try:
            directory = inside(self.conf.evidence_dir, ev.camera, event_id)
        except ValueError:  # the topic pattern refuses such ids already; never write outside the evidence folder
            log.exception("no evidence folder for camera %r", ev.camera[:80])
            self.outbox.put(EvidenceFailed(ev.camera))
            return
        st.pending.append(PendingEvidence(event_id, ev, until, directory))

    def _flush_evidence(self, st: CameraState, index: int | None) -> None:
        if not st.pending:
            return
        ready = [p for p in st.pending if index is None or index >= p.until_frame]
        st.pending = [p for p in st.pending if p not in ready]
        for p in ready:
            try:
                snap, clip = write_evidence(p, st.ring, st.fps)
            except Exception:
                log.exception("evidence for %s failed", p.event_id)
                self.outbox.put(EvidenceFailed(p.event.camera))
                continue
            rel = [str(x.relative_to(self.conf.evidence_dir)) if x is not None else None for x in (snap, clip)]
            self._db(functools.partial(_record_evidence, event_id=p.event_id, snapshot=rel[0], mjpeg=rel[1]))
            if clip is not None:
                self._encoder.submit(self._encode, p)

    def _encode(self, p: PendingEvidence) -> None:
        """In the encoder thread, with its own connection (psycopg connections are not shared across threads)."""
        try:
            mp4 = encode_mp4(p.directory)
        except Exception:
            log.exception("MP4 clip for %s failed", p.event_id)
            self.outbox.put(EvidenceFailed(p.event.camera))
            return
        if mp4 is None or self.conf.database_url is None:
            return
        try:
            with connect(self.conf.database_url) as conn, conn.transaction():
                set_clip(conn, p.event_id, str(mp4.relative_to(self.conf.evidence_dir)))
        except Exception:
            log.exception("recording the MP4 clip of %s failed", p.event_id)

    def _store(self, stored: StoredEvent) -> str | None:
        """Store the event and raise its alert in one transaction; the alert's id, when a sink raised one."""
        result: list[str | None] = [None]

        def work(conn: Conn) -> None:
            result[0] = store_event(conn, stored, self.conf.alert_sink)

        self._db(work)
        return result[0]

    def _db(self, work: Callable[[Conn], None]) -> None:
        """Run ``work(conn)`` in one transaction, until the database takes it: an event is never dropped."""
        url = self.conf.database_url
        if url is None:
            return

        def attempt() -> None:
            if self._conn is None or self._conn.closed:
                self._conn = connect(url)
            with self._conn.transaction():
                work(self._conn)

        retry_until(attempt, what="vision database write", backoff=Backoff(max_s=5.0), on_error=self._drop_conn)

    def _drop_conn(self, _exc: Exception) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn = None

    def _load_activity(self, camera: str) -> ActivityMap:
        """The camera's stored activity map, or a fresh one (no database, none stored, unreadable, or the database
        not answering: a map is worth one attempt, never a stalled camera).
        """
        fresh = ActivityMap(self.conf.activity)
        found: list[bytes] = []

        def work(conn: Conn) -> None:
            row = load_map(conn, self.conf.site, camera)
            if row is not None:
                found.append(row.data)

        if not self._try_db(work, f"loading the activity map of {camera}") or not found:
            return fresh
        try:
            return ActivityMap.from_bytes(found[0], self.conf.activity)
        except ValueError:
            log.exception("stored activity map of camera %s unreadable; starting a new one", camera)
            return fresh

    def _save_activity(self, st: CameraState) -> None:
        """Store the camera's activity map (once it knows a frame size); a failed save is retried next period."""
        st.activity_saved = time.monotonic()
        amap = st.detector.activity
        if amap.shape is None:
            return
        rows, cols = amap.grid
        data = amap.to_bytes()
        work = functools.partial(save_map, site=self.conf.site, camera_id=st.cfg.id, rows=rows, cols=cols,
                                 observed_s=amap.observed_s, data=data)
        self._try_db(work, f"saving the activity map of {st.cfg.id}")

    def _try_db(self, work: Callable[[Conn], None], what: str) -> bool:
        """Run ``work(conn)`` in one transaction, once; False (logged) when there is no database or it failed."""
        url = self.conf.database_url
        if url is None:
            return False
        try:
            if self._conn is None or self._conn.closed:
                self._conn = connect(url)
            with self._conn.transaction():
                work(self._conn)
        except psycopg.Error as exc:
            log.warning("%s failed: %s", what, exc)
            self._drop_conn(exc)
            return False
        return True

    def close(self) -> None:
        """Judge open tracks, write pending evidence and wait for clips: what a clean stop owes its events."""
        self.report_counts()
        for st in self.cams.values():
            for ev in st.detector.finish():
                self._on_event(st, ev)
            self._flush_evidence(st, None)
            self._save_activity(st)
        self._encoder.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()


def _record_evidence(conn: Conn, *, event_id: str, snapshot: str | None, mjpeg: str | None) -> None:
    set_evidence(conn, event_id, snapshot, mjpeg)


def worker_main(conf: WorkerConfig, inbox: FrameSource, outbox: ReportSink) -> None:
    """Entry point of a worker process: frames in, reports out, until a ``None`` arrives."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C goes to the parent, which stops workers in order
    worker = Worker(conf, outbox)
    try:
        while True:
            try:
                item = inbox.get(timeout=0.5)
            except queue.Empty:
                worker.on_idle()
                continue
            if item is None:
                break
            camera, jpeg, ts_ms, width = item
            try:
                worker.on_frame(camera, jpeg, ts_ms, width)
            except Exception:  # one bad frame or camera must not stop the others
                log.exception("vision worker failed on a frame of %s", camera)
                outbox.put(FrameRejected(camera, "error"))
    except KeyboardInterrupt:
        pass
    finally:
        worker.close()
