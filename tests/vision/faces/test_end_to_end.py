"""Face to alert, live: simulated gate frames -> Mosquitto -> EntranceService -> access events -> ingest ->
PostgreSQL -> the presence rules. Real broker, real database, real models, the service's own worker process.

The gate sees four people: a consenting resident going out, a stranger, a resident who refused face recognition
and one whose face data was deleted. Only the first may be named; the other three are ``unknown``, so the rules,
which run on the ingested events with an event-time clock, still raise ``elderly_not_out`` for the refused and the
deleted resident (they did go out, but nobody may know it from their face) and for the one who stayed home.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from alerts.presence import PresenceEvent, Resident
from alerts.replay import replay
from api.app import create_app
from common.settings import Settings
from estatewatch.runtime import build_components
from simulators.entrance import FaceSource, demo_cast, load_sources, make_entrance_scene
from simulators.entrance_bridge import Clock, Walk, camera_id, cast_residents, entrance_cameras, plan
from simulators.entrance_bridge import run as bridge_run
from simulators.entrance_publish import publish_entrance
from simulators.residents import SimEvent
from store import faces as face_store
from store.db import Conn, connect
from tests.helpers import ADMIN_TOKEN
from tests.vision.faces.live_gate import gate_settings, running
from vision.faces.crypto import EmbeddingSealer
from vision.faces.embedder import MODEL_NAME, FaceEmbedder
from vision.faces.enrolment import enrol_resident
from vision.faces.gallery import UNKNOWN
from vision.faces.service import EntranceService
from vision.service import VisionService

GOES_OUT, STAYS, REFUSED, DELETED = "R-A", "R-g6-0", "R-refused", "R-g1-0"
CAMERA, GATE = "gate-n-out", "north"


def _embed(embedder: FaceEmbedder, folder: Path, photos: list[FaceSource]) -> np.ndarray:
    rows = []
    for p in photos:
        image = cv2.imread(str(folder / p.file))
        assert image is not None, p.file
        rows.append(embedder.embed(np.asarray(image, np.uint8), np.array([p.box], np.float32))[0])
    return np.stack(rows)


def _access_rows(conn: Conn, site: str) -> list[dict[str, Any]]:
    return conn.execute(
        "SELECT ts, source, subject, data FROM events WHERE site = %s AND kind = 'access' ORDER BY ts", (site,)
    ).fetchall()


def _files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def _enrol(conn: Conn, settings: Settings, sealer: EmbeddingSealer, embedder: FaceEmbedder,
           face_photos: Path) -> tuple[list[tuple[FaceSource, str | None]], np.ndarray]:
    """Residents in the database, the consenting ones enrolled; returns the gate's walkers and one embedding."""
    enrol, walk = demo_cast(load_sources())
    for rid in (GOES_OUT, STAYS, REFUSED, DELETED):
        conn.execute("INSERT INTO residents (resident_id, site, unit, consent) VALUES (%s, %s, %s, true)",
                     (rid, settings.site, f"u-{rid}"))
    consent_at = datetime.now(UTC) - timedelta(days=1)
    kept = _embed(embedder, face_photos, enrol[GOES_OUT])
    enrol_resident(conn, sealer, GOES_OUT, kept, model=MODEL_NAME, consent_at=consent_at)
    enrol_resident(conn, sealer, STAYS, _embed(embedder, face_photos, enrol[STAYS]), model=MODEL_NAME,
                   consent_at=consent_at)
    enrol_resident(conn, sealer, DELETED, _embed(embedder, face_photos, enrol[DELETED]), model=MODEL_NAME,
                   consent_at=consent_at)
    assert face_store.delete(conn, DELETED, "request")
    face_store.record_refusal(conn, REFUSED, consent_at)
    by_id = {s.identity: s for s, _ in walk}
    walkers = [(by_id["fr:A"], GOES_OUT), (by_id["fr:B"], None), (by_id["g6:3"], None), (by_id["g1:0"], None)]
    return walkers, kept


