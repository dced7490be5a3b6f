"""End to end on the real services: simulated camera -> Mosquitto -> VisionService (worker processes) -> littering
event in PostgreSQL, an alert raised, evidence files on disk, and the alert on ``estate/{site}/alerts``."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest
from psycopg import sql
from psycopg.rows import DictRow

from alerts.outbox_dispatcher import OutboxDispatcher
from common.mqtt import BoundedPublisher, Message, Subscriber
from common.settings import Settings
from common.topics import alerts as alerts_topic
from estatewatch.wiring import LitteringAlerts
from simulators.camera.publish import publish_scenes
from simulators.camera.scene import ground_truth
from store.db import connect
from tests.vision.helpers import one_throw_scene
from vision.paths import latest_frame_path
from vision.service import VisionService

T = TypeVar("T")


def wait_for(check: Callable[[], T], timeout: float = 30.0, every: float = 0.2) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    return check()


@pytest.fixture
def vision_settings(settings: Settings, tmp_path: Path) -> Settings:
    scene = one_throw_scene(640, 360, floor=12)
    cameras = tmp_path / "cameras.json"
    cam = scene.camera_json("tower3-south") | {"building": "3", "name": "Tower 3 south"}
    cameras.write_text(json.dumps([cam]))
    return settings.model_copy(update={"cameras_file": cameras, "vision_workers": 2})


def test_simulated_throw_becomes_event_alert_evidence_and_mqtt_message(vision_settings: Settings) -> None:
    settings = vision_settings
    received: list[object] = []  # the alert id of each message on the alerts topic
    got = threading.Event()

    def on_alert(msg: Message) -> None:
        received.append(json.loads(msg.payload).get("alert", {}).get("id"))
        got.set()

    listener = Subscriber(settings.mqtt, [alerts_topic(settings.site)], on_alert, qos=1, persistent=False,
                          manual_ack=False)
    listener.start()
    assert listener.wait_connected(10)
    publisher = BoundedPublisher(settings.mqtt).start()
    outbox = OutboxDispatcher(settings.require_database_url(), publisher, idle_s=0.2)
    outbox.start()
    service = VisionService(settings, silent_after_s=2.0, alert_sink=LitteringAlerts())
    service.start()
    try:
        assert service.wait_connected(10)
        scene = one_throw_scene(640, 360, floor=12)
        truth = ground_truth(scene)[0]
        publish_scenes(settings.mqtt, settings.site, {"tower3-south": scene}, speed=4.0)

        def event_row() -> list[DictRow]:
            with connect(settings.require_database_url()) as conn:
                return conn.execute("SELECT * FROM littering_events WHERE site = %s", (settings.site,)).fetchall()

        rows = wait_for(event_row, timeout=40)
        assert len(rows) == 1
        ev = rows[0]
        assert ev["camera_id"] == "tower3-south"
        assert ev["building"] == "3"
        assert ev["floor"] == truth["floor"] == 12
        assert ev["alert_id"] is not None
        with connect(settings.require_database_url()) as conn:
            alert = conn.execute("SELECT * FROM alerts WHERE id = %s", (ev["alert_id"],)).fetchone()
            stored = conn.execute("SELECT * FROM events WHERE kind = 'littering' AND site = %s",
                                  (settings.site,)).fetchall()
        assert alert is not None
        assert alert["type"] == "littering"
        assert alert["severity"] == "major"
        assert alert["subject"]["floor"] == 12
        assert alert["evidence"]["snapshot"] == f"/api/v1/evidence/{ev['event_id']}/snapshot.jpg"
        assert len(stored) == 1
        assert stored[0]["source"] == "tower3-south"

        def evidence(column: str) -> object:
            with connect(settings.require_database_url()) as conn:
                query = sql.SQL("SELECT {} FROM littering_events WHERE event_id = %s").format(sql.Identifier(column))
                row = conn.execute(query, (ev["event_id"],)).fetchone()
            return None if row is None else row[column]

        assert wait_for(lambda: evidence("mjpeg_path"), timeout=30)
        folder = settings.evidence_dir / "tower3-south" / ev["event_id"]
        assert (folder / "snapshot.jpg").stat().st_size > 1000
        assert (folder / "clip.mjpeg").stat().st_size > 10_000
        assert wait_for(lambda: evidence("clip_path"), timeout=60)  # VP9 encoding follows in the background
        assert (folder / "clip.mp4").stat().st_size > 1000
        assert got.wait(20)
        assert ev["alert_id"] in received
        assert wait_for(lambda: latest_frame_path(settings.data_dir, "tower3-south").exists(), timeout=10)
        with connect(settings.require_database_url()) as conn:
            cam = wait_for(lambda: conn.execute("SELECT * FROM cameras WHERE camera_id = 'tower3-south'"
                                                " AND frames > 0").fetchone(), timeout=10)
        assert cam is not None
        assert cam["width"] == 640
        assert cam["height"] == 360
        assert cam["config"]["floor_lines"]
    finally:
        service.stop()
        outbox.stop()
        publisher.close(flush_timeout=5)
        listener.stop()
