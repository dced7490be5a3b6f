"""Where the falls of world scenes are lost: foreground, tracking, or the classifier (a development tool).

Runs the evaluation's detector on a world scene's footage (delivered as ``littering_world`` delivers it, from the
footage cache when one is named), records every blob the tracker was given and every track judged with its
verdict, and says for every true fall where it went:

- ``a_foreground``: fewer blobs near its path than a track needs (``ClassifierParams.min_points`` frames);
- ``b_tracking``: blobs along the path, but no track on it long enough to judge, or the best one took less than
  half of the path's blobs (the fall broke into pieces);
- ``c_classifier``: a track that followed the fall was judged and rejected (its reason), or judged falling but
  not reported as this fall (a duplicate, habitual motion, matched elsewhere);
- ``d_found``: the evaluation matches an event to it.

``python -m estatewatch.bench.miss_trace --seeds 1-60 --seconds 10 --cache var/cache/world`` prints one line per
fall with its conditions and a summary table of the causes.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from estatewatch.bench import world_cache
from estatewatch.bench.littering_eval import MIN_SIZE_FOR_RECALL, match
from estatewatch.bench.littering_world import conditions, installer_camera
from estatewatch.bench.seeds import parse_seeds
from simulators.camera.scene import Scene, ground_truth
from vision.blobs import Blobs
from vision.camera_config import CameraConfig
from vision.classifier import ClassifierParams, Verdict
from vision.decode import GrayFrame, decode_gray, scale_for_width
from vision.detector import Detector, LitteringEvent
from vision.offline import video_frames
from vision.tracker import Track, Tracker

CAUSES = ("a_foreground", "b_tracking", "c_classifier", "d_found")
SHOWN = ("px", "fps", "resolution", "floor_band", "position", "codec", "outward_mps")


@dataclass(frozen=True)
class Judged:
    """One judged track in delivered frame numbers and full-resolution px; ``reason`` None: too short to judge."""

    frames: tuple[int, ...]
    xs: tuple[float, ...]
    ys: tuple[float, ...]
    reason: str | None
    joined: bool


@dataclass
class Trace:
    """What the detector saw and did on one scene."""

    blobs: dict[int, NDArray[np.float64]] = field(default_factory=dict)  # delivered frame -> (K, 2) full-res xy
    judged: list[Judged] = field(default_factory=list)
    events: list[LitteringEvent] = field(default_factory=list)


class _RecordingTracker(Tracker):
    """The detector's tracker, keeping a copy of the blobs of every frame it is given."""

    def __init__(self, detector: Detector, trace: Trace) -> None:
        super().__init__()
        self._detector = detector
        self._trace = trace

    def step(self, frame: int, t: float, blobs: Blobs) -> list[Track]:
        """Record the frame's blobs, then track as usual."""
        d = self._detector
        self._trace.blobs[d.clock.frame_of(frame)] = blobs.xy * d.scale
        return super().step(frame, t, blobs)


def _observe(detector: Detector, trace: Trace) -> None:
    detector.tracker = _RecordingTracker(detector, trace)

    def judged(tr: Track, verdict: Verdict | None) -> None:
        s, frame_of = detector.scale, detector.clock.frame_of
        trace.judged.append(Judged(tuple(frame_of(f) for f in tr.frames), tuple(x * s for x in tr.xs),
                                   tuple(y * s for y in tr.ys), None if verdict is None else verdict.reason,
                                   bool(tr.hidden)))

    detector.on_judged = judged


def _frames(scene: Scene, folder: Path, kind: str, duration: float) -> Iterator[tuple[GrayFrame, int]]:
    """The decoded frames exactly as ``littering_world`` delivers them to the detector."""
    root = world_cache.cache_root()
    if scene.codec == "jpeg":
        scale = scale_for_width(scene.width)
        for data in world_cache.jpeg_stream(scene, root, kind, duration):
            yield decode_gray(data, scale), scale
        return
    yield from video_frames(world_cache.video_file(scene, folder, root, kind, duration))


def trace_frames(cfg: CameraConfig, frames: Iterable[tuple[int, float, GrayFrame, int]]) -> Trace:
    """Run a fresh detector on (frame, t, gray, scale) with the observation hooks."""
    detector = Detector(cfg)
    trace = Trace()
    _observe(detector, trace)
    for i, t, gray, scale in frames:
        trace.events += detector.feed(gray, i, t, scale)
    trace.events += detector.finish()
    return trace


def trace_scene(seed: int, duration: float, kind: str = "throws") -> tuple[Scene, list[dict[str, Any]], Trace]:
    """Run the evaluation's detector on one world scene with the observation hooks; its truths carry conditions."""
    scene = world_cache.make_scene(seed, kind, duration)
    truths = ground_truth(scene)
    for tr in truths:
        tr["conditions"] = conditions(scene, tr)
    lost = np.random.default_rng(seed + 7_777).random(scene.n_frames) < scene.drop_rate  # as littering_world
    with tempfile.TemporaryDirectory() as tmp:
        delivered = ((i, i / scene.fps, gray, scale)
                     for i, (gray, scale) in enumerate(_frames(scene, Path(tmp), kind, duration))
                     if not (i < len(lost) and lost[i]))
        trace = trace_frames(installer_camera(scene, f"world-{seed}"), delivered)
    return scene, truths, trace


