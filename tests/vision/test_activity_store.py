"""Activity maps in the real PostgreSQL: stored and replaced per camera and site, saved by the vision worker when it
stops (and every ``activity_save_s``), and loaded again by the next worker that takes the camera.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from store.activity_maps import load_map, save_map
from store.db import connect
from tests.vision.helpers import jpeg
from vision.activity_map import ActivityMap, ActivityParams
from vision.reports import WorkerReport
from vision.workers import Worker, WorkerConfig


class Reports(list[WorkerReport]):
    """The worker's outbox, kept in a list."""

    def put(self, item: WorkerReport) -> None:
        self.append(item)


def test_a_map_is_stored_replaced_and_kept_per_site(db_url: str) -> None:
    with connect(db_url) as conn:
        assert load_map(conn, "a", "cam-1") is None
        save_map(conn, "a", "cam-1", rows=2, cols=3, observed_s=5.0, data=b"one")
        save_map(conn, "b", "cam-1", rows=1, cols=1, observed_s=1.0, data=b"other site")
        conn.commit()
        first = load_map(conn, "a", "cam-1")
        save_map(conn, "a", "cam-1", rows=4, cols=6, observed_s=9.5, data=b"two")
        conn.commit()
        second = load_map(conn, "a", "cam-1")
        other = load_map(conn, "b", "cam-1")
    assert first is not None
    assert second is not None
    assert other is not None
    assert (second.grid_rows, second.grid_cols, second.observed_s, second.data) == (4, 6, 9.5, b"two")
    assert second.updated_at >= first.updated_at
    assert other.data == b"other site"


def _frames(n: int) -> list[bytes]:
    """A still wall with a patch at the top left that flickers every other frame (a tree), 320x192."""
    rng = np.random.default_rng(1)
    base = np.full((192, 320, 3), 150, np.uint8)
    out = []
    for i in range(n):
        img = base.copy()
        if i % 2:
            img[0:32, 0:48] = rng.integers(0, 255, (32, 48, 1), dtype=np.uint8)
        out.append(jpeg(img))
    return out


def _config(db_url: str, tmp_path: Path, save_s: float) -> WorkerConfig:
    return WorkerConfig("site-a", db_url, tmp_path / "evidence", {"cam-1": {"id": "cam-1"}},
                        activity=ActivityParams(warmup_h=0.0), activity_save_s=save_s)


def test_the_worker_saves_the_map_and_the_next_worker_loads_it(db_url: str, tmp_path: Path) -> None:
    reports = Reports()
    worker = Worker(_config(db_url, tmp_path, save_s=3600.0), reports)
    for i, data in enumerate(_frames(60)):
        worker.on_frame("cam-1", data, 1_000_000.0 + i * 50.0, 320)
    with connect(db_url) as conn:
        assert load_map(conn, "site-a", "cam-1") is None  # the period has not passed: nothing saved yet
    learnt = worker.cams["cam-1"].detector.activity
    worker.close()
    with connect(db_url) as conn:
        row = load_map(conn, "site-a", "cam-1")
    assert row is not None
    assert (row.grid_rows, row.grid_cols) == learnt.grid == (12, 20)
    assert row.observed_s == pytest.approx(learnt.observed_s)
    assert learnt.observed_s > 2.0
    stored = ActivityMap.from_bytes(row.data)
    assert float(stored.rates()[0, 0]) > 0.3  # the flickering patch
    assert float(stored.rates()[6:, 6:].max()) == 0.0  # the still wall
    again = Worker(_config(db_url, tmp_path, save_s=3600.0), Reports())
    loaded = again.camera("cam-1").detector.activity
    assert loaded.observed_s == pytest.approx(learnt.observed_s)
    np.testing.assert_allclose(loaded.rates(), learnt.rates(), atol=1e-6)
    assert loaded.warm  # the worker's warm-up setting applies to the loaded map
    again.close()


def test_the_worker_saves_every_period_and_survives_a_bad_stored_map(db_url: str, tmp_path: Path) -> None:
    with connect(db_url) as conn:
        save_map(conn, "site-a", "cam-1", rows=1, cols=1, observed_s=0.0, data=b"not a map")
        conn.commit()
    worker = Worker(_config(db_url, tmp_path, save_s=0.0), Reports())  # every frame is past the period
    assert worker.camera("cam-1").detector.activity.shape is None  # refused, a fresh map instead
    for i, data in enumerate(_frames(5)):
        worker.on_frame("cam-1", data, 1_000_000.0 + i * 50.0, 320)
    with connect(db_url) as conn:
        row = load_map(conn, "site-a", "cam-1")
    assert row is not None
    # saved after the fifth frame: the first seeds the background, the second starts the clock of the map
    assert ActivityMap.from_bytes(row.data).observed_s == pytest.approx(0.15)
    worker.close()


def test_without_a_database_the_worker_keeps_its_map_in_memory(tmp_path: Path) -> None:
    worker = Worker(WorkerConfig("site-a", None, tmp_path / "evidence", {}), Reports())
    for i, data in enumerate(_frames(4)):
        worker.on_frame("cam-1", data, i * 50.0, 320)
    assert worker.cams["cam-1"].detector.activity.observed_s == pytest.approx(0.10)
    worker.close()
