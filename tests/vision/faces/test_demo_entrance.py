"""The demo's gate wiring: with the faces extra the bridge takes the residents' gates over, without it the resident
simulator keeps publishing its own gate events. Real database, the real CLI child that enrols, the real bridge child.
"""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path

import pytest

from alerts.resident_records import upsert_residents
from common.settings import Settings
from estatewatch import demo_entrance
from estatewatch.demo_entrance import take_over_gates
from estatewatch.runtime import Embedded
from simulators.entrance import DEMO_ENROLLED
from simulators.residents import SimConfig, simulate
from store import faces as face_store
from store.db import connect
from vision.faces.embedder import MODEL_NAME
from vision.faces.service import load_entrance_cameras


def _same(settings: Settings, _started: Embedded) -> Settings:
    return settings


def _simulated(settings: Settings) -> list[str]:
    sim = simulate(SimConfig(residents=14, days=2, seed=4))
    sim.write(settings.data_dir / "sim" / "residents")
    with connect(settings.require_database_url(), autocommit=True) as conn:
        upsert_residents(conn, settings.site, sim.residents, consent=True)
    return [r for r in sim.truth.watched if r not in sim.truth.door_only]


def test_faces_take_the_gates_over(settings: Settings, face_photos: Path, monkeypatch: pytest.MonkeyPatch,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("EW_FACE_IMAGES_DIR", str(face_photos))
    gate_users = _simulated(settings)
    started = Embedded()
    live, left = take_over_gates(settings, started, residents=14, speed=1800.0, grace_s=0.0, for_simulators=_same)
    try:
        assert left == 0  # the resident simulator must not run: the bridge publishes its events
        assert "faces at the gates: on" in capsys.readouterr().out
        assert live.face_key is not None
        key_file = settings.data_dir / "sim" / "residents" / demo_entrance.KEY_FILE
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        cameras = load_entrance_cameras(live.entrance_cameras_file)
        assert {c.id for c in cameras} <= {f"gate-{g}-{d}" for g in ("north", "south") for d in ("in", "out")}
        cast = json.loads((settings.data_dir / "sim" / "residents" / "gate_cast.json").read_text())
        assert list(cast) == gate_users[: len(DEMO_ENROLLED)]
        assert list(cast.values()) == list(DEMO_ENROLLED)[: len(cast)]
        with connect(settings.require_database_url(), autocommit=True) as conn:
            enrolled = {row.resident_id for row in face_store.consenting(conn, MODEL_NAME, settings.site)}
        assert enrolled == set(cast)
        deadline = time.monotonic() + 10
        while not started.children and time.monotonic() < deadline:
            time.sleep(0.05)
        [bridge] = started.children
        time.sleep(1.0)
        assert bridge.poll() is None, (settings.data_dir / "logs" / "gates.log").read_text()
    finally:
        started.stop()
    # the demo's key survives a restart, so its gallery still opens
    assert demo_entrance.demo_key(settings, key_file.parent) == live.face_key.get_secret_value()


def test_without_the_extra_the_residents_keep_their_gate_events(settings: Settings,
                                                                 monkeypatch: pytest.MonkeyPatch,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(demo_entrance, "unavailable_reason",
                        lambda _s: ("no_faces_extra", "the face stage needs the optional 'faces' extra"))
    started = Embedded()
    live, left = take_over_gates(settings, started, residents=14, speed=1800.0, grace_s=0.0, for_simulators=_same)
    assert (live, left) == (settings, 14)
    assert live.entrance_cameras_file is None
    assert "faces at the gates: off (the face stage needs the optional 'faces' extra)" in capsys.readouterr().out
    time.sleep(0.1)
    assert started.children == []
