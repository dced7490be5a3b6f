"""False alarms and recall with and without the learned activity map (``vision/activity_map.py``), on tuning scenes.

Simulated scenes last 20-60 s, far less than the hour a live map watches before it has any effect, so each scene
is run twice: the first pass is the detector as it is today (its map is cold, so it changes nothing) and its map,
which learnt the scene's habitual motion meanwhile, is then declared warm; the second pass runs a fresh detector
with that map. Both passes are scored against the ground truth. The warm-up footage is the measured footage itself,
with the falls' own pixels left out of what the map learns (ground truth: a box around the object at each of its
frames): in a 10 s scene a fall is a tenth of the footage, in the hours a live map watches it is nothing.

Besides the two scores, every event of the first pass is listed with the activity along its track and its
evidence margin (read back from the score), which shows how far the map's requirement is from each alarm.

``python -m estatewatch.bench.activity_eval --world-distractors 1,7,15 --world-throws 1-20 --classic-distractors 1-4``
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from estatewatch.bench.littering_eval import SceneResult, match, score
from estatewatch.bench.littering_world import _frames
from estatewatch.bench.seeds import parse_seeds
from estatewatch.bench.world_cache import make_scene as world_make_scene
from simulators.camera.render import Renderer
from simulators.camera.scene import DISTRACTOR_KINDS, Scene, ground_truth, make_scene
from vision.activity_map import ActivityMap, ActivityParams
from vision.camera_config import CameraConfig
from vision.decode import GrayFrame, decode_gray, scale_for_width
from vision.detector import Detector, LitteringEvent

CLASSIC = (1280, 720, 20.0)


def _scene(seed: int, kind: str, seconds: float) -> tuple[Scene, str]:
    """The scene of a job and the camera id its configuration gets."""
    if kind.startswith("world-"):
        return world_make_scene(seed, kind.removeprefix("world-"), seconds), f"world-{seed}"
    w, h, fps = CLASSIC
    if kind == "classic-distractors":
        return make_scene(seed, w, h, fps, seconds, throws=0, distractors=DISTRACTOR_KINDS), f"sim-{seed}"
    return make_scene(seed, w, h, fps, seconds, min_size=2), f"sim-{seed}"


def _deliver(scene: Scene, seed: int, kind: str, seconds: float) -> Iterator[tuple[GrayFrame, int, int]]:
    """The scene's frames as its evaluation delivers them (world scenes lose their dropped frames)."""
    if kind.startswith("world-"):
        lost = np.random.default_rng(seed + 7_777).random(scene.n_frames) < scene.drop_rate
        with tempfile.TemporaryDirectory() as tmp:
            for i, (gray, scale) in enumerate(_frames(scene, Path(tmp), kind.removeprefix("world-"), seconds)):
                if i >= len(lost) or not lost[i]:
                    yield gray, i, scale
        return
    scale = scale_for_width(scene.width)
    for i, jpeg in Renderer(scene).jpegs():
        yield decode_gray(jpeg, scale), i, scale


def _margin(score_value: float) -> float:
    """The evidence margin a score stands for (the classifier's score is a logistic of margin / 20)."""
    s = min(max(score_value, 1e-6), 1 - 1e-6)
    return 20.0 * math.log(s / (1.0 - s))


class FallFreeMap(ActivityMap):
    """A map that does not learn from the falls of the scene it watches: each frame's foreground is cleared in a
    box around every falling object there (positions from the ground truth, full-resolution px).
    """

    def __init__(self, params: ActivityParams, truths: list[dict[str, Any]], fps: float) -> None:
        super().__init__(params)
        self.fps = fps
        self.boxes: dict[int, list[tuple[float, float, float]]] = {}
        for tr in truths:
            half = float(tr["size_px"]) + 16.0
            for f, x, y in tr["frames"]:
                for g in (int(f) - 1, int(f), int(f) + 1):  # the blob lags or leads its centre by a frame
                    self.boxes.setdefault(g, []).append((float(x), float(y), half))

    def update(self, foreground: NDArray[np.uint8], t: float) -> None:
        """Learn this frame with the falls cleared out."""
        boxes = self.boxes.get(round(t * self.fps))
        if boxes:
            foreground = foreground.copy()
            s = self.scale
            for x, y, half in boxes:
                y0, y1 = max(0, int((y - half) / s)), max(0, int((y + half) / s) + 1)
                x0, x1 = max(0, int((x - half) / s)), max(0, int((x + half) / s) + 1)
                foreground[y0:y1, x0:x1] = 0
        super().update(foreground, t)


Frames = Callable[[], Iterator[tuple[GrayFrame, int, int]]]
"""Delivers a scene's frames as (gray, frame index, scale), lost frames left out; callable again for a new pass."""


