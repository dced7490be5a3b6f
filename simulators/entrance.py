"""Entrance-camera simulation: real face photos walking through a gate scene, with ground truth.

Each walker is one face from the fetched photos (simulators/face_images.py, labels in face_photos.json), pasted
onto a synthetic gate at 720p, growing from ~45 px to ~150 px as they approach, turned a little (yaw squeeze,
roll), under their own lighting, with motion blur and sensor noise. Enrolled walkers carry a resident id in the
truth; unenrolled ones do not. For galleries far larger than the photos allow, ``synthetic_embeddings`` gives
seeded unit vectors spread like real embeddings.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from simulators.face_images import images_dir

U8 = npt.NDArray[np.uint8]
F32 = npt.NDArray[np.float32]
PHOTOS = Path(__file__).with_name("face_photos.json")


@dataclass(frozen=True)
class FaceSource:
    """One face in one fetched photo, with who it is (labels from face_photos.json)."""

    identity: str
    file: str
    box: tuple[int, int, int, int]
    labelled: bool
    excluded: bool  # a face that may be another face's person (see face_photos.json): never used as a walker


def load_sources(path: Path = PHOTOS) -> list[FaceSource]:
    """Every annotated face, in file order."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return [FaceSource(f["identity"], f["file"], tuple(f["box"]), f["labelled"], "probably_same_as" in f)
            for f in doc["faces"]]


def cut_face(source: FaceSource, folder: Path, pad: float = 0.45) -> U8:
    """The face with a margin, as a BGRA patch whose alpha fades out in an ellipse (no hard photo edge)."""
    image = cv2.imread(str(folder / source.file), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"cannot read {folder / source.file}")
    x0, y0, x1, y1 = source.box
    side = x1 - x0
    p = int(side * pad)
    h, w = image.shape[:2]
    bx0, by0, bx1, by1 = max(0, x0 - p), max(0, y0 - p), min(w, x1 + p), min(h, y1 + p)
    patch = image[by0:by1, bx0:bx1]
    ph, pw = patch.shape[:2]
    yy, xx = np.mgrid[0:ph, 0:pw].astype(np.float32)
    cx, cy = (x0 + x1) / 2 - bx0, (y0 + y1) / 2 - by0
    r = ((xx - cx) / (side * 0.62)) ** 2 + ((yy - cy) / (side * 0.78)) ** 2
    alpha = np.clip((1.25 - r) / 0.35, 0.0, 1.0)
    return np.dstack([patch, (alpha * 255).astype(np.uint8)])


@dataclass(frozen=True)
class Walker:
    """One passage: who, when, and how they look on the way through."""

    identity: str
    resident: str | None  # the enrolled resident id, or None for an unenrolled person
    t0: float
    duration: float
    x: float  # image column of the lane
    yaw: float  # horizontal squeeze 0.75..1 (a face turned away a little)
    roll: float  # degrees
    light: float  # brightness gain
    blur: float  # motion blur length at full speed (px)
    patch_index: int