def test_gate_frames_to_elderly_not_out(settings: Settings, embedder: FaceEmbedder, face_photos: Path,
                                        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live, sealer = gate_settings(settings, tmp_path, [{"id": CAMERA, "gate": GATE, "direction": "out"}])
    with connect(settings.require_database_url(), autocommit=True) as conn:
        walkers, kept = _enrol(conn, live, sealer, embedder, face_photos)
        sealed = conn.execute("SELECT embedding FROM face_gallery WHERE resident_id = %s", (GOES_OUT,)).fetchone()
        assert sealed is not None
        assert bytes(sealed["embedding"])[:4] == b"EWF1"
        assert kept.astype("<f4").tobytes()[:64] not in bytes(sealed["embedding"])  # ciphertext, not the vectors
        assert conn.execute("SELECT count(*) AS n FROM face_gallery WHERE resident_id = %s AND embedding IS NOT NULL",
                            (DELETED,)).fetchone() == {"n": 0}
    scene = make_entrance_scene(CAMERA, GATE, "out", walkers, seed=5, gap=2.0, folder=face_photos)

    # frames and crops must reach no disk: the service's processes start in an empty folder with an empty TMPDIR
    work, scratch = tmp_path / "work", tmp_path / "scratch"
    work.mkdir()
    scratch.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(scratch))
    components = build_components(live, {"vision"})
    [vision] = [c for c in components if isinstance(c, VisionService)]
    [entrance] = [c for c in components if isinstance(c, EntranceService)]
    assert vision.ignore_cameras == frozenset({CAMERA})
    entrance.queue_frames = 2 * scene.n_frames  # the test publishes as fast as the broker takes frames
    with running(live, components):
        assert vision.wait_connected(10)
        time.sleep(0.3)
        truth = publish_entrance(live.mqtt, live.site, [scene], speed=0)
        deadline = time.monotonic() + 120
        rows: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            with connect(settings.require_database_url(), autocommit=True) as conn:
                rows = _access_rows(conn, live.site)
            if len(rows) >= len(walkers):
                break
            time.sleep(0.5)

    assert len(truth["passages"]) == len(walkers)
    assert [(r["source"], r["data"]["method"], r["data"]["direction"], r["data"]["camera"]) for r in rows] == [
        (GATE, "face", "out", CAMERA)] * len(walkers)
    assert [r["subject"] for r in rows] == [GOES_OUT, UNKNOWN, UNKNOWN, UNKNOWN]
    assert all(0.0 <= r["data"]["confidence"] <= 1.0 for r in rows)
    assert rows[0]["data"]["confidence"] > 0.5
    for row, passage in zip(rows, truth["passages"], strict=True):  # each event at its walker's passage
        at = row["ts"].timestamp() * 1000.0
        assert passage["at_ms"] - 4000 <= at <= passage["at_ms"] + 1500, (row, passage)
    assert _files(work) == []
    assert _files(scratch) == []
    assert _files(live.data_dir) == []  # no latest-frame JPEG, no crop, no evidence for an entrance camera

    # the presence rules on what ingest stored, with event time as the clock
    clip_at = rows[0]["ts"]
    home_at = clip_at - timedelta(hours=1)
    residents = [Resident(r, f"u-{r}", elderly=True, lives_alone=True, not_out_hours=24.0)
                 for r in (GOES_OUT, STAYS, REFUSED, DELETED)]
    events = [PresenceEvent(home_at, "access", resident=r.resident_id, direction="in", gate=GATE, method="card")
              for r in residents]
    events += [PresenceEvent(r["ts"], "access", resident=r["subject"], direction=r["data"]["direction"],
                             gate=r["source"], method=r["data"]["method"]) for r in rows]
    back = clip_at + timedelta(hours=2)
    events.append(PresenceEvent(back, "access", resident=GOES_OUT, direction="in", gate=GATE, method="card"))
    fired, _ = replay(events, residents, until=home_at + timedelta(hours=25))
    not_out = sorted((f.resident.resident_id, f.due_at) for f in fired if f.type == "elderly_not_out"
                     and not f.reminder)
    due = home_at + timedelta(hours=24)
    # the one who went out is not alerted (his timer restarted at his return, due 24 h later, after `until`)
    assert not_out == sorted([(STAYS, due), (REFUSED, due), (DELETED, due)])


def _wait_rows(settings: Settings, site: str, n: int, timeout: float = 60.0) -> list[dict[str, Any]]:
    """The site's access events once there are ``n`` of them (or what there is at the timeout)."""
    deadline = time.monotonic() + timeout
    rows: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        with connect(settings.require_database_url(), autocommit=True) as conn:
            rows = _access_rows(conn, site)
        if len(rows) >= n:
            break
        time.sleep(0.2)
    return rows


def _resident_days(day0: datetime) -> list[SimEvent]:
    """A day and a morning of three elderly residents living alone, in the resident simulator's output format.

    R-S comes home by face at 08:00 and then stays in; R-A goes out and comes back by face; R-C has no face here
    and comes home by card at 07:30. Door and motion events come from their flats as the simulator writes them.
    """
    def at(hours: float) -> str:
        return (day0 + timedelta(hours=hours)).isoformat(timespec="seconds")

    return [
        {"ts": at(7.5), "kind": "access", "resident": "R-C", "direction": "in", "gate": "north", "method": "card"},
        {"ts": at(7.6), "kind": "door", "unit": "u-R-C", "state": "open"},
        {"ts": at(8.0), "kind": "access", "resident": "R-S", "direction": "in", "gate": "north", "method": "face"},
        {"ts": at(8.1), "kind": "motion", "unit": "u-R-S", "sensor": "hall-pir"},
        {"ts": at(9.0), "kind": "access", "resident": "R-A", "direction": "out", "gate": "north", "method": "face"},
        {"ts": at(11.0), "kind": "access", "resident": "R-A", "direction": "in", "gate": "north", "method": "face"},
    ]


