"""The littering alert sink names the unit behind the window from the estate plan of the service that built it,
not from the process environment: the demo writes its plan in-process and hands it to the services in their
settings. Real PostgreSQL; the sink goes through pickling as it does on its way to a vision worker process."""

from __future__ import annotations

import json
import pickle
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from common.settings import Settings
from estatewatch.demo import write_estate_plan
from estatewatch.runtime import build_components
from estatewatch.wiring import LitteringAlerts, littering_sink
from store.db import connect
from vision.detector import LitteringEvent
from vision.records import StoredEvent, store_event
from vision.service import VisionService

AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def _stored(site: str, building: str, floor: int, column: int | None, tag: str = "") -> StoredEvent:
    ev = LitteringEvent("sim-cam-0", 10, 30, 0.5, 1.5, (320.0, 90.0), floor, 0.9,
                        [(f, 320.0, 90.0 + 4 * (f - 10)) for f in range(10, 31)], column)
    return StoredEvent(f"ev-{building}-{floor}-{column}{tag}", site, AT, AT + timedelta(seconds=1), ev, building)


def _alert(settings: Settings, alert_id: str | None) -> tuple[str, dict[str, object]]:
    with connect(settings.require_database_url()) as conn:
        row = conn.execute("SELECT title, subject FROM alerts WHERE id = %s", (alert_id,)).fetchone()
    assert row is not None
    return str(row["title"]), dict(row["subject"])


def test_the_demo_plan_names_the_unit_through_the_vision_service_sink(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the environment points at a plan that numbers no unit: the sink must not look there
    bare = tmp_path / "env-estate.json"
    bare.write_text(json.dumps({"towers": [{"id": "A"}]}), encoding="utf-8")
    monkeypatch.setenv("EW_ESTATE_FILE", str(bare))
    # the demo's plan: tower A watched by a camera with four window columns, units numbered as the residents' are
    plan = write_estate_plan(tmp_path / "sim" / "estate.json",
                             [{"building": "A", "window_columns": [100, 200, 300, 400, 500]}])
    live = settings.model_copy(update={"estate_file": plan})
    vision = next(c for c in build_components(live, {"vision"}) if isinstance(c, VisionService))
    sink = pickle.loads(pickle.dumps(vision.alert_sink))  # noqa: S301 - our own object, as a worker receives it
    assert isinstance(sink, LitteringAlerts)
    with connect(live.require_database_url()) as conn, conn.transaction():
        unit_alert = store_event(conn, _stored(live.site, "A", 12, 2), sink)
        other_tower = store_event(conn, _stored(live.site, "B", 7, 1), sink)  # no camera: one column per unit
        no_column = store_event(conn, _stored(live.site, "A", 9, None), sink)
    title, subject = _alert(live, unit_alert)
    assert title == "Object thrown from floor 12, column 3 (unit A-1203) (sim-cam-0)"
    assert subject["unit"] == "A-1203"
    assert subject["window_column"] == 3
    title, _ = _alert(live, other_tower)
    assert title == "Object thrown from floor 7, column 2 (unit B-702) (sim-cam-0)"
    title, subject = _alert(live, no_column)
    assert title == "Object thrown from floor 9 (sim-cam-0)"
    assert "unit" not in subject


def test_without_a_plan_or_with_a_bad_one_the_alert_names_floor_and_column(
        settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    demo_plan = write_estate_plan(tmp_path / "estate.json", [])
    monkeypatch.setenv("EW_ESTATE_FILE", str(demo_plan))  # a plan in the environment only: not the service's
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    for tag, estate_file in (("-none", None), ("-broken", broken)):
        sink = littering_sink(settings.model_copy(update={"estate_file": estate_file}))
        assert sink.towers == {}
        with connect(settings.require_database_url()) as conn, conn.transaction():
            alert_id = store_event(conn, _stored(settings.site, "A", 12, 2, tag), sink)
        title, subject = _alert(settings, alert_id)
        assert title == "Object thrown from floor 12, column 3 (sim-cam-0)"
        assert "unit" not in subject
