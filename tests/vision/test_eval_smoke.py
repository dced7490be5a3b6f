"""A small, fast slice of ``estatewatch eval littering``: a few low-resolution scenes scored end to end (the full
evaluation, reported in docs/performance.md, runs from the CLI)."""

from __future__ import annotations

from estatewatch.bench.littering_eval import evaluate
from estatewatch.bench.littering_world import markdown


def test_detector_scores_on_a_few_simulated_scenes() -> None:
    report = evaluate([0, 1, 3], [1000], width=1280, height=720, fps=20, duration=7.0, distractor_duration=10.0,
                      workers=2)
    assert report["scenes"] == 3
    assert report["falls_ge4px"] >= 3
    assert report["recall_ge4px"] >= 0.9
    assert report["precision"] >= 0.9
    assert report["false_alarms_distractor_only"] == 0
    assert report["floor_within_1"] >= 0.8
    assert len(report["per_scene"]) == 4


def test_world_scenes_report_recall_by_condition_and_false_alarms_by_kind() -> None:
    report = evaluate([3], [5], width=0, height=0, fps=0.0, duration=6.0, distractor_duration=6.0, workers=2,
                      world=True)
    table = report["recall_by_condition"]
    assert set(table) >= {"floor_band", "position", "outward_mps", "size_px", "contrast", "codec"}
    assert sum(c["falls"] for c in table["codec"].values()) == report["falls"]
    assert sum(c["found"] for c in table["size_px"].values()) == sum(r["detected"] for r in report["per_scene"])
    (kind, cell), = report["false_alarms_by_kind"].items()  # one kind per fall-free world scene
    assert cell["camera_hours"] == round(6.0 / 3600, 3)
    assert cell["false_alarms"] == report["false_alarms_distractor_only"]
    assert markdown(report).count("\n|---|") == len(table) + 1  # one header rule per table
    assert kind in markdown(report)
    tally = report["rejected_by_reason"]  # where tracks were lost: the tracks each scene's detector rejected
    assert tally == {k: v for k, v in tally.items() if v > 0}
    assert sum(tally.values()) == sum(sum(r["rejected"].values()) for r in report["per_scene"]) > 0