@dataclass
class EntranceScene:
    """One entrance camera's clip: a fixed gate background and the walkers passing it."""

    camera: str
    gate: str
    direction: Literal["in", "out"]
    width: int = 1280
    height: int = 720
    fps: float = 10.0
    seconds: float = 30.0
    seed: int = 1
    walkers: list[Walker] = field(default_factory=list)
    patches: list[U8] = field(default_factory=list)
    noise: float = 3.0

    @property
    def n_frames(self) -> int:
        """Frames in the clip."""
        return int(self.seconds * self.fps)

    def background(self) -> U8:
        """A gate lane: floor gradient, two posts, a barrier arm, a wall; the same every frame."""
        rng = np.random.default_rng(self.seed)
        h, w = self.height, self.width
        rows = np.linspace(0.0, 1.0, h, dtype=np.float32)[:, None]
        base = np.empty((h, w, 3), dtype=np.float32)
        base[...] = (70 + 90 * rows)[..., None] * np.array([0.9, 1.0, 1.05], dtype=np.float32)
        base[: h // 3] = np.array([150, 160, 165], dtype=np.float32)  # wall
        img = np.clip(base + rng.normal(0, 4, base.shape), 0, 255).astype(np.uint8)
        for x in (int(w * 0.22), int(w * 0.78)):
            cv2.rectangle(img, (x - 18, h // 4), (x + 18, h - 40), (60, 60, 70), -1)
        cv2.rectangle(img, (int(w * 0.22), int(h * 0.55)), (int(w * 0.45), int(h * 0.57)), (40, 40, 200), -1)
        return img

    def frames(self) -> Iterator[tuple[float, U8]]:
        """(capture time in s from the start, BGR frame) for every frame."""
        bg = self.background()
        rng = np.random.default_rng(self.seed + 1)
        # sensor noise: a few noisy backgrounds made once (drawing 2.7 M normals per frame would cost more than the
        # detector), and fresh noise on each pasted face
        plates = [np.clip(bg + rng.normal(0, self.noise, bg.shape), 0, 255).astype(np.uint8) for _ in range(4)]
        for i in range(self.n_frames):
            t = i / self.fps
            frame = plates[i % 4].copy()
            for walker in self.walkers:
                if walker.t0 <= t <= walker.t0 + walker.duration:
                    self._draw(frame, walker, (t - walker.t0) / walker.duration, rng)
            yield t, frame

    def jpegs(self, quality: int = 85) -> Iterator[tuple[float, bytes]]:
        """The frames as the camera would send them: JPEG, as on the MQTT frame topic."""
        for t, frame in self.frames():
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise RuntimeError("JPEG encoding failed")
            yield t, buf.tobytes()

    def _draw(self, frame: U8, walker: Walker, progress: float, rng: np.random.Generator) -> None:
        """Paste the walker's face (and a plain body) at the size and place this point of the walk gives."""
        side = 45.0 + 105.0 * progress  # face width in px: far at the lane's start, close at the camera
        cy = self.height * (0.30 + 0.35 * progress)
        cx = walker.x + 30.0 * np.sin(progress * 3.0)
        body_w, body_h = int(side * 2.2), int(side * 3.0)
        cv2.ellipse(frame, (int(cx), int(cy + side * 1.9)), (body_w // 2, body_h // 2), 0, 0, 360,
                    (50 + walker.patch_index * 23 % 120, 60, 90), -1)
        patch = self.patches[walker.patch_index]
        scale = side / (patch.shape[1] / 1.9)  # the patch is ~1.9 face widths across
        pw, ph = max(2, int(patch.shape[1] * scale * walker.yaw)), max(2, int(patch.shape[0] * scale))
        small = cv2.resize(patch, (pw, ph), interpolation=cv2.INTER_AREA)
        rot = cv2.getRotationMatrix2D((pw / 2, ph / 2), walker.roll, 1.0)
        small = cv2.warpAffine(small, rot, (pw, ph), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0, 0))
        speed = 0.5 + progress  # closer faces move faster across the image: more blur
        k = round(walker.blur * speed)
        if k >= 2:
            kernel = np.zeros((k, k), dtype=np.float32)
            kernel[:, k // 2] = 1.0 / k  # vertical motion (walking towards the camera)
            small = cv2.filter2D(small, -1, kernel)
        x0, y0 = int(cx - pw / 2), int(cy - ph / 2)
        fx0, fy0 = max(0, x0), max(0, y0)
        fx1, fy1 = min(frame.shape[1], x0 + pw), min(frame.shape[0], y0 + ph)
        if fx1 <= fx0 or fy1 <= fy0:
            return
        part = small[fy0 - y0 : fy1 - y0, fx0 - x0 : fx1 - x0].astype(np.float32)
        alpha = part[..., 3:4] / 255.0
        lit = np.clip(part[..., :3] * walker.light, 0, 255)
        region = frame[fy0:fy1, fx0:fx1].astype(np.float32)
        mixed = region * (1 - alpha) + lit * alpha + rng.normal(0, self.noise, region.shape) * alpha
        frame[fy0:fy1, fx0:fx1] = np.clip(mixed, 0, 255).astype(np.uint8)

    def truth(self) -> list[dict[str, Any]]:
        """One row per passage: who it was, whether enrolled, and when they reached the camera."""
        return [{"camera": self.camera, "gate": self.gate, "direction": self.direction, "identity": w.identity,
                 "resident": w.resident, "enrolled": w.resident is not None, "t_start": round(w.t0, 3),
                 "t_end": round(w.t0 + w.duration, 3)} for w in self.walkers]


def make_entrance_scene(camera: str, gate: str, direction: Literal["in", "out"],
                        passages: Sequence[tuple[FaceSource, str | None]], *, seed: int = 1, gap: float = 3.5,
                        fps: float = 10.0, folder: Path | None = None, hard: bool = False) -> EntranceScene:
    """A scene where each (face, resident-or-None) walks through in turn, ``gap`` seconds apart.

    ``hard`` widens the pose, lighting and blur ranges (dusk, hurried walkers) for stress runs.
    """
    rng = random.Random(seed)
    where = folder or images_dir()
    patches: list[U8] = []
    index: dict[tuple[str, tuple[int, int, int, int]], int] = {}
    walkers = []
    t = 0.5
    for source, resident in passages:
        if source.excluded:
            raise ValueError(f"{source.identity} may be another photo's person and is never used as a walker")
        key = (source.file, source.box)
        if key not in index:
            index[key] = len(patches)
            patches.append(cut_face(source, where))
        duration = rng.uniform(2.2, 3.2)
        walkers.append(Walker(
            identity=source.identity, resident=resident, t0=t, duration=duration,
            x=rng.uniform(420, 860), yaw=rng.uniform(0.7 if hard else 0.82, 1.0),
            roll=rng.uniform(-14, 14) if hard else rng.uniform(-7, 7),
            light=rng.uniform(0.45, 1.25) if hard else rng.uniform(0.7, 1.15),
            blur=rng.uniform(2.0, 7.0) if hard else rng.uniform(0.0, 3.5), patch_index=index[key],
        ))
        t += duration + gap
    return EntranceScene(camera, gate, direction, fps=fps, seconds=t + 0.5, seed=seed, walkers=walkers,
                         patches=patches)


def synthetic_embeddings(residents: int, per_resident: int = 3, *, seed: int = 1, dim: int = 128,
                         spread: float = 0.2) -> tuple[F32, F32]:
    """Seeded (R, D) identity centres and (R, K, D) enrolment samples, all unit length.

    Centres share a common direction, as real face embeddings do, so different residents sit about 0.63 apart
    (Euclidean, unit vectors; 1st percentile 0.53), near the real impostor pairs of the eval, rather than the 1.41
    of random directions; enrolment samples scatter about ``spread`` (0.2) around their centre.
    """
    rng = np.random.default_rng(seed)
    common = rng.normal(0, 1, dim)
    centres = common / np.linalg.norm(common) * 2.0 + rng.normal(0, 1, (residents, dim)) / np.sqrt(dim)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.normal(0, spread / np.sqrt(dim), (residents, per_resident, dim))
    samples = centres[:, None, :] + noise
    samples /= np.linalg.norm(samples, axis=2, keepdims=True)
    return centres.astype(np.float32), samples.astype(np.float32)


# who is enrolled in the demo gate (identity -> resident id) and who only walks past
DEMO_ENROLLED = {"fr:A": "R-A", "g1:0": "R-g1-0", "g2:1": "R-g2-1", "g4:0": "R-g4-0", "g5:2": "R-g5-2",
                 "g6:0": "R-g6-0"}
DEMO_STRANGERS = ("fr:B", "g6:3", "g5:3", "g4:1", "g1:2", "g3:0")


def demo_cast(sources: Sequence[FaceSource]) -> tuple[dict[str, list[FaceSource]], list[tuple[FaceSource, str | None]]]:
    """Enrolment photos per resident, and the passages of the demo gate (enrolled and unenrolled, interleaved).

    The person with three photos is enrolled from two and walks with the third, the honest case; the others have
    one photo each, enrolled from it and re-rendered at the gate, which flatters the embedder and is said so.
    """
    by_identity: dict[str, list[FaceSource]] = {}
    for s in sources:
        if not s.excluded:
            by_identity.setdefault(s.identity, []).append(s)
    enrol: dict[str, list[FaceSource]] = {}
    walk: list[tuple[FaceSource, str | None]] = []
    for identity, resident in DEMO_ENROLLED.items():
        photos = by_identity[identity]
        enrol[resident] = photos[:-1] if len(photos) > 1 else photos
        walk.append((photos[-1], resident))
    strangers = [(by_identity[i][0], None) for i in DEMO_STRANGERS]
    mixed: list[tuple[FaceSource, str | None]] = []
    for k in range(max(len(walk), len(strangers))):
        mixed.extend(walk[k : k + 1])
        mixed.extend(strangers[k : k + 1])
    return enrol, mixed
