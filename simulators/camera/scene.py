"""Scene description: building, camera, throws with physics, distractors; all drawn from one seed."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from simulators.camera.distractors import draw_params
from simulators.camera.geometry import FacadeCamera

G = 9.81
FLOOR_M = 3.0
DISTRACTOR_KINDS = ("birds", "trees", "rain", "cloth", "insects", "lights", "exposure")
# the wider set of the world ranges (simulators/camera/world.py); the first seven are the classic ones above
WORLD_DISTRACTORS = (*DISTRACTOR_KINDS, "foliage", "snow", "perch", "curtains", "reflections", "shadows", "shake")


@dataclass(frozen=True)
class Throw:
    """An object leaving a window at ``t`` seconds; positions come from integrating gravity and quadratic drag."""

    floor: int
    column: int
    t: float
    size_px: int
    color: tuple[int, int, int]
    velocity: tuple[float, float, float]  # lateral, up, toward the camera (m/s)
    terminal_v: float  # m/s; sets the drag constant
    tumble_hz: float = 0.0  # turns per second of an elongated object (0: a round one)


@dataclass
class Scene:
    """Everything a rendered clip is made of; drawn from one seed by ``make_scene`` or ``world.world_scene``."""

    seed: int
    width: int
    height: int
    fps: float
    duration: float
    floors: int
    columns: int
    distance: float
    building_width: float
    throws: list[Throw] = field(default_factory=list)
    distractors: dict[str, Any] = field(default_factory=dict)
    jitter_px: int = 1
    noise_sigma: float = 3.0
    # camera pose beyond the classic framing (world ranges): turned, rolled, raised, and framed from a height up
    yaw: float = 0.0
    roll: float = 0.0
    cam_height: float = 1.5
    view_bottom_m: float = 0.0
    # video: how frames reach the detector, and the footage's defects
    codec: str = "jpeg"  # jpeg (the live path) | mjpeg | mp4v
    quality: int = 85
    dup_every: int = 0  # every n-th delivered frame repeats the one before (footage upsampled), 0 = none
    drop_rate: float = 0.0  # share of frames lost on the way
    night: bool = False  # infrared: grey, low contrast, more noise
    # lens: radial distortion (OpenCV's k1, k2, normalised pinhole coordinates); 0, 0 = a rectilinear lens
    k1: float = 0.0
    k2: float = 0.0

    @property
    def camera(self) -> FacadeCamera:
        """The scene's camera (framing the facade from ``view_bottom_m`` to the roof)."""
        cam = FacadeCamera.framing(self.width, self.height, self.distance, self.floors * FLOOR_M - self.view_bottom_m,
                                   yaw=self.yaw, roll=self.roll, cam_height=self.cam_height - self.view_bottom_m)
        if self.view_bottom_m:
            cam = replace(cam, cam_height=self.cam_height)
        return cam.with_lens(self.k1, self.k2) if self.k1 or self.k2 else cam

    def lens_json(self) -> dict[str, float] | None:
        """The lens as an OpenCV calibration would give it (camera matrix focal and centre, k1, k2), or None for a
        rectilinear lens; part of the ground truth, not of CAMERA.json.
        """
        cam = self.camera
        if not cam.distorted:
            return None
        return {"fx": round(cam.lens_focal, 3), "cx": self.width / 2, "cy": self.height / 2,
                "k1": round(self.k1, 6), "k2": round(self.k2, 6), "pinhole_fx": round(cam.focal, 3)}

    @property
    def n_frames(self) -> int:
        """Frames delivered over the scene's duration."""
        return round(self.duration * self.fps)

    def content_time(self, frame: int) -> float:
        """Capture time of what delivered frame ``frame`` shows: a repeated frame shows its predecessor's."""
        if not self.dup_every:
            return frame / self.fps
        source = frame - (frame + 1) // self.dup_every  # delivered 0, 1, 1, 2, 3, 3, ... for every third
        return source / (self.fps * (self.dup_every - 1) / self.dup_every)

    def window_x(self, column: int) -> float:
        """Lateral position (m) of a window column's centre."""
        pitch = self.building_width / self.columns
        return -self.building_width / 2 + pitch * (column + 0.5)

    def window_height(self, floor: int) -> float:
        """Height (m) of a window's centre on ``floor`` (1-based)."""
        return (floor - 1) * FLOOR_M + 1.6

    def camera_json(self, camera_id: str = "sim-cam") -> dict[str, Any]:
        """CAMERA.json for this scene's camera: the floor lines in view (read at the facade's middle) and window
        columns at mid-height; a raised camera gives its height, a turned or rolled one a facade rectangle.
        """
        cam = self.camera
        rows = [(i, round(cam.row_of_height(i * FLOOR_M), 1)) for i in range(self.floors + 1)]
        seen = [(i, r) for i, r in rows if 0 <= r < self.height]
        first = seen[0][0] if seen else 0
        mid_h = (self.view_bottom_m + self.floors * FLOOR_M) / 2
        pitch = self.building_width / self.columns
        xs = [-self.building_width / 2 + pitch * i for i in range(self.columns + 1)]
        cols = [round(float(cam.project(x, mid_h)[0]), 1) for x in xs]
        out: dict[str, Any] = {"id": camera_id, "fps": self.fps, "first_floor": first + 1,
                               "floor_lines": [r for _, r in seen], "window_columns": cols}
        if self.cam_height != 1.5:
            out["camera_height_m"] = self.cam_height
        if (self.yaw or self.roll) and len(seen) >= 2:
            lo, hi = seen[0][0] * FLOOR_M, seen[-1][0] * FLOOR_M
            x0, x1 = -self.building_width / 2 + pitch, self.building_width / 2 - pitch
            corners = [cam.project(x, h) for x, h in ((x0, lo), (x1, lo), (x1, hi), (x0, hi))]
            out["facade_rect"] = {"points": [[round(float(c), 1), round(float(r), 1)] for c, r in corners],
                                  "width_m": x1 - x0, "height_m": hi - lo, "origin_m": [x0, lo]}
        return out