def measure(cfg: CameraConfig, frames: Frames, fps: float, width: int, truths: list[dict[str, Any]],
            quiet_rate: float) -> dict[str, Any]:
    """Both passes over one scene; their scores and the first pass's events with the activity along them."""
    def run(detector: Detector) -> list[LitteringEvent]:
        events: list[LitteringEvent] = []
        for gray, index, scale in frames():
            events += detector.feed(gray, index, index / fps, scale)
        return events + detector.finish()

    params = ActivityParams(warmup_h=0.0, quiet_rate=quiet_rate)
    first = Detector(cfg)
    first.activity = FallFreeMap(replace(params, warmup_h=1e9), truths, fps)  # learns, never acts
    before = run(first)
    learnt = ActivityMap.from_bytes(first.activity.to_bytes(), params)
    second = Detector(cfg)
    second.activity = learnt
    after = run(second)
    out: dict[str, Any] = {}
    for name, events, det in (("without", before, first), ("with", after, second)):
        res = SceneResult(0, "", [], 0.0)
        score(res, events, truths, width)
        out[name] = {"events": res.events, "false_alarms": res.false_alarms, "truths": res.truths,
                     "truths_ge4": res.truths_ge4, "detected": res.detected, "detected_ge4": res.detected_ge4,
                     "floor_pm1": res.floor_pm1, "floors": len(res.floor_errors),
                     "habitual_motion": det.stats.rejected.get("habitual_motion", 0)}
    matched = {ei for ei, _ in match(before, truths, width)}
    rates = learnt.rates()
    rows, cols = learnt.grid
    shape = learnt.shape or (1, 1)
    diag = []
    for ei, ev in enumerate(before):
        xs = np.asarray([x for _, x, _ in ev.track]) / learnt.scale
        ys = np.asarray([y for _, _, y in ev.track]) / learnt.scale
        r = np.clip((ys * rows / shape[0]).astype(int), 0, rows - 1)
        c = np.clip((xs * cols / shape[1]).astype(int), 0, cols - 1)
        along = rates[r, c]
        diag.append({"fall": ei in matched, "score": ev.score, "margin": round(_margin(ev.score), 2),
                     "mean_rate": round(float(along.mean()), 4), "max_rate": round(float(along.max()), 4),
                     "extra": round(learnt.extra_evidence(xs, ys), 2), "points": len(ev.track)})
    out["events_without"] = diag
    out["usual_rate"] = round(ActivityMap.usual_rate(rates), 4)
    out["habitual_cells"] = int((rates > ActivityMap.usual_rate(rates) + quiet_rate).sum())
    out["cells"] = int(rates.size)
    return out


def run_job(job: tuple[int, str, float, float]) -> dict[str, Any]:
    """Render one scene and measure it."""
    seed, kind, seconds, quiet_rate = job
    scene, cam_id = _scene(seed, kind, seconds)
    truths = ground_truth(scene)
    cfg = CameraConfig.model_validate(scene.camera_json(cam_id))
    out = {"seed": seed, "kind": kind, "seconds": seconds, "width": scene.width,
           "distractors": sorted(scene.distractors)}
    return out | measure(cfg, functools.partial(_deliver, scene, seed, kind, seconds), scene.fps, scene.width,
                         truths, quiet_rate)


def summarize(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Totals per scene kind, without and with the map."""
    table: dict[str, Any] = {}
    for kind in sorted({r["kind"] for r in rows}):
        mine = [r for r in rows if r["kind"] == kind]
        cell: dict[str, Any] = {"scenes": len(mine), "camera_hours": round(sum(r["seconds"] for r in mine) / 3600, 4)}
        for name in ("without", "with"):
            agg = {k: sum(r[name][k] for r in mine) for k in mine[0][name]}
            agg["recall_ge4px"] = round(agg["detected_ge4"] / agg["truths_ge4"], 4) if agg["truths_ge4"] else None
            cell[name] = agg
        table[kind] = cell
    return table


def _seeds(text: str) -> list[int]:
    """Tuning seeds only: the fresh set (100000 and above) is kept for reporting."""
    out = parse_seeds(text)
    if any(s >= 100_000 for s in out):
        raise SystemExit("seeds of 100000 and above are kept for reporting; this measurement tunes")
    return out


def main() -> None:
    """Run the jobs, print the per-kind table and write every row (events included) as JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--world-distractors", default="")
    ap.add_argument("--world-throws", default="")
    ap.add_argument("--classic-distractors", default="")
    ap.add_argument("--classic-throws", default="")
    ap.add_argument("--distractor-seconds", type=float, default=60.0)
    ap.add_argument("--throw-seconds", type=float, default=10.0)
    ap.add_argument("--quiet-rate", type=float, default=ActivityParams().quiet_rate)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    jobs = [(s, "world-distractors", a.distractor_seconds, a.quiet_rate) for s in _seeds(a.world_distractors)]
    jobs += [(s, "classic-distractors", a.distractor_seconds, a.quiet_rate) for s in _seeds(a.classic_distractors)]
    jobs += [(s, "world-throws", a.throw_seconds, a.quiet_rate) for s in _seeds(a.world_throws)]
    jobs += [(s, "classic-throws", a.throw_seconds, a.quiet_rate) for s in _seeds(a.classic_throws)]
    rows: list[dict[str, Any]] = []
    lines = Path(a.out).with_suffix(".jsonl") if a.out else None
    with ProcessPoolExecutor(max_workers=a.workers) as pool:
        for row in pool.map(run_job, jobs):
            rows.append(row)
            if lines is not None:  # a long run cut short still leaves its finished scenes
                with lines.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(row) + "\n")
            sys.stderr.write(f"{row['kind']} {row['seed']}: without {row['without']['events']} events, "
                             f"with {row['with']['events']}\n")
    report = {"quiet_rate": a.quiet_rate, "by_kind": summarize(rows), "scenes": rows}
    if a.out:
        Path(a.out).write_text(json.dumps(report, indent=1), encoding="utf-8")
    sys.stdout.write(json.dumps(report["by_kind"], indent=1) + "\n")


if __name__ == "__main__":
    main()
