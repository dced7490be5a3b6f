"""Registration (``EW_REQUIRE_REGISTERED_DEVICES``) in every role, against the real broker and database: an
unregistered sensor's smoke alarm raises nothing, an unregistered gate cannot reset a resident's not-out timer, an
unregistered camera's frames allocate nothing, ingest refuses every kind from a stranger; registered ones pass."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from prometheus_client import REGISTRY

from alerts import queries
from alerts.config import AlertsConfig
from alerts.presence import Resident
from alerts.presence_rules import RuleConfig
from alerts.resident_records import load_states, upsert_residents
from alerts.service import AlertsService
from common import topics
from common.mqtt import BoundedPublisher, Message
from common.settings import Settings
from ingest.service import IngestService
from store.db import connect
from store.devices import register
from store.registry import DeviceRegistry
from tests.helpers import DatabaseSwitch, wait_until
from tests.vision.helpers import jpeg
from vision.faces.entrance import EntranceCamera
from vision.faces.service import EntranceService
from vision.service import VisionService


def _sample(name: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _alerts_events(kind: str, outcome: str) -> float:
    return _sample("ew_alerts_events_total", {"kind": kind, "outcome": outcome})


def _strict(settings: Settings, **update: object) -> Settings:
    return settings.model_copy(update={"require_registered_devices": True, **update})


def _register(settings: Settings, devices: list[tuple[str, str]], units: dict[str, str] | None = None) -> None:
    with connect(settings.require_database_url()) as conn, conn.transaction():
        register(conn, settings.site, [(d, k, None) for d, k in devices], units)


def test_the_registry_admits_devices_by_id_and_flats_by_their_unit_devices(settings: Settings) -> None:
    _register(settings, [("smoke-1", "sensor"), ("door-a-0101", "unit"), ("B-0202", "unit")],
              {"door-a-0101": "A-0101"})
    registry = DeviceRegistry()
    assert not registry.loaded
    assert not registry.known("smoke-1")  # nothing is known before the first load: registration fails closed
    with connect(settings.require_database_url()) as conn:
        assert registry.refresh(conn)
    assert registry.known("smoke-1")
    assert registry.admits("telemetry", "smoke-1")
    assert registry.admits("door", "A-0101")  # the flat of a registered unit device
    assert registry.admits("water", "B-0202")  # a flat registered under its own id
    assert not registry.admits("door", "A-0102")
    assert not registry.admits("access", "A-0101")  # a flat's id is no gate
    broken = connect(settings.require_database_url())
    broken.close()
    assert not registry.refresh(broken)  # the database is away: the last set stays
    assert registry.known("smoke-1")


def test_an_unregistered_sensor_raises_no_smoke_alert_and_is_counted(settings: Settings) -> None:
    _register(settings, [("smoke-ok", "sensor")])
    service = AlertsService(_strict(settings), tick_s=0.5)
    service.start()
    publisher = BoundedPublisher(settings.mqtt).start()
    rejected = _alerts_events("telemetry", "unknown_device")
    try:
        assert service.wait_connected()
        now = datetime.now(UTC).isoformat()
        for device in ("smoke-bad", "smoke-ok"):
            publisher.publish(topics.telemetry(settings.site, device),
                              json.dumps({"ts": now, "metrics": {"smoke_alarm": 1.0}}), qos=1)
        assert publisher.flush(10)

        def smoke_subjects() -> list[str]:
            with connect(settings.require_database_url()) as conn:
                found = queries.list_alerts(conn, site=settings.site, type_="smoke")
            return [json.dumps(a["subject"]) for a in found]
        wait_until(lambda: len(smoke_subjects()) == 1, what="the registered sensor's smoke alert")
        wait_until(lambda: _alerts_events("telemetry", "unknown_device") == rejected + 1, what="the refusal")
    finally:
        service.stop()
        publisher.close()
    subjects = smoke_subjects()
    assert "smoke-ok" in subjects[0]
    with connect(settings.require_database_url()) as conn:
        everything = json.dumps(queries.list_alerts(conn, site=settings.site), default=str)
        devices = conn.execute("SELECT device_id FROM devices WHERE device_id = 'smoke-bad'").fetchall()
    assert "smoke-bad" not in everything
    assert devices == []


def test_an_unregistered_gate_cannot_reset_a_residents_not_out_timer(settings: Settings) -> None:
    site, db_url = settings.site, settings.require_database_url()
    _register(settings, [("north", "gate")])
    with connect(db_url) as conn, conn.transaction():
        upsert_residents(conn, site, [Resident("r1", "A-1201", elderly=True, lives_alone=True, not_out_hours=24)],
                         consent=True)
    service = AlertsService(_strict(settings), tick_s=0.5,
                            config=AlertsConfig(rules=RuleConfig(no_sign_enabled=False)))
    service.start()
    publisher = BoundedPublisher(settings.mqtt).start()
    rejected = _alerts_events("access", "unknown_device")
    now = datetime.now(UTC)

    def passage(gate: str, direction: str, at: datetime) -> None:
        publisher.publish(topics.access(site, gate), json.dumps(
            {"ts": at.isoformat(), "person": "r1", "direction": direction, "method": "card"}), qos=1)

    def due() -> datetime | None:
        with connect(db_url) as conn:
            row = conn.execute("SELECT next_due_at FROM resident_state WHERE resident_id = 'r1'").fetchone()
        return None if row is None else row["next_due_at"]

    try:
        assert service.wait_connected()
        passage("north", "in", now - timedelta(hours=23))  # home for 23 hours: due in one
        assert publisher.flush(10)
        wait_until(lambda: due() is not None, what="r1's due time")
        first_due = due()
        passage("rogue", "out", now - timedelta(minutes=10))  # a forged walk that would reset the timer
        passage("rogue", "in", now - timedelta(minutes=5))
        assert publisher.flush(10)
        wait_until(lambda: _alerts_events("access", "unknown_device") == rejected + 2, what="both refusals")
        assert due() == first_due
        with connect(db_url) as conn:
            assert load_states(conn, ["r1"], lock=False)["r1"].presence == "home"
        passage("north", "out", now)  # the registered gate still passes
        assert publisher.flush(10)

        def out() -> bool:
            with connect(db_url) as conn:
                return load_states(conn, ["r1"], lock=False)["r1"].presence == "out"
        wait_until(out, what="the registered gate's passage")
    finally:
        service.stop()
        publisher.close()


def test_unregistered_cameras_allocate_nothing_and_are_counted(settings: Settings, tmp_path: Path) -> None:
    cameras_file = tmp_path / "cameras.json"
    cameras_file.write_text(json.dumps([{"id": "cam-ok"}, {"id": "cam-configured"}]))  # configured is not enough
    _register(settings, [("cam-ok", "camera")])
    service = VisionService(_strict(settings, vision_workers=1, cameras_file=cameras_file), silent_after_s=30)
    service.start()
    publisher = BoundedPublisher(settings.mqtt).start()
    refused = _sample("ew_frames_total", {"camera": "", "result": "unknown_device"})
    frame = jpeg(np.zeros((48, 64, 3), dtype=np.uint8))
    try:
        assert service.wait_connected(10)
        for camera in ("cam-stranger", "cam-configured", "cam-stranger", "cam-ok"):
            publisher.publish(topics.frame(settings.site, camera), frame, qos=1)
        assert publisher.flush(10)
        wait_until(lambda: "cam-ok" in service._seen, what="the registered camera's frame")
        wait_until(lambda: _sample("ew_frames_total", {"camera": "", "result": "unknown_device"}) == refused + 3,
                   what="three refusals")
    finally:
        service.stop()
        publisher.close()
    assert set(service._seen) == {"cam-ok"}
    for camera in ("cam-stranger", "cam-configured"):  # no state, no series, nothing reached a worker
        assert REGISTRY.get_sample_value("ew_frames_total", {"camera": camera, "result": "ok"}) is None


def test_an_unregistered_entrance_camera_reaches_no_worker(settings: Settings) -> None:
    _register(settings, [("gate-s-out", "camera")])
    cameras = [EntranceCamera(id="gate-n-in", gate="north", direction="in"),
               EntranceCamera(id="gate-s-out", gate="south", direction="out")]
    service = EntranceService(_strict(settings), cameras)
    inbox = mp.get_context("spawn").Queue(maxsize=4)
    service._inboxes.append(inbox)  # the worker's inbox, without the face models behind it
    with connect(settings.require_database_url()) as conn:
        assert service.registry.refresh(conn)
    frame = jpeg(np.zeros((48, 64, 3), dtype=np.uint8))

    def frames(camera: str, result: str) -> float:
        return _sample("ew_entrance_frames_total", {"camera": camera, "result": result})

    before = {c: (frames(c, "unknown_device"), frames(c, "queued")) for c in ("gate-n-in", "gate-s-out")}
    for camera in ("gate-n-in", "gate-s-out"):
        service._on_message(Message(topics.frame(settings.site, camera), frame, 0, 0, (), False))
    assert frames("gate-n-in", "unknown_device") == before["gate-n-in"][0] + 1
    assert frames("gate-n-in", "queued") == before["gate-n-in"][1]
    assert frames("gate-s-out", "queued") == before["gate-s-out"][1] + 1
    assert inbox.get(timeout=5)[0] == "gate-s-out"
    assert inbox.empty()
    inbox.close()
    inbox.join_thread()


def test_ingest_refuses_every_kind_from_an_unregistered_device(settings: Settings) -> None:
    _register(settings, [("north", "gate"), ("door-a-0101", "unit")], {"door-a-0101": "A-0101"})
    service = IngestService(_strict(settings))
    service.start()
    publisher = BoundedPublisher(settings.mqtt).start()
    ts = int(time.time() * 1000)
    passage = json.dumps({"ts": ts, "person": "r1", "direction": "in", "method": "card"})
    door = json.dumps({"ts": ts, "state": "open"})
    sent = [(topics.access(settings.site, "north"), passage), (topics.access(settings.site, "rogue"), passage),
            (topics.unit(settings.site, "A-0101", "door"), door), (topics.unit(settings.site, "A-0102", "door"), door),
            (topics.status(settings.site, "stranger-1"), "online")]
    try:
        assert service.subscriber.wait_connected(10)
        for topic, body in sent:
            publisher.publish(topic, body, qos=1)
        assert publisher.flush(10)
        wait_until(lambda: service.committed_messages >= len(sent), what="every message handled")
    finally:
        service.stop()
        publisher.close()
    with connect(settings.require_database_url()) as conn:
        dead = conn.execute("SELECT kind, detail FROM dead_letters WHERE reason = 'unknown_device' "
                            "ORDER BY kind").fetchall()
        events = conn.execute("SELECT count(*) AS n FROM events").fetchone()
        strangers = conn.execute("SELECT count(*) AS n FROM devices WHERE device_id = 'stranger-1'").fetchone()
    assert [(d["kind"], d["detail"]) for d in dead] == [
        ("access", "device 'rogue' is not registered"),
        ("door", "unit 'A-0102' is not registered"),
        ("status", "device 'stranger-1' is not registered"),
    ]
    assert events == {"n": 2}  # the registered gate's passage and the registered flat's door
    assert strangers == {"n": 0}


def test_a_start_during_a_database_outage_holds_messages_instead_of_refusing_them(
    settings: Settings, database_switch: DatabaseSwitch
) -> None:
    db_url = settings.require_database_url()
    _register(settings, [("known-1", "sensor")])
    database_switch(usable=False)
    service = IngestService(_strict(settings))
    publisher = BoundedPublisher(settings.mqtt).start()
    try:
        service.start()  # the registry cannot load: nothing is judged yet
        assert service.subscriber.wait_connected(10)
        publisher.publish(topics.telemetry(settings.site, "known-1"),
                          json.dumps({"ts": int(time.time() * 1000), "metrics": {"temp": 1.0}}), qos=1)
        assert publisher.flush(10)
        time.sleep(1.0)
        assert not service.registry.loaded
        assert service.queue_depth == 0  # held back on the network thread, not refused
        database_switch(usable=True)
        wait_until(lambda: service.committed_messages == 1, timeout=40, what="the held message committed")
    finally:
        database_switch(usable=True)
        service.stop()
        publisher.close()
    with connect(db_url) as conn:
        telemetry = conn.execute("SELECT count(*) AS n FROM telemetry WHERE device_id = 'known-1'").fetchone()
        dead = conn.execute("SELECT count(*) AS n FROM dead_letters").fetchone()
    assert telemetry == {"n": 1}
    assert dead == {"n": 0}
