"""Simulated entrance frames over a real Mosquitto -> entrance worker -> access events that ingest accepts."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np

from common.messages import Accepted, AccessPayload, Limits, parse
from common.mqtt import BoundedPublisher, Message, Subscriber
from common.settings import MqttTarget
from simulators.entrance import FaceSource, demo_cast, load_sources, make_entrance_scene
from simulators.entrance_publish import publish_entrance
from vision.faces.detector import FaceDetector
from vision.faces.embedder import FaceEmbedder
from vision.faces.entrance import EntranceCamera
from vision.faces.gallery import UNKNOWN, Enrolment, Gallery
from vision.faces.worker import EntranceWorker


def _gallery(embedder: FaceEmbedder, folder: Path, enrol: dict[str, list[FaceSource]]) -> Gallery:
    out = []
    for resident, photos in enrol.items():
        rows = []
        for p in photos:
            image = cv2.imread(str(folder / p.file))
            assert image is not None
            rows.append(embedder.embed(image, np.array([p.box], np.float32))[0])
        out.append(Enrolment(resident, np.stack(rows), True))
    return Gallery(out)


def test_frames_over_mqtt_become_access_events(mqtt_url: str, site: str, detector: FaceDetector,
                                               embedder: FaceEmbedder, face_photos: Path) -> None:
    target = MqttTarget.parse(mqtt_url)
    enrol, walk = demo_cast(load_sources())
    gallery = _gallery(embedder, face_photos, enrol)
    scene = make_entrance_scene("gate-n-out", "north", "out", walk[:3], seed=4, folder=face_photos)
    worker = EntranceWorker(site, [EntranceCamera(id="gate-n-out", gate="north", direction="out")], detector,
                            embedder, lambda _now: gallery)
    events: list[Message] = []
    frames: list[Message] = []
    lock = threading.Lock()

    def on_frame(msg: Message) -> None:
        with lock:
            frames.append(msg)
        msg.ack()

    def on_event(msg: Message) -> None:
        with lock:
            events.append(msg)
        msg.ack()

    frame_sub = Subscriber(target, [f"estate/{site}/camera/+/frame"], on_frame, qos=0, persistent=False)
    event_sub = Subscriber(target, [f"estate/{site}/access/+/event"], on_event, qos=1, persistent=False)
    frame_sub.start()
    event_sub.start()
    assert frame_sub.wait_connected(10)
    assert event_sub.wait_connected(10)
    time.sleep(0.3)
    truth = publish_entrance(target, site, [scene], speed=0)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(frames) < scene.n_frames:
        time.sleep(0.1)
    assert len(frames) == scene.n_frames

    out = BoundedPublisher(target).start()
    for msg in frames:  # the vision side: each frame once, in order, as the service would hand them over
        ts_ms = float(msg.user_property("ts") or 0)
        camera = msg.topic.split("/")[3]
        for access in worker.on_frame(camera, msg.payload, ts_ms):
            out.publish(access.topic, access.payload, qos=1)
    for access in worker.flush():
        out.publish(access.topic, access.payload, qos=1)
    out.close()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(events) < len(truth["passages"]):
        time.sleep(0.1)
    frame_sub.stop()
    event_sub.stop()

    assert len(events) == len(truth["passages"]) == 3
    limits = Limits(site=site)
    people = []
    for msg, t in zip(events, truth["passages"], strict=True):
        assert msg.topic == f"estate/{site}/access/north/event"
        accepted = parse(msg.topic, msg.payload, datetime.now(UTC), limits)
        assert isinstance(accepted, Accepted), accepted
        assert isinstance(accepted.payload, AccessPayload)
        assert accepted.payload.method == "face"
        assert accepted.payload.direction == "out"
        people.append(accepted.payload.person)
        assert accepted.payload.person in (t["resident"] or UNKNOWN, UNKNOWN)
    assert people[0] == truth["passages"][0]["resident"]  # the resident with three photos, enrolled from two
    assert people[1] == UNKNOWN  # a stranger
    assert worker.bad_frames == 0
