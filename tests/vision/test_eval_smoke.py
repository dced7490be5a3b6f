"""A small, fast slice of ``estatewatch eval littering``: a few low-resolution scenes scored end to end (the full
evaluation, reported in docs/performance.md, runs from the CLI)."""

from __future__ import annotations

from estatewatch.bench.littering_eval import evaluate


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