def trajectory(scene: Scene, throw: Throw) -> list[tuple[int, float, float, float]]:
    """(frame, col, row, height) for every delivered frame the object is in the air and inside the picture (through
    the lens: where it appears in the frame); a repeated frame shows the object where its predecessor did.
    """
    cam = scene.camera
    out: list[tuple[int, float, float, float]] = []
    for frame, x, h, z in flight(scene, throw):
        col, row = cam.project(x, h, z)
        if 0 <= row < scene.height and 0 <= col < scene.width:
            out.append((frame, float(col), float(row), h))
    return out


def flight(scene: Scene, throw: Throw) -> list[tuple[int, float, float, float]]:
    """(frame, x, height, depth) of the object for every delivered frame from its release until it lands."""
    k = G / throw.terminal_v**2
    pos = np.array([scene.window_x(throw.column), scene.window_height(throw.floor), scene.distance - 0.4])
    vel = np.array(throw.velocity, dtype=np.float64) * np.array([1.0, 1.0, -1.0])
    step = 1.0 / (scene.fps * 8)
    gravity = np.array([0.0, -G, 0.0])
    t = throw.t
    out: list[tuple[int, float, float, float]] = []
    frame = max(0, math.floor(throw.t * scene.fps) - 2)
    while frame < scene.n_frames:
        tc = scene.content_time(frame)
        if tc < throw.t:
            frame += 1
            continue
        while t < tc - 1e-12:
            dt = min(step, tc - t)
            vel = vel + (gravity - k * np.linalg.norm(vel) * vel) * dt
            pos = pos + vel * dt
            t += dt
        if pos[1] <= 0:
            break
        out.append((frame, float(pos[0]), float(pos[1]), float(pos[2])))
        frame += 1
    return out


def ground_truth(scene: Scene) -> list[dict[str, Any]]:
    """One record per throw: visible frames, release point in px, floor, window column, size."""
    truth = []
    cam = scene.camera
    for i, th in enumerate(scene.throws):
        traj = trajectory(scene, th)
        if not traj:
            continue
        rx, ry = cam.project(scene.window_x(th.column), scene.window_height(th.floor), scene.distance - 0.4)
        truth.append({
            "id": i,
            "frame_start": traj[0][0],
            "frame_end": traj[-1][0],
            "release_px": [round(float(rx), 1), round(float(ry), 1)],
            "floor": th.floor,
            "column": th.column,
            "size_px": th.size_px,
            "frames": [[f, round(c, 1), round(r, 1)] for f, c, r, _ in traj],
        })
    return truth


