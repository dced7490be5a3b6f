"""``estatewatch bench vision --json`` prints the promised keys (a tiny run; real figures come from the CLI)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from estatewatch.cli import app

KEYS = {"decode_fps", "pipeline_fps_1w", "pipeline_fps_2w", "naive_fps", "ratio_vs_naive", "ratio_vs_decode"}


def test_bench_vision_json_has_the_contract_keys() -> None:
    result = CliRunner().invoke(app, ["bench", "vision", "--cameras", "2", "--resolution", "720p", "--frames", "10",
                                      "--rounds", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output.strip().splitlines()[-1])
    assert set(report) >= KEYS
    assert all(report[k] > 0 for k in KEYS)
    assert report["ratio_vs_naive"] == pytest.approx(report["pipeline_fps_1w"] / report["naive_fps"], rel=0.01)
    assert report["ratio_vs_decode"] == pytest.approx(report["pipeline_fps_1w"] / report["decode_fps"], rel=0.05)
    assert report["rounds"] == 2
