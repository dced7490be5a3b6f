"""``EntranceService``: entrance cameras' frames over MQTT -> face worker process(es) -> access events over MQTT.

A component of its own beside the littering ``VisionService``, which ignores these cameras. It subscribes only to
its cameras' frame topics (QoS 0, no persistent session: a late frame is worthless), hands frames to worker
processes that hold the models and the gallery, and publishes each passage on ``estate/{site}/access/{gate}/event``
with QoS 1 (a passage must not be lost). Frames and face crops stay in memory: nothing is written to disk.

Without the ``faces`` extra or the ``EW_FACE_KEY`` setting the service logs why, counts it, and leaves the entrance
cameras idle: the rest of the process runs on.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import multiprocessing as mp
import queue
import signal
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path
from typing import Any

from prometheus_client import Counter
from pydantic import TypeAdapter, ValidationError

from common import topics
from common.mqtt import BoundedPublisher, Message, Subscriber
from common.settings import Settings
from store.db import Conn, connect
from store.registry import DeviceRegistry
from vision.decode import BadFrameError
from vision.faces import FACES_EXTRA_HINT, FacesUnavailableError
from vision.faces.crypto import EmbeddingSealer, new_key, parse_key
from vision.faces.detector import FaceDetector, model_path
from vision.faces.embedder import FaceEmbedder, model_files
from vision.faces.enrolment import GalleryCache
from vision.faces.entrance import EntranceCamera
from vision.faces.gallery import UNKNOWN, Gallery
from vision.faces.worker import AccessMessage, EntranceWorker
from vision.frame_guard import checked_size
from vision.workers import close_inbox, in_partition, parse_partition

log = logging.getLogger(__name__)

UNAVAILABLE = Counter("ew_entrance_unavailable_total",
                      "Starts of the entrance service that left its cameras idle (no_key, bad_key, no_faces_extra)",
                      ["reason"])
FRAMES = Counter("ew_entrance_frames_total", "Entrance camera frames by outcome (queued, dropped, oversized, ...)",
                 ["camera", "result"])
PASSAGES = Counter("ew_entrance_passages_total", "Access events published by entrance cameras (named, unknown)",
                   ["camera", "outcome"])
RESTARTS = Counter("ew_entrance_worker_restarts_total", "Entrance worker processes restarted after dying")
GALLERY_ERRORS = Counter("ew_entrance_gallery_errors_total", "Failed reads of the face gallery (old one kept)")

FrameItem = tuple[str, bytes, float]
"""A frame handed to a worker: camera id, JPEG bytes, capture time (epoch ms)."""


class EntranceConfigError(ValueError):
    """The entrance cameras file cannot be used; the message names the file and the problem."""


def load_entrance_cameras(path: Path | None) -> list[EntranceCamera]:
    """The cameras of ``EW_ENTRANCE_CAMERAS_FILE`` (a JSON list), or none when the setting is unset."""
    if path is None:
        return []
    try:
        cameras = TypeAdapter(list[EntranceCamera]).validate_json(path.read_bytes())
    except OSError as exc:
        raise EntranceConfigError(f"entrance cameras file {path}: {exc}") from exc
    except ValidationError as exc:
        raise EntranceConfigError(f"entrance cameras file {path}: {exc}") from exc
    ids = [c.id for c in cameras]
    if len(set(ids)) != len(ids):
        raise EntranceConfigError(f"entrance cameras file {path}: camera ids must be unique")
    return cameras


def unavailable_reason(settings: Settings) -> tuple[str, str] | None:
    """(metric label, message) when the face stage cannot run here; None when it can. Loads no model."""
    if settings.face_key is None:
        return "no_key", "EW_FACE_KEY is not set: embeddings cannot be opened (make one: estatewatch faces key)"
    try:
        parse_key(settings.face_key.get_secret_value())
    except ValueError as exc:
        return "bad_key", str(exc)
    try:
        _check_extra()
    except FacesUnavailableError as exc:
        return "no_faces_extra", str(exc)
    return None


def _check_extra() -> None:
    """Raise ``FacesUnavailableError`` unless the weights, dlib and ``cryptography`` are all installed."""
    model_path("back")
    model_files()
    EmbeddingSealer(new_key())
    try:
        found = importlib.util.find_spec("dlib")
    except (ImportError, ValueError):  # a broken or blocked install says so by raising, not by returning None
        found = None
    if found is None:
        raise FacesUnavailableError(f"cannot import 'dlib': {FACES_EXTRA_HINT}")


@dataclass(frozen=True)
class EntranceWorkerConfig:
    """What a face worker process needs, picklable: it crosses a process boundary at spawn."""

    site: str
    database_url: str | None
    cameras: list[dict[str, Any]]  # EntranceCamera dumps (plain dicts cross the boundary)
    face_key: str
    refresh_s: float = 10.0
    idle_flush_s: float = 2.0  # a camera quiet this long: its open tracks end (the last person is reported)
    detector_model: str = "back"


@dataclass(frozen=True)
class Published:
    """An access event for the parent to publish."""

    camera: str
    topic: str
    payload: bytes
    named: bool


@dataclass(frozen=True)
class WorkerFailed:
    """A worker could not load the models or the key: the cameras stay idle, it is not restarted."""

    reason: str


@dataclass(frozen=True)
class FrameFailed:
    """A frame the worker could not use (``bad_frame``: not decodable; ``error``: the pipeline failed)."""

    camera: str
    result: str


WorkerOutput = Published | WorkerFailed | FrameFailed


class GallerySource:
    """The worker's view of the gallery, rebuilt from PostgreSQL when it changed.

    On a database error the last gallery is kept: a short outage must neither make everyone unknown nor stop the
    camera.
    """

    def __init__(self, conf: EntranceWorkerConfig, sealer: EmbeddingSealer, model: str) -> None:
        self.url = conf.database_url
        self.cache = GalleryCache(sealer, model, conf.site, conf.refresh_s)
        self._conn: Conn | None = None

    def get(self, _ts: float) -> Gallery:
        """The gallery of the moment (checked for changes every ``refresh_s``)."""
        if self.url is None:
            return self.cache.gallery
        try:
            if self._conn is None or self._conn.closed:
                self._conn = connect(self.url, autocommit=True)
            return self.cache.get(self._conn, time.monotonic())
        except Exception:  # any database trouble: keep matching against the last gallery
            GALLERY_ERRORS.inc()
            log.exception("face gallery not refreshed; matching against the previous one")
            self.close()
            return self.cache.gallery

    def close(self) -> None:
        """Drop the database connection."""
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
        self._conn = None


class FaceWorkerLoop:
    """The body of a face worker process, apart from the process plumbing."""

    def __init__(self, conf: EntranceWorkerConfig, outbox: Queue[WorkerOutput]) -> None:
        detector = FaceDetector(conf.detector_model)
        embedder = FaceEmbedder()
        sealer = EmbeddingSealer(conf.face_key)
        cameras = [EntranceCamera.model_validate(c) for c in conf.cameras]
        self.conf = conf
        self.outbox = outbox
        self.gallery = GallerySource(conf, sealer, embedder.model_name)
        self.worker = EntranceWorker(conf.site, cameras, detector, embedder, self.gallery.get)
        self.last: dict[str, float] = {}

    def send(self, messages: list[AccessMessage]) -> None:
        """Hand access events to the parent, which publishes them."""
        for msg in messages:
            self.outbox.put(Published(msg.passage.camera, msg.topic, msg.payload, msg.passage.person != UNKNOWN))

    def on_idle(self) -> None:
        """Cameras quiet for ``idle_flush_s``: end their open tracks, so the last person through is reported."""
        now = time.monotonic()
        for camera in [c for c, t in self.last.items() if now - t > self.conf.idle_flush_s]:
            self.send(self.worker.flush_camera(camera))
            del self.last[camera]

    def on_frame(self, camera: str, jpeg: bytes, ts_ms: float) -> None:
        """One frame; it is not referenced once this returns."""
        self.last[camera] = time.monotonic()
        bad = self.worker.bad_frames
        try:
            self.send(self.worker.on_frame(camera, jpeg, ts_ms))
        except Exception:  # one bad frame must not stop the gate
            log.exception("entrance worker failed on a frame of %s", camera)
            self.outbox.put(FrameFailed(camera, "error"))
        if self.worker.bad_frames != bad:
            self.outbox.put(FrameFailed(camera, "bad_frame"))

    def close(self) -> None:
        """End every open track and report it, then drop the database connection."""
        self.send(self.worker.flush())
        self.gallery.close()


def entrance_worker_main(conf: EntranceWorkerConfig, inbox: Queue[FrameItem | None],
                         outbox: Queue[WorkerOutput]) -> None:
    """Entry point of a face worker process: frames in, access events out, until a ``None`` arrives."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C goes to the parent, which stops workers in order
    try:
        loop = FaceWorkerLoop(conf, outbox)
    except (FacesUnavailableError, ValueError, RuntimeError) as exc:
        outbox.put(WorkerFailed(str(exc)))
        return
    try:
        while True:
            try:
                item = inbox.get(timeout=0.5)
            except queue.Empty:
                loop.on_idle()
                continue
            if item is None:
                break
            loop.on_frame(*item)
            del item  # the frame is not kept
    except KeyboardInterrupt:
        pass
    finally:
        loop.close()


