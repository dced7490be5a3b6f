"""The world the detector must hold in: every range the simulator draws from, in one table, and the draw.

``WORLD`` is the one place these ranges live (docs/cameras.md shows it). A scene is drawn from a seed: camera
pose, building, video, throws and distractors all come from ``numpy.random.default_rng(seed)``, so a seed names a
scene and fresh seeds are fresh draws of every parameter.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulators.camera.scene import FLOOR_M, WORLD_DISTRACTORS, Scene, Throw, _distractors

Span = tuple[float, float]


@dataclass(frozen=True)
class WorldRanges:
    """Uniform ranges unless noted; choices are drawn with equal odds."""

    distance_m: Span = (10.0, 60.0)  # camera to facade, straight out
    cam_height_m: Span = (1.0, 12.0)  # a pole, a lamp post, a neighbouring block's first floors
    yaw_deg: Span = (-30.0, 30.0)
    roll_deg: Span = (-3.0, 3.0)
    yaw_share: float = 0.4  # share of cameras that are turned/rolled at all (the rest face the facade squarely)
    view_bottom_share: Span = (0.0, 0.4)  # lowest height in view, as a share of the building (tilts up to ~70 deg)
    floors: tuple[int, int] = (10, 30)
    columns: tuple[int, int] = (5, 12)
    building_width_m: Span = (20.0, 45.0)
    resolutions: tuple[tuple[int, int], ...] = ((1280, 720), (1920, 1080))  # 4K: add (3840, 2160), 4x the cost
    fps: tuple[float, ...] = (10.0, 12.5, 15.0, 20.0, 25.0, 30.0)
    codecs: tuple[str, ...] = ("jpeg", "jpeg", "mjpeg", "mp4v")  # the live path twice as often as files
    jpeg_quality: tuple[int, int] = (35, 95)
    dup_every: tuple[int, ...] = (0, 0, 0, 3, 2)  # upsampled footage repeats every n-th frame
    drop_rate: Span = (0.0, 0.03)
    drop_share: float = 0.3  # share of scenes that lose frames at all
    night_share: float = 0.2
    noise_sigma: Span = (2.0, 5.0)
    throws: tuple[int, int] = (1, 2)
    size_px: tuple[int, int] = (2, 40)
    size_log: bool = True  # sizes drawn on a log scale: most thrown things are small in the picture
    bright_share: float = 0.35
    drop_share_plain: float = 0.25  # plain drops: no push at all
    lateral_mps: Span = (-3.0, 3.0)
    up_mps: Span = (-0.5, 1.5)
    outward_mps: Span = (0.0, 3.0)
    terminal_mps: Span = (12.0, 60.0)
    tumble_share: float = 0.5
    tumble_hz: Span = (0.5, 4.0)
    distractor_kinds: tuple[str, ...] = WORLD_DISTRACTORS
    distractor_share: float = 0.5  # each kind's chance to be in a scene with throws


WORLD = WorldRanges()


def _pick(rng: np.random.Generator, options: tuple[object, ...]) -> object:
    return options[int(rng.integers(0, len(options)))]


def world_scene(seed: int, duration: float, *, throws: bool = True, ranges: WorldRanges = WORLD) -> Scene:
    """One scene drawn from ``ranges``; ``throws=False`` gives a fall-free scene with every distractor kind."""
    r, rng = ranges, np.random.default_rng(seed)
    width, height = r.resolutions[int(rng.integers(0, len(r.resolutions)))]
    floors = int(rng.integers(r.floors[0], r.floors[1] + 1))
    turned = rng.random() < r.yaw_share
    scene = Scene(seed, int(width), int(height), float(_pick(rng, r.fps)), duration, floors,  # type: ignore[arg-type]
                  int(rng.integers(r.columns[0], r.columns[1] + 1)), float(rng.uniform(*r.distance_m)),
                  float(rng.uniform(*r.building_width_m)), jitter_px=round(int(height) / 1080),
                  noise_sigma=float(rng.uniform(*r.noise_sigma)),
                  yaw=math.radians(float(rng.uniform(*r.yaw_deg))) if turned else 0.0,
                  roll=math.radians(float(rng.uniform(*r.roll_deg))) if turned else 0.0,
                  cam_height=float(rng.uniform(*r.cam_height_m)),
                  codec=str(_pick(rng, r.codecs)), quality=int(rng.integers(r.jpeg_quality[0], r.jpeg_quality[1] + 1)),
                  dup_every=int(_pick(rng, r.dup_every)),  # type: ignore[call-overload]
                  night=bool(rng.random() < r.night_share))
    scene.view_bottom_m = float(rng.uniform(*r.view_bottom_share)) * floors * FLOOR_M
    scene.drop_rate = float(rng.uniform(*r.drop_rate)) if rng.random() < r.drop_share else 0.0
    lowest_floor = int(scene.view_bottom_m // FLOOR_M) + 3  # a fall must have a few floors in view below it
    n = int(rng.integers(r.throws[0], r.throws[1] + 1)) if throws else 0
    for _ in range(n):
        scene.throws.append(_throw(rng, r, scene, min(lowest_floor, floors)))
    kinds = (tuple(k for k in r.distractor_kinds if rng.random() < r.distractor_share) if throws
             else r.distractor_kinds)
    scene.distractors = _distractors(rng, scene, kinds)
    return scene


def _throw(rng: np.random.Generator, r: WorldRanges, scene: Scene, lowest_floor: int) -> Throw:
    bright = bool(rng.random() < r.bright_share)
    if scene.night:  # infrared: things are grey, and a little lighter or darker than the wall
        grey = int(rng.integers(150, 230) if bright else rng.integers(20, 80))
        color = (grey, grey, grey)
    else:
        c = rng.integers(190, 256, 3) if bright else rng.integers(5, 75, 3)
        color = (int(c[0]), int(c[1]), int(c[2]))
    lo, hi = r.size_px
    size = (round(math.exp(rng.uniform(math.log(lo), math.log(hi + 0.5)))) if r.size_log
            else int(rng.integers(lo, hi + 1)))
    plain = rng.random() < r.drop_share_plain
    velocity = (0.0, 0.0, 0.0) if plain else (float(rng.uniform(*r.lateral_mps)), float(rng.uniform(*r.up_mps)),
                                              float(rng.uniform(*r.outward_mps)))
    return Throw(floor=int(rng.integers(lowest_floor, scene.floors + 1)), column=int(rng.integers(0, scene.columns)),
                 t=float(rng.uniform(0.8, max(1.0, scene.duration - 5.0))), size_px=max(lo, min(hi, size)),
                 color=color, velocity=velocity, terminal_v=float(rng.uniform(*r.terminal_mps)),
                 tumble_hz=float(rng.uniform(*r.tumble_hz)) if rng.random() < r.tumble_share else 0.0)
