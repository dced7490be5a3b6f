"""``estatewatch bench vision --json`` prints the promised keys, and the real-footage row from the clips it finds
(tiny runs; real figures come from the CLI).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from typer.testing import CliRunner

from estatewatch.bench.vision import REAL_DIR_ENV, run_real
from estatewatch.cli import app

KEYS = {"decode_fps", "pipeline_fps_1w", "pipeline_fps_2w", "naive_fps", "ratio_vs_naive", "ratio_vs_decode"}


def _bench(frames: int = 10) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["bench", "vision", "--cameras", "2", "--resolution", "720p", "--frames",
                                      str(frames), "--rounds", "2", "--json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.output.strip().splitlines()[-1])
    return report


def test_bench_vision_json_has_the_contract_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(REAL_DIR_ENV, str(tmp_path))  # no clips there: the real row says so
    report: dict[str, Any] = _bench()
    assert set(report) >= KEYS
    assert all(report[k] > 0 for k in KEYS)
    assert report["ratio_vs_naive"] == pytest.approx(report["pipeline_fps_1w"] / report["naive_fps"], rel=0.01)
    assert report["ratio_vs_decode"] == pytest.approx(report["pipeline_fps_1w"] / report["decode_fps"], rel=0.05)
    assert report["rounds"] == 2
    assert report["real_jpeg"] is None


def test_the_real_footage_row_runs_every_contender_on_the_clips_reencoded_as_jpeg(tmp_path: Path) -> None:
    writer = cv2.VideoWriter(str(tmp_path / "clip.avi"), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter.fourcc(*"MJPG"), 10.0,
                             (320, 180))
    rng = np.random.default_rng(3)
    for i in range(14):
        img = np.full((180, 320, 3), 150, np.uint8)
        cv2.circle(img, (160, 10 + i * i), 4, (20, 20, 20), -1)
        writer.write(np.asarray(cv2.add(img, rng.integers(0, 8, img.shape, dtype=np.uint8)), dtype=np.uint8))
    writer.release()
    (tmp_path / "notes.txt").write_text("not a clip", encoding="utf-8")
    real = run_real(tmp_path, 10, 1)
    assert real is not None
    assert real["clips"] == 1
    assert real["frames"] == 10  # capped at --frames
    assert real["sizes"] == ["320x180"]
    for key in ("decode_fps", "pipeline_fps_1w", "naive_fps"):
        assert real[key] > 0
    assert real["ratio_vs_decode"] == pytest.approx(real["pipeline_fps_1w"] / real["decode_fps"], abs=0.006)
    assert real["ratio_vs_naive"] == pytest.approx(real["pipeline_fps_1w"] / real["naive_fps"], abs=0.006)
