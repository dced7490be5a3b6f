"""The littering detector: one implementation behind both drivers (offline files and the live MQTT service).

Feed it grayscale frames of one camera in order; it returns littering events when a falling object's track ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from vision.blobs import extract
from vision.camera_config import CameraConfig
from vision.classifier import ClassifierParams, classify
from vision.decode import GrayFrame
from vision.motion import MotionModel, MotionParams, mask_image
from vision.tracker import Track, Tracker


@dataclass(frozen=True)
class LitteringEvent:
    """One detected fall; pixel coordinates are full resolution, frames 0-based from the camera's first frame."""

    camera: str
    frame_start: int
    frame_end: int
    t_start: float
    t_end: float
    origin: tuple[float, float]
    floor: int | None
    score: float
    track: list[tuple[int, float, float]] = field(default_factory=list)
    window_column: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The offline ``detect --json`` line (a promise to integrators: keys and meaning are fixed)."""
        return {
            "type": "littering",
            "camera": self.camera,
            "frame_start": self.frame_start,
            "frame_end": self.frame_end,
            "t_start": round(self.t_start, 3),
            "t_end": round(self.t_end, 3),
            "origin": [round(self.origin[0], 1), round(self.origin[1], 1)],
            "floor": self.floor,
            "track": [[f, round(x, 1), round(y, 1)] for f, x, y in self.track],
            "score": self.score,
        }


@dataclass
class DetectorStats:
    frames: int = 0
    global_changes: int = 0
    resolution_changes: int = 0
    tracks_ended: int = 0
    rejected: dict[str, int] = field(default_factory=dict)


class Detector:
    """Background model, blobs, tracker and classifier for one camera."""

    def __init__(self, cfg: CameraConfig, *, motion: MotionParams | None = None,
                 classifier: ClassifierParams | None = None) -> None:
        self.cfg = cfg
        self.motion_params = motion or MotionParams()
        self.classifier_params = classifier or ClassifierParams()
        self.motion = MotionModel(self.motion_params)
        self.tracker = Tracker()
        self.stats = DetectorStats()
        self.scale = 1
        self.full_height = 0
        self._recent: list[LitteringEvent] = []

    def feed(self, gray: GrayFrame, frame: int, t: float, scale: int = 1) -> list[LitteringEvent]:
        """Process one frame decoded at 1/``scale`` of full resolution; returns the events that completed now."""
        self.stats.frames += 1
        events: list[LitteringEvent] = []
        if self.motion.shape is not None and (self.motion.shape != gray.shape or scale != self.scale):
            self.stats.resolution_changes += 1
            events = self.finish()
            self.motion = MotionModel(self.motion_params)
        if self.motion.shape is None:
            self.scale = scale
            self.full_height = gray.shape[0] * scale
            self.motion.allowed = mask_image(gray.shape, self.cfg.masks, scale)
        before = self.motion.global_changes
        fg = self.motion.apply(gray)
        self.stats.global_changes += self.motion.global_changes - before
        if fg is None:
            return events
        # thrown objects are at most ~20 px across at full resolution; bigger blobs are insects, trees, people
        max_area = int((44 / scale) ** 2)
        blobs = extract(fg, max_area=max_area)
        ended = self.tracker.step(frame, t, blobs)
        return events + self._judge(ended)

    def finish(self) -> list[LitteringEvent]:
        """End of input (or silence, or a new resolution): judge every live track."""
        return self._judge(self.tracker.flush())

    def _judge(self, tracks: list[Track]) -> list[LitteringEvent]:
        events = []
        for tr in tracks:
            self.stats.tracks_ended += 1
            if len(tr) < self.classifier_params.min_points:
                continue
            verdict = classify(tr, self.cfg, self.scale, self.full_height, self.classifier_params)
            if not verdict.falling:
                self.stats.rejected[verdict.reason] = self.stats.rejected.get(verdict.reason, 0) + 1
                continue
            s, (a, b) = self.scale, verdict.span
            ev = LitteringEvent(
                camera=self.cfg.id,
                frame_start=tr.frames[a],
                frame_end=tr.frames[b - 1],
                t_start=tr.times[a],
                t_end=tr.times[b - 1],
                origin=verdict.origin,
                floor=verdict.floor,
                score=verdict.score,
                track=[(f, x * s, y * s) for f, x, y in zip(tr.frames[a:b], tr.xs[a:b], tr.ys[a:b], strict=True)],
                window_column=verdict.column,
            )
            if not self._duplicate(ev):
                events.append(ev)
                self._recent = [*self._recent[-7:], ev]
        return events

    def _duplicate(self, ev: LitteringEvent) -> bool:
        """A fall split into two tracks (a gap, an exposure jump) is reported once, by whichever part ended first:
        the two parts follow each other in time and the second starts about where the first ended."""
        tol = 0.03 * self.full_height + 10
        for old in self._recent:
            first, second = (old, ev) if old.t_start <= ev.t_start else (ev, old)
            if second.t_start > first.t_end + 1.0:
                continue
            (_, x1, y1), (_, x2, y2) = first.track[-1], second.track[0]
            if abs(x1 - x2) < tol and y2 >= y1 - 20 - tol:
                return True
        return False
