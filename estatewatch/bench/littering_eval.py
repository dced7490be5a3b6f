"""Scores the detector on simulated scenes with ground truth: recall, precision, false alarms, floor accuracy.

Two sets: the classic scenes (``make_scene``, fixed resolution and frame rate) and the world scenes
(``simulators/camera/world.py``: every camera, video, throw and distractor parameter drawn from the seed). World
scenes report recall per condition (floor band, position across the picture, outward speed, size, contrast, codec,
...) and false alarms per distractor kind: each fall-free world scene carries one kind, so its alarms are that
kind's.
"""

from __future__ import annotations

import argparse
import json
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from estatewatch.bench import world_cache
from estatewatch.bench.littering_world import condition_rows, run_world_scene, summarize_conditions
from estatewatch.bench.seeds import parse_seeds
from simulators.camera.render import Renderer
from simulators.camera.scene import DISTRACTOR_KINDS, ground_truth, make_scene
from vision.camera_config import CameraConfig
from vision.decode import decode_gray, scale_for_width
from vision.detector import Detector, LitteringEvent

MIN_SIZE_FOR_RECALL = 4


@dataclass
class SceneResult:
    """What one scene gave: its falls, the detector's events, how they matched, and the floors."""

    seed: int
    kind: str  # "throws" or "distractors"
    distractors: list[str]
    seconds: float
    truths: int = 0
    truths_ge4: int = 0
    detected: int = 0
    detected_ge4: int = 0
    events: int = 0
    false_alarms: int = 0
    floor_exact: int = 0
    floor_pm1: int = 0
    floor_errors: list[int] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)  # world scenes: one row per fall
    seconds_by_kind: dict[str, float] = field(default_factory=dict)  # world fall-free scenes: its one kind
    rejected: dict[str, int] = field(default_factory=dict)  # world scenes: tracks rejected, by reason


