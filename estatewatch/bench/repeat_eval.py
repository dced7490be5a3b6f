"""How well the frame clock recognises repeated frames: world scenes against their ground truth.

A world scene knows which delivered frames repeat their predecessor (``Scene.content_time``: a repeat shows the
same capture time). The frames go through the delivery the world evaluation uses (JPEG frames, or an MJPEG / MPEG-4
/ H.264 file, lost frames left out) and through ``FrameClock`` alone; the counts say how many repeats it skipped
and how many frames of new content it took for repeats, per codec. A frame the encoder delivered identical to its
predecessor although the scene moved on (MPEG-4 on a still picture) carries nothing new: it is counted as
``identical``, not as a false repeat.

``python -m estatewatch.bench.repeat_eval --seeds 1-60 --seconds 10 --cache var/cache/world`` (tuning seeds only).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from estatewatch.bench import world_cache
from estatewatch.bench.seeds import parse_seeds
from simulators.camera.scene import Scene
from vision.decode import GrayFrame, decode_gray, scale_for_width
from vision.frame_clock import FrameClock
from vision.offline import video_frames

LOST_SEED = 7_777  # the world evaluation's lost frames: the same draw (estatewatch/bench/littering_world.py)


def delivered_frames(scene: Scene, folder: Path, kind: str, duration: float) -> Iterator[tuple[int, GrayFrame]]:
    """(delivered index, decoded frame) as the world evaluation feeds the detector, lost frames left out."""
    root = world_cache.cache_root()
    lost = np.random.default_rng(scene.seed + LOST_SEED).random(scene.n_frames) < scene.drop_rate
    if scene.codec == "jpeg":
        scale = scale_for_width(scene.width)
        frames: Iterable[GrayFrame] = (decode_gray(data, scale)
                                       for data in world_cache.jpeg_stream(scene, root, kind, duration))
    else:
        frames = (gray for gray, _ in video_frames(world_cache.video_file(scene, folder, root, kind, duration)))
    for i, gray in enumerate(frames):
        if i >= len(lost) or not lost[i]:
            yield i, gray


def repeat_counts(scene: Scene, frames: Iterable[tuple[int, GrayFrame]]) -> dict[str, int]:
    """Repeats in the delivered ``(index, frame)`` sequence by the truth, and the clock's skips against them."""
    clock = FrameClock()
    counts = {"frames": 0, "repeats": 0, "skipped": 0, "found": 0, "false": 0, "identical": 0}
    last: float | None = None
    previous: GrayFrame | None = None
    for i, gray in frames:
        shown = scene.content_time(i)
        repeat = last is not None and shown == last
        same = previous is not None and previous.shape == gray.shape and cv2.norm(gray, previous, cv2.NORM_L1) == 0
        skipped = clock.advance(gray, i, i / scene.fps) is None
        last, previous = shown, gray
        counts["frames"] += 1
        counts["repeats"] += repeat
        counts["skipped"] += skipped
        counts["found"] += repeat and skipped
        counts["identical"] += same and not repeat
        counts["false"] += skipped and not repeat and not same
    return counts


def evaluate(seeds: list[int], kind: str, duration: float) -> dict[str, Any]:
    """Counts per scene and summed per codec."""
    scenes: list[dict[str, Any]] = []
    per_codec: dict[str, dict[str, int]] = {}
    for seed in seeds:
        scene = world_cache.make_scene(seed, kind, duration)
        with tempfile.TemporaryDirectory() as tmp:
            counts = repeat_counts(scene, delivered_frames(scene, Path(tmp), kind, duration))
        scenes.append({"seed": seed, "codec": scene.codec, "dup_every": scene.dup_every, **counts})
        total = per_codec.setdefault(scene.codec, dict.fromkeys(counts, 0))
        for key, value in counts.items():
            total[key] += value
    return {"kind": kind, "seconds": duration, "per_codec": per_codec, "per_scene": scenes}


def main() -> None:
    """Print the counts as JSON."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default="1-60")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--kind", choices=("throws", "distractors"), default="throws")
    ap.add_argument("--cache", default="")
    a = ap.parse_args()
    if a.cache:
        os.environ[world_cache.ENV] = a.cache
    sys.stdout.write(json.dumps(evaluate(parse_seeds(a.seeds), a.kind, a.seconds)) + "\n")


if __name__ == "__main__":
    main()

