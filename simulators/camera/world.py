"""The world the detector must hold in: every range the simulator draws from, in one table, and the draw.

``WORLD`` is the one place these ranges live (docs/simulator.md shows it). A scene is drawn from a seed: camera
pose, building, video, throws and distractors all come from ``numpy.random.default_rng(seed)``, so a seed names a
scene and fresh seeds are fresh draws of every parameter. The parameters added later (lens, larger frames, the
tilt window) come from a second generator of the same seed, ``default_rng([seed, SIDE])``, so every parameter the
first generator drew keeps its value for a seed; the scene as a whole still changes where a new one applies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simulators.camera.scene import FLOOR_M, WORLD_DISTRACTORS, Scene, Throw, _distractors

Span = tuple[float, float]
SIDE = 14  # the second generator's key (see the module docstring)


@dataclass(frozen=True)
class WorldRanges:
    """Uniform ranges unless noted; choices are drawn with equal odds. docs/simulator.md has the same table."""

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
    # drawn from the second generator
    tilt_deg: Span = (20.0, 70.0)  # optical axis above the horizon: distance, height and view redrawn until inside
    large_share: float = 0.15  # share of scenes in larger frames instead of 720p / 1080p
    large_resolutions: tuple[tuple[int, int], ...] = ((2560, 1440), (3840, 2160))
    lens_share: float = 0.6  # share of lenses that bend straight lines (the rest are rectilinear)
    corner_distortion: Span = (-0.15, 0.04)  # k1 r^2 + k2 r^4 at the frame's corner: barrel < 0 < pincushion
    k2_part: Span = (-0.3, 0.3)  # share of that displacement from the r^4 term
    h264_share: float = 1 / 3  # share of file scenes (mjpeg / mp4v above) encoded as H.264 instead


WORLD = WorldRanges()


def _pick(rng: np.random.Generator, options: tuple[object, ...]) -> object:
    return options[int(rng.integers(0, len(options)))]


def world_scene(seed: int, duration: float, *, throws: bool = True, ranges: WorldRanges = WORLD) -> Scene:
    """One scene drawn from ``ranges``; ``throws=False`` gives a fall-free scene with every distractor kind."""
    r, rng, side = ranges, np.random.default_rng(seed), np.random.default_rng([seed, SIDE])
    width, height = r.resolutions[int(rng.integers(0, len(r.resolutions)))]
    if side.random() < r.large_share:
        width, height = r.large_resolutions[int(side.integers(0, len(r.large_resolutions)))]
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
    _aim(scene, side, r)
    _lens(scene, side, r)
    if scene.codec != "jpeg" and side.random() < r.h264_share:
        scene.codec = "h264"
    scene.drop_rate = float(rng.uniform(*r.drop_rate)) if rng.random() < r.drop_share else 0.0
    lowest_floor = int(scene.view_bottom_m // FLOOR_M) + 3  # a fall must have a few floors in view below it
    n = int(rng.integers(r.throws[0], r.throws[1] + 1)) if throws else 0
    for _ in range(n):
        scene.throws.append(_throw(rng, r, scene, min(lowest_floor, floors)))
    kinds = (tuple(k for k in r.distractor_kinds if rng.random() < r.distractor_share) if throws
             else r.distractor_kinds)
    scene.distractors = _distractors(rng, scene, kinds)
    return scene


def _aim(scene: Scene, side: np.random.Generator, r: WorldRanges) -> None:
    """Redraw distance, camera height and lowest height in view until the camera's tilt is inside ``tilt_deg``."""
    for _ in range(200):
        if r.tilt_deg[0] <= math.degrees(scene.camera.tilt) <= r.tilt_deg[1]:
            return
        scene.distance = float(side.uniform(*r.distance_m))
        scene.cam_height = float(side.uniform(*r.cam_height_m))
        scene.view_bottom_m = float(side.uniform(*r.view_bottom_share)) * scene.floors * FLOOR_M
    raise ValueError(f"no camera of seed {scene.seed} tilts within {r.tilt_deg} deg")


def _lens(scene: Scene, side: np.random.Generator, r: WorldRanges) -> None:
    """Radial terms from the displacement they give at the frame's corner, so wide and narrow lenses bend alike."""
    if side.random() >= r.lens_share:
        return
    corner = scene.camera.corner_radius ** 2
    shift, part = float(side.uniform(*r.corner_distortion)), float(side.uniform(*r.k2_part))
    scene.k1, scene.k2 = shift * (1 - part) / corner, shift * part / corner**2


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