def match(events: list[LitteringEvent], truths: list[dict[str, Any]], width: int) -> list[tuple[int, int]]:
    """Pairs (event index, truth index): the event's frames overlap the fall and its track stays near the fall's
    positions frame by frame; greedy, closest first (two falls side by side must not be swapped).
    """
    pairs: list[tuple[float, int, int]] = []
    for ei, ev in enumerate(events):
        for ti, tr in enumerate(truths):
            overlap = min(ev.frame_end, tr["frame_end"]) - max(ev.frame_start, tr["frame_start"])
            if overlap <= 0:
                continue
            truth_x = {f: x for f, x, _ in tr["frames"]}
            near = [abs(x - truth_x[f]) for f, x, _ in ev.track if f in truth_x]
            gap = sorted(near)[len(near) // 2] if near else float("inf")
            if gap < 0.02 * width + 6:
                pairs.append((gap, ei, ti))
    out: list[tuple[int, int]] = []
    used_e: set[int] = set()
    used_t: set[int] = set()
    for _, ei, ti in sorted(pairs):
        if ei not in used_e and ti not in used_t:
            used_e.add(ei)
            used_t.add(ti)
            out.append((ei, ti))
    return out


def run_scene(args: tuple[int, str, int, int, float, float]) -> SceneResult:
    """Render one scene, run the detector on its JPEGs exactly as the live path decodes them, and score it."""
    seed, kind, width, height, fps, duration = args
    if kind == "distractors":
        scene = make_scene(seed, width, height, fps, duration, throws=0, distractors=DISTRACTOR_KINDS)
    else:
        scene = make_scene(seed, width, height, fps, duration, min_size=2)
    truths = ground_truth(scene)
    cfg = CameraConfig.model_validate(scene.camera_json(f"sim-{seed}"))
    detector = Detector(cfg)
    scale = scale_for_width(width)
    events: list[LitteringEvent] = []
    for i, jpeg in Renderer(scene).jpegs():
        events += detector.feed(decode_gray(jpeg, scale), i, i / fps, scale)
    events += detector.finish()
    res = SceneResult(seed, kind, sorted(scene.distractors), duration)
    score(res, events, truths, width)
    return res


def score(res: SceneResult, events: list[LitteringEvent], truths: list[dict[str, Any]], width: int) -> None:
    """Fill ``res`` from the events of one scene and its ground truth."""
    res.events = len(events)
    res.truths = len(truths)
    res.truths_ge4 = sum(1 for t in truths if t["size_px"] >= MIN_SIZE_FOR_RECALL)
    pairs = match(events, truths, width)
    res.false_alarms = len(events) - len(pairs)
    for ei, ti in pairs:
        truth = truths[ti]
        res.detected += 1
        res.detected_ge4 += truth["size_px"] >= MIN_SIZE_FOR_RECALL
        floor = events[ei].floor
        if floor is not None:
            err = floor - truth["floor"]
            res.floor_errors.append(err)
            res.floor_exact += err == 0
            res.floor_pm1 += abs(err) <= 1
    res.conditions = condition_rows(truths, pairs, events)


def _world_job(args: tuple[int, str, int, int, float, float]) -> SceneResult:
    seed, kind, _, _, _, duration = args
    rejected: dict[str, int] = {}
    scene, events, truths = run_world_scene(seed, kind, duration, rejected)
    res = SceneResult(seed, kind, sorted(scene.distractors), duration, rejected=rejected)
    score(res, events, truths, scene.width)
    if kind == "distractors":
        res.seconds_by_kind = dict.fromkeys(scene.distractors, duration)
    return res


def evaluate(seeds: list[int], distractor_seeds: list[int], *, width: int, height: int, fps: float,
             duration: float, distractor_duration: float, workers: int, world: bool = False) -> dict[str, Any]:
    """Every scene in a process pool; returns the summary and the per-scene rows. ``world`` draws every scene
    from the world ranges (resolution and frame rate then come from the seed, not the arguments).
    """
    jobs = [(s, "throws", width, height, fps, duration) for s in seeds]
    jobs += [(s, "distractors", width, height, fps, distractor_duration) for s in distractor_seeds]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        results = list(pool.map(_world_job if world else run_scene, jobs))
    report = summarize(results)
    if world:
        report.update(summarize_conditions([asdict(r) for r in results]))
        tally: dict[str, int] = {}
        for r in results:
            for reason, count in r.rejected.items():
                tally[reason] = tally.get(reason, 0) + count
        report["rejected_by_reason"] = dict(sorted(tally.items(), key=lambda kv: -kv[1]))
    return report


def summarize(results: list[SceneResult]) -> dict[str, Any]:
    """The headline figures over all scenes (keys are a promise: add, never rename)."""
    thr = [r for r in results if r.kind == "throws"]
    dis = [r for r in results if r.kind == "distractors"]
    truths_ge4 = sum(r.truths_ge4 for r in thr)
    detected = sum(r.detected for r in thr)
    events = sum(r.events for r in thr)
    floors = sum(len(r.floor_errors) for r in thr)
    hours = sum(r.seconds for r in dis) / 3600
    return {
        "scenes": len(thr),
        "distractor_scenes": len(dis),
        "falls": sum(r.truths for r in thr),
        "falls_ge4px": truths_ge4,
        "recall_ge4px": round(sum(r.detected_ge4 for r in thr) / truths_ge4, 4) if truths_ge4 else None,
        "recall_all": round(detected / max(1, sum(r.truths for r in thr)), 4),
        "precision": round(detected / events, 4) if events else None,
        "false_alarms_distractor_only": sum(r.events for r in dis),
        "distractor_camera_hours": round(hours, 4),
        "false_alarms_per_camera_hour": round(sum(r.events for r in dis) / hours, 3) if hours else None,
        "floor_exact": round(sum(r.floor_exact for r in thr) / floors, 4) if floors else None,
        "floor_within_1": round(sum(r.floor_pm1 for r in thr) / floors, 4) if floors else None,
        "per_scene": [asdict(r) for r in results],
    }


def main() -> None:
    """The evaluation from the command line, world set included (``--world``); prints the report as JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default="1-40")
    ap.add_argument("--distractor-seeds", default="1-14")
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--distractor-seconds", type=float, default=60.0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--world", action="store_true", help="scenes drawn from the world ranges")
    ap.add_argument("--per-scene", action="store_true", help="keep the per-scene rows in the output")
    ap.add_argument("--cache", help="footage cache for world scenes (estatewatch/bench/world_cache.py)")
    a = ap.parse_args()
    if a.cache:
        os.environ[world_cache.ENV] = a.cache  # the pool's processes inherit it
    report = evaluate(parse_seeds(a.seeds), parse_seeds(a.distractor_seeds), width=1280, height=720, fps=20.0,
                      duration=a.seconds, distractor_duration=a.distractor_seconds, workers=a.workers, world=a.world)
    if not a.per_scene:
        report.pop("per_scene")
    print(json.dumps(report))


if __name__ == "__main__":
    main()
