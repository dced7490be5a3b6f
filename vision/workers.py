"""Vision worker processes: each owns a set of cameras (by a stable hash of the id), so one camera's frames always
reach the same background model, tracker and ring buffer.

Workers report back to the service over a queue (rejections, events); the service owns the Prometheus metrics.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import signal
import time
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from vision.camera_config import CameraConfig
from vision.decode import BadFrameError, decode_gray, scale_for_width
from vision.detector import Detector, LitteringEvent
from vision.evidence import FrameRing, PendingEvidence, clip_bounds, encode_mp4, write_evidence

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
    salted CRC would keep its low bits), so that a process's cameras still spread over all of its workers."""
    if partition is None:
        return True
    digest = hashlib.blake2b(camera.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big") % partition[1] == partition[0]


@dataclass(frozen=True)
class WorkerConfig:
    site: str
    database_url: str | None
    evidence_dir: Path
    cameras: dict[str, dict[str, Any]]  # CAMERA.json objects by id (plain dicts: they cross a process boundary)
    silent_after_s: float = 10.0


@dataclass
class CameraState:
    cfg: CameraConfig
    detector: Detector
    ring: FrameRing
    frames: int = 0
    first_ts_ms: float | None = None
    last_wall: float = field(default_factory=time.monotonic)
    pending: list[PendingEvidence] = field(default_factory=list)
    idle: bool = False
    rejected_reported: dict[str, int] = field(default_factory=dict)  # detector's rejected tracks, as last reported

    @property
    def fps(self) -> float:
        return self.cfg.fps or DEFAULT_FPS


class Worker:
    """The per-process loop body, separate from process plumbing so it can be driven directly in tests."""

    def __init__(self, conf: WorkerConfig, outbox: Any) -> None:
        self.conf = conf
        self.outbox = outbox
        self.cams: dict[str, CameraState] = {}
        self._conn: Any = None
        self._ok: dict[str, int] = {}  # decoded frames per camera, reported in batches (one message per frame is waste)
        self._ok_sent = time.monotonic()
        # MP4 encoding is slow (VP9): one background thread, off the frame path; events are rare
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ew-clip")

    def camera(self, camera: str) -> CameraState:
        state = self.cams.get(camera)
        if state is None:
            raw = self.conf.cameras.get(camera, {"id": camera})
            cfg = CameraConfig.model_validate(raw)
            state = CameraState(cfg, Detector(cfg), FrameRing(cfg.fps or 25.0))
            self.cams[camera] = state
        return state

    def on_frame(self, camera: str, jpeg: bytes, ts_ms: float, width: int) -> None:
        st = self.camera(camera)
        st.last_wall = time.monotonic()
        st.idle = False
        scale = scale_for_width(width)
        try:
            gray = decode_gray(jpeg, scale)
        except BadFrameError as exc:
            self.outbox.put(("rejected", camera, exc.reason))
            return
        if st.first_ts_ms is None:
            st.first_ts_ms = ts_ms
        index = st.frames
        st.frames += 1
        st.ring.append(index, jpeg)
        events = st.detector.feed(gray, index, (ts_ms - st.first_ts_ms) / 1000.0, scale)
        for ev in events:
            self._on_event(st, ev)
        self._flush_evidence(st, index)
        self._ok[camera] = self._ok.get(camera, 0) + 1
        if time.monotonic() - self._ok_sent > 0.5:
            self.report_counts()

    def report_counts(self) -> None:
        for camera, n in self._ok.items():
            self.outbox.put(("ok", camera, n))
        self._ok.clear()
        for camera, st in self.cams.items():
            now = st.detector.stats.rejected
            new = {r: n - st.rejected_reported.get(r, 0) for r, n in now.items() if n != st.rejected_reported.get(r, 0)}
            if new:
                self.outbox.put(("tracks_rejected", camera, new))
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
        alert_id = self._store(event_id, ev, occurred, ended, st.cfg.building)
        self.outbox.put(("event", ev.camera, event_id, ev.floor, alert_id))
        _, until = clip_bounds(ev, st.fps)
        st.pending.append(PendingEvidence(event_id, ev, until, self.conf.evidence_dir / ev.camera / event_id))

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
                self.outbox.put(("evidence_failed", p.event.camera))
                continue
            rel = [str(x.relative_to(self.conf.evidence_dir)) if x is not None else None for x in (snap, clip)]
            self._db(lambda conn, p=p, rel=rel: _set_evidence(conn, p.event_id, rel[0], rel[1]))
            self.outbox.put(("evidence", p.event.camera, p.event_id, rel[0], rel[1]))
            if clip is not None:
                self._encoder.submit(self._encode, p)

    def _encode(self, p: PendingEvidence) -> None:
        """In the encoder thread, with its own connection (psycopg connections are not shared across threads)."""
        try:
            mp4 = encode_mp4(p.directory)
        except Exception:
            log.exception("MP4 clip for %s failed", p.event_id)
            self.outbox.put(("evidence_failed", p.event.camera))
            return
        if mp4 is None or self.conf.database_url is None:
            return
        from store.db import connect
        from vision.store import set_clip

        try:
            with connect(self.conf.database_url) as conn, conn.transaction():
                set_clip(conn, p.event_id, str(mp4.relative_to(self.conf.evidence_dir)))
        except Exception:
            log.exception("recording the MP4 clip of %s failed", p.event_id)

    def _store(self, event_id: str, ev: LitteringEvent, occurred: datetime, ended: datetime,
               building: str | None) -> str | None:
        from vision.store import StoredEvent, insert_event

        stored = StoredEvent(event_id, self.conf.site, occurred, ended, ev, building)
        result: list[str | None] = [None]

        def work(conn: Any) -> None:
            result[0] = insert_event(conn, stored)

        self._db(work)
        return result[0]

    def _db(self, work: Any) -> None:
        """Run ``work(conn)`` in a transaction; reconnect once when the connection broke."""
        if self.conf.database_url is None:
            return
        from store.db import connect

        for attempt in (1, 2):
            try:
                if self._conn is None or self._conn.closed:
                    self._conn = connect(self.conf.database_url)
                with self._conn.transaction():
                    work(self._conn)
                return
            except Exception:
                log.exception("vision database write failed (attempt %d)", attempt)
                if self._conn is not None:
                    self._conn.close()
                self._conn = None

    def close(self) -> None:
        self.report_counts()
        for st in self.cams.values():
            for ev in st.detector.finish():
                self._on_event(st, ev)
            self._flush_evidence(st, None)
        self._encoder.shutdown(wait=True)
        if self._conn is not None:
            self._conn.close()


def _set_evidence(conn: Any, event_id: str, snapshot: str | None, clip: str | None) -> None:
    from vision.store import set_evidence

    set_evidence(conn, event_id, snapshot, clip)


def worker_main(conf: WorkerConfig, inbox: Any, outbox: Any) -> None:
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
                outbox.put(("rejected", camera, "error"))
    except KeyboardInterrupt:
        pass
    finally:
        worker.close()