def test_simulated_residents_drive_the_gate_cameras_to_elderly_not_out(
        settings: Settings, embedder: FaceEmbedder, face_photos: Path, tmp_path: Path) -> None:
    """Resident simulator output -> bridge -> entrance frames -> MQTT -> EntranceService -> access events -> ingest
    -> presence rules: who stops passing is alerted 24 h after their last recognised passage, who keeps passing is
    not, and the stranger who walks out just before R-A (``unknown``) resets nobody's timer.

    Then R-A has his face data deleted through the admin API while the service runs: his row leaves PostgreSQL
    and the running gallery, so his next passage is ``unknown``.
    """
    tz = ZoneInfo(settings.timezone)
    day0 = datetime(2026, 3, 2)
    events = _resident_days(day0)
    cast = cast_residents(["R-A", "R-S"], load_sources())
    assert cast.identities() == {"R-A": "fr:A", "R-S": "g1:0"}
    live, sealer = gate_settings(settings, tmp_path, entrance_cameras(events))
    with connect(settings.require_database_url(), autocommit=True) as conn:
        for rid in ("R-A", "R-S", "R-C"):
            conn.execute("INSERT INTO residents (resident_id, site, unit, consent) VALUES (%s, %s, %s, true)",
                         (rid, live.site, f"u-{rid}"))
        for rid, photos in cast.enrol.items():
            enrol_resident(conn, sealer, rid, _embed(embedder, face_photos, photos), model=MODEL_NAME,
                           consent_at=datetime.now(UTC) - timedelta(days=1))
    clock = Clock(origin=day0.replace(tzinfo=tz), start=datetime.now(UTC) - timedelta(days=2), pace=False)
    steps = plan(events, cast, live.site, tz, stamp_at=clock.at, stranger_every=2)
    assert [(s.resident, s.direction) for s in steps if isinstance(s, Walk)] == [
        ("R-S", "in"), (None, "out"), ("R-A", "out"), ("R-A", "in")]

    components = build_components(live, {"vision"})
    [entrance] = [c for c in components if isinstance(c, EntranceService)]
    entrance.queue_frames = 400  # the bridge publishes as fast as the broker takes frames
    entrance.idle_flush_s = 0.5  # the last walker's track ends soon after the bridge stops
    with running(live, components):
        time.sleep(0.3)
        walked = bridge_run(live.mqtt, live.site, steps, clock, folder=face_photos, seed=3)
        rows = _wait_rows(settings, live.site, 5)
        # R-A asks for deletion while the service runs: gone from PostgreSQL, and his next passage is unknown
        with TestClient(create_app(live), base_url="http://console.test") as client:
            r = client.delete("/api/v1/residents/R-A/face", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert r.json() == {"resident_id": "R-A", "deleted": True, "reason": "request"}
        with connect(settings.require_database_url(), autocommit=True) as conn:
            assert conn.execute("SELECT count(*) AS n FROM face_gallery WHERE resident_id = 'R-A'").fetchone() == {
                "n": 0}
        time.sleep(live.face_gallery_refresh_s)
        again = Walk(day0.replace(tzinfo=tz) + timedelta(hours=30), camera_id("north", "out"), "north", "out",
                     cast.walkers["R-A"], "R-A")
        bridge_run(live.mqtt, live.site, [again], clock, folder=face_photos, seed=3)
        after = _wait_rows(settings, live.site, 6)[5:]
        with connect(settings.require_database_url(), autocommit=True) as conn:
            others = conn.execute("SELECT kind, source FROM events WHERE site = %s AND kind <> 'access' ORDER BY ts",
                                  (live.site,)).fetchall()

    assert [(r["kind"], r["source"]) for r in others] == [("door", "u-R-C"), ("motion", "u-R-S")]
    assert [(r["subject"], r["data"]["method"], r["data"]["direction"]) for r in rows] == [
        ("R-C", "card", "in"), ("R-S", "face", "in"), (UNKNOWN, "face", "out"), ("R-A", "face", "out"),
        ("R-A", "face", "in")]
    assert [(r["subject"], r["data"]["direction"]) for r in after] == [(UNKNOWN, "out")]
    for row, walk in zip(rows[1:], walked, strict=True):  # each face event where the bridge's walker reached the gate
        assert row["data"]["camera"] == walk["camera"]
        assert walk["at_ms"] - 3000 <= row["ts"].timestamp() * 1000.0 <= walk["at_ms"] + 1, (row, walk)

    residents = [Resident(r, f"u-{r}", elderly=True, lives_alone=True, not_out_hours=24.0)
                 for r in ("R-A", "R-S", "R-C")]
    presence = [PresenceEvent(r["ts"], "access", resident=r["subject"], direction=r["data"]["direction"],
                              gate=r["source"], method=r["data"]["method"]) for r in rows]
    fired, _ = replay(presence, residents, until=clock.at(day0.replace(tzinfo=tz) + timedelta(hours=34)))
    not_out = sorted((f.resident.resident_id, f.due_at) for f in fired if f.type == "elderly_not_out"
                     and not f.reminder)
    home = {r["subject"]: r["ts"] for r in rows if r["data"]["direction"] == "in"}
    assert not_out == [("R-C", home["R-C"] + timedelta(hours=24)), ("R-S", home["R-S"] + timedelta(hours=24))]