def _on_path(j: Judged, path: dict[int, tuple[float, float]], tol: float) -> int:
    """How many of a track's points lie within ``tol`` px of the fall in their frame."""
    n = 0
    for f, x, y in zip(j.frames, j.xs, j.ys, strict=True):
        p = path.get(f)
        n += p is not None and (x - p[0]) ** 2 + (y - p[1]) ** 2 <= tol * tol
    return n


def diagnose(truth: dict[str, Any], trace: Trace, found: bool, width: int,
             min_points: int | None = None) -> tuple[str, str]:
    """(cause, detail) for one true fall of a traced scene."""
    need = min_points or ClassifierParams().min_points
    tol = max(8.0, 0.006 * width) + float(truth["size_px"])  # a box centre of a blurred object, full-res px
    path = {int(f): (float(x), float(y)) for f, x, y in truth["frames"]}
    processed = [f for f in path if f in trace.blobs]
    near = [f for f in processed if trace.blobs[f].size
            and float(np.min(np.hypot(*(trace.blobs[f] - np.asarray(path[f])).T))) <= tol]
    on = [(n, j) for j in trace.judged if (n := _on_path(j, path, tol)) >= 2]
    pieces = sorted((n for n, j in on if not j.joined), reverse=True)
    best = max(on, key=lambda nj: (nj[0], len(nj[1].frames)), default=None)
    detail = f"visible {len(path)} processed {len(processed)} blobs {len(near)}"
    if pieces:
        detail += f" pieces {len(pieces)} ({'+'.join(map(str, pieces[:6]))})"
    if best is not None:
        n, j = best
        detail += (f" best {n}/{len(j.frames)} pts f{j.frames[0]}-{j.frames[-1]} "
                   f"{'joined ' if j.joined else ''}{j.reason or 'unjudged'}")
    if found:
        return "d_found", detail
    if len(near) < need:
        return "a_foreground", detail
    if best is None or best[1].reason is None or best[0] < 0.5 * len(near):
        return "b_tracking", detail
    reason = best[1].reason
    return "c_classifier", f"{'falling_not_reported' if reason == 'falling' else reason}; {detail}"


def scene_rows(seed: int, duration: float) -> list[dict[str, Any]]:
    """One row per true fall of a world throw scene: conditions, cause and detail."""
    scene, truths, trace = trace_scene(seed, duration)
    found = {ti for _, ti in match(trace.events, truths, scene.width)}
    rows = []
    for ti, truth in enumerate(truths):
        cause, detail = diagnose(truth, trace, ti in found, scene.width)
        rows.append({"seed": seed, "fall": truth["id"], "px": truth["size_px"], "cause": cause, "detail": detail,
                     **truth["conditions"]})
    return rows


def _line(r: dict[str, Any]) -> str:
    cond = " ".join(f"{k}={r[k]}" for k in SHOWN)
    return f"seed {r['seed']:>6} fall {r['fall']} {r['cause']:<13} {cond} | {r['detail']}"


def summary(rows: list[dict[str, Any]], title: str) -> str:
    """The table of causes (all falls and falls of 4 px or more), then the falls lost in the classifier."""
    big = [r for r in rows if r["px"] >= MIN_SIZE_FOR_RECALL]
    every, ge4 = Counter(r["cause"] for r in rows), Counter(r["cause"] for r in big)
    out = [title, "", "| cause | falls | falls >= 4 px |", "|---|---|---|"]
    out += [f"| {c} | {every[c]} | {ge4[c]} |" for c in CAUSES]
    out += [f"| total | {len(rows)} | {len(big)} |", ""]
    for cause in CAUSES[:2]:
        lost = [r for r in big if r["cause"] == cause]
        for cond in ("fps", "resolution", "floor_band", "outward_mps", "position"):
            tally = Counter(r[cond] for r in lost)
            out.append(f"{cause} (>= 4 px) by {cond}: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
        out.append("")
    reasons = Counter(r["detail"].split(";")[0] for r in rows if r["cause"] == "c_classifier")
    out.append("lost in the classifier, by reason: " + ", ".join(f"{k} {v}" for k, v in reasons.most_common()))
    out += [_line(r) for r in rows if r["cause"] == "c_classifier"]
    return "\n".join(out)


def main() -> None:
    """Trace the world throw scenes of ``--seeds``; prints one line per fall, then the summary."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default="1-60")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--cache", help="footage cache (estatewatch/bench/world_cache.py)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--json", help="also write the per-fall rows here")
    ap.add_argument("--summary", help="also write the summary here")
    a = ap.parse_args()
    if a.cache:
        os.environ[world_cache.ENV] = a.cache
    seeds = parse_seeds(a.seeds)
    with ProcessPoolExecutor(max_workers=a.workers) as pool:
        rows = [r for part in pool.map(scene_rows, seeds, [a.seconds] * len(seeds)) for r in part]
    for r in rows:
        print(_line(r))
    text = summary(rows, f"Where the falls of world seeds {a.seeds} ({a.seconds:g} s, tuning data) are lost")
    print(text)
    if a.summary:
        Path(a.summary).write_text(text + "\n")
    if a.json:
        Path(a.json).write_text(json.dumps(rows))


if __name__ == "__main__":
    main()