class EntranceService:
    """Subscribes to the entrance cameras' frames, runs face workers, publishes their access events."""

    def __init__(self, settings: Settings, cameras: list[EntranceCamera] | None = None, *, workers: int = 1,
                 queue_frames: int = 64, idle_flush_s: float = 2.0) -> None:
        self.settings = settings
        configured = cameras if cameras is not None else load_entrance_cameras(settings.entrance_cameras_file)
        self.camera_ids = frozenset(c.id for c in configured)  # every entrance camera: the littering side skips all
        partition = parse_partition(settings.vision_partition)  # several vision processes: each gate once
        self.cameras = [c for c in configured if in_partition(c.id, partition)]
        self._owned = frozenset(c.id for c in self.cameras)
        self.n_workers = max(1, min(workers, len(self.cameras) or 1))
        self.queue_frames = queue_frames
        self.idle_flush_s = idle_flush_s
        self.unavailable: str | None = None  # why the cameras are idle, when they are
        self.published: deque[tuple[str, bytes]] = deque(maxlen=200)  # the latest events, for logs and tests
        self._ctx = mp.get_context("spawn")  # no fork: the MQTT threads must not be duplicated
        self._inboxes: list[Queue[FrameItem | None]] = []
        self._procs: list[BaseProcess] = []
        self._outbox: Queue[WorkerOutput] = self._ctx.Queue()
        self._failed = False
        self._stopping = False
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None
        self._subscriber: Subscriber | None = None
        self._publisher: BoundedPublisher | None = None
        self.registry = DeviceRegistry(name="entrance")  # consulted only with EW_REQUIRE_REGISTERED_DEVICES

    @property
    def running(self) -> bool:
        """True once the workers run and frames are subscribed."""
        return self._subscriber is not None and not self._failed

    def start(self) -> None:
        """Check the extra and the key, spawn the workers, then subscribe; idle (logged, counted) when unable."""
        if not self.cameras:
            log.info("no entrance cameras for this vision process")
            return
        problem = unavailable_reason(self.settings)
        if problem is not None:
            label, message = problem
            UNAVAILABLE.labels(label).inc()
            self.unavailable = message
            log.error("entrance cameras %s stay idle: %s", ", ".join(c.id for c in self.cameras), message)
            return
        self._publisher = BoundedPublisher(self.settings.mqtt, max_inflight=100).start()
        for i in range(self.n_workers):
            self._inboxes.append(self._ctx.Queue(maxsize=self.queue_frames))
            self._procs.append(self._spawn(i))
        self._reader = threading.Thread(target=self._read_outputs, name="entrance-outputs", daemon=True)
        self._reader.start()
        wanted = [topics.frame(self.settings.site, c.id) for c in self.cameras]
        if self.settings.require_registered_devices:  # a configured entrance camera must be registered too
            self.registry.start(lambda: connect(self.settings.require_database_url()))
        self._subscriber = Subscriber(self.settings.mqtt, wanted, self._on_message, qos=0, persistent=False,
                                      manual_ack=False)
        self._subscriber.start()

    def wait_connected(self, timeout: float = 10.0) -> bool:
        """Wait until the broker has acknowledged the frame subscription."""
        return self._subscriber is not None and self._subscriber.wait_connected(timeout)

    def stop(self) -> None:
        """Unsubscribe, let workers end their open tracks, publish what they report, disconnect."""
        self._stopping = True
        if self._subscriber is not None:
            self._subscriber.stop()
        self.registry.stop()
        for inbox in self._inboxes:
            with contextlib.suppress(queue.Full):
                inbox.put(None, timeout=5)
        for proc in self._procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.terminate()
        for inbox, proc in zip(self._inboxes, self._procs, strict=False):
            close_inbox(inbox, proc)  # no feeder thread outlives stop(), and exit never waits on a dead reader
        self._stop.set()
        if self._reader is not None:
            self._reader.join(timeout=10)
        if self._publisher is not None:
            self._publisher.close(flush_timeout=10)

    def _config(self) -> EntranceWorkerConfig:
        key = self.settings.face_key
        if key is None:
            raise RuntimeError("EW_FACE_KEY is not set")
        return EntranceWorkerConfig(
            self.settings.site, self.settings.database_url, [c.model_dump() for c in self.cameras],
            key.get_secret_value(), self.settings.face_gallery_refresh_s, self.idle_flush_s)

    def _spawn(self, index: int) -> BaseProcess:
        proc = self._ctx.Process(target=entrance_worker_main, args=(self._config(), self._inboxes[index],
                                 self._outbox), name=f"ew-entrance-{index}", daemon=True)
        proc.start()
        return proc

    def _on_message(self, msg: Message) -> None:
        route = topics.parse_topic(msg.topic)
        if route is None or route.kind is not topics.Kind.FRAME or route.entity not in self._owned:
            FRAMES.labels("", "bad_topic").inc()
            return
        camera = route.entity
        if self._failed:
            FRAMES.labels(camera, "idle").inc()
            return
        if self.settings.require_registered_devices and not self.registry.known(camera):
            FRAMES.labels(camera, "unknown_device").inc()  # a configured camera (bounded ids), not registered
            return
        try:
            checked_size(msg.payload, max_bytes=self.settings.max_frame_bytes,
                         max_pixels=self.settings.max_frame_pixels)
        except BadFrameError as exc:
            FRAMES.labels(camera, exc.reason).inc()
            return
        inbox = self._inboxes[zlib.crc32(camera.encode()) % len(self._inboxes)]
        try:
            inbox.put_nowait((camera, msg.payload, _ts_ms(msg)))
        except queue.Full:
            FRAMES.labels(camera, "dropped").inc()
            return
        FRAMES.labels(camera, "queued").inc()

    def _read_outputs(self) -> None:
        while True:
            try:
                out = self._outbox.get(timeout=0.3)
            except queue.Empty:
                if self._stop.is_set():
                    return
                self._check_workers()
                continue
            try:
                self._on_output(out)
            except Exception:  # the reader publishes every passage: it must outlive one failure
                log.exception("entrance output not handled")

    def _on_output(self, out: WorkerOutput) -> None:
        match out:
            case Published(camera=camera, topic=topic, payload=payload, named=named):
                if self._publisher is None:
                    raise RuntimeError("entrance publisher not started")
                self._publisher.publish(topic, payload, qos=1)
                self.published.append((topic, payload))
                PASSAGES.labels(camera, "named" if named else "unknown").inc()
            case FrameFailed(camera=camera, result=result):
                FRAMES.labels(camera, result).inc()
            case WorkerFailed(reason=reason):
                self._failed = True
                self.unavailable = reason
                UNAVAILABLE.labels("worker_failed").inc()
                log.error("entrance cameras stay idle: a face worker could not start: %s", reason)

    def _check_workers(self) -> None:
        if self._stopping or self._failed:
            return
        for i, proc in enumerate(self._procs):
            if not proc.is_alive():
                log.error("entrance worker %d died (exit %s); restarting", i, proc.exitcode)
                RESTARTS.inc()
                self._procs[i] = self._spawn(i)


def _ts_ms(msg: Message) -> float:
    """The camera's capture time (user property ``ts``, epoch ms) or, without one, the time of arrival."""
    raw = msg.user_property("ts")
    if raw is not None:
        with contextlib.suppress(ValueError):
            return float(raw)
    return time.time() * 1000.0