def make_scene(seed: int, width: int = 1920, height: int = 1080, fps: float = 20.0, duration: float = 8.0,
               throws: int | None = None, distractors: tuple[str, ...] | None = None,
               min_size: int = 2, max_size: int = 20) -> Scene:
    """A random but reproducible scene; ``distractors`` None = a random mix, () = none."""
    rng = np.random.default_rng(seed)
    floors = int(rng.integers(16, 31))
    scene = Scene(seed, width, height, fps, duration, floors, int(rng.integers(6, 11)),
                  float(rng.uniform(35, 55)), float(rng.uniform(28, 40)),
                  jitter_px=round(height / 1080))  # the same shake in angle: 1 px at 1080p, none at 360p
    n_throws = int(rng.integers(1, 3)) if throws is None else throws
    for _ in range(n_throws):
        bright = bool(rng.random() < 0.3)
        color = tuple(int(v) for v in (rng.integers(200, 255, 3) if bright else rng.integers(10, 70, 3)))
        scene.throws.append(Throw(
            floor=int(rng.integers(3, floors + 1)),
            column=int(rng.integers(0, scene.columns)),
            t=float(rng.uniform(0.8, max(1.0, duration - 5.5))),
            size_px=int(rng.integers(min_size, max_size + 1)),
            color=(color[0], color[1], color[2]),
            velocity=(float(rng.uniform(-1.2, 1.2)), float(rng.uniform(-0.5, 1.5)), float(rng.uniform(0, 1.2))),
            terminal_v=float(rng.uniform(20, 60)),
        ))
    kinds = tuple(k for k in DISTRACTOR_KINDS if rng.random() < 0.5) if distractors is None else distractors
    scene.distractors = _distractors(rng, scene, kinds)
    return scene


def _distractors(rng: np.random.Generator, scene: Scene, kinds: tuple[str, ...]) -> dict[str, Any]:
    w, h, dur = scene.width, scene.height, scene.duration
    late = max(0.1, dur - 2)  # latest start of something that lasts a while
    out: dict[str, Any] = {}
    if "birds" in kinds:  # (t0, x0, y0, vx, vy, bob amplitude, bob Hz, size)
        out["birds"] = [(float(rng.uniform(0, late)), float(rng.uniform(0, w)), float(rng.uniform(0.05, 0.7) * h),
                         float(rng.choice([-1, 1]) * rng.uniform(0.1, 0.4) * w), float(rng.uniform(-0.15, 0.05) * h),
                         float(rng.uniform(2, 10)), float(rng.uniform(1, 4)), int(rng.integers(3, 9)))
                        for _ in range(int(rng.integers(2, 6)))]
    if "trees" in kinds:  # (x, base row, radius, sway px, sway Hz)
        out["trees"] = [(float(rng.uniform(0, w)), float(h * rng.uniform(0.8, 1.0)),
                         int(rng.uniform(0.05, 0.12) * h), float(rng.uniform(2, 8)), float(rng.uniform(0.3, 1.2)))
                        for _ in range(int(rng.integers(1, 4)))]
    if "rain" in kinds:
        out["rain"] = int(rng.integers(40, 200)) * w * h // (1920 * 1080)
    if "cloth" in kinds:  # (floor, column, width px, length px, flap Hz)
        out["cloth"] = [(int(rng.integers(2, scene.floors)), int(rng.integers(0, scene.columns)),
                         int(rng.integers(8, 30)), int(rng.integers(15, 50)), float(rng.uniform(0.5, 2.5)))
                        for _ in range(int(rng.integers(1, 4)))]
    if "insects" in kinds:  # (t0, duration, x0, y0, radius)
        out["insects"] = [(float(rng.uniform(0, late)), float(rng.uniform(0.5, 2.0)), float(rng.uniform(0, w)),
                           float(rng.uniform(0, h)), int(rng.uniform(0.03, 0.08) * h))
                          for _ in range(int(rng.integers(1, 3)))]
    if "lights" in kinds:  # (t, floor, column)
        out["lights"] = [(float(rng.uniform(0, dur)), int(rng.integers(1, scene.floors + 1)),
                          int(rng.integers(0, scene.columns))) for _ in range(int(rng.integers(2, 8)))]
    if "exposure" in kinds:  # (t, gain factor): sudden jumps, on top of a slow drift that every scene has
        out["exposure"] = [(float(rng.uniform(0.5, dur)), float(rng.choice([0.75, 0.85, 1.2, 1.3])))
                           for _ in range(int(rng.integers(1, 3)))]
    new = tuple(k for k in kinds if k not in DISTRACTOR_KINDS)
    if new:
        cam = scene.camera
        top = max(0.0, cam.row_of_height(scene.floors * FLOOR_M, lens=False))  # drawn before the lens bends them
        bottom = min(float(h - 1), cam.row_of_height(max(0.0, scene.view_bottom_m), lens=False))
        out.update(draw_params(rng, w, h, dur, new, (top, bottom)))
    return out
