"""The littering detector: one implementation behind both drivers (offline files and the live MQTT service).

Feed it grayscale frames of one camera in order; it returns littering events when a falling object's track ends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from vision.activity_map import ActivityMap
from vision.blobs import extract
from vision.camera_config import CameraConfig
from vision.classifier import ClassifierParams, Verdict, classify
from vision.decode import GrayFrame
from vision.fragments import FragmentJoiner
from vision.frame_clock import FrameClock
from vision.geometry import PinholeCamera, camera_for
from vision.motion import MotionModel, MotionParams, mask_image
from vision.tracker import Track, Tracker

# a fall's second part may begin this long after its first part ended (the tracker lost it behind a slab, in the
# glare of a window, or split its blob); later than that, a track is another object
DUPLICATE_GAP_S = 1.5

# a track rejected for one of these may be a piece of a fall the tracker lost (too short, too few floors, gaps, or
# only the late part, near terminal speed, that looks like flight); the others say what the thing was instead
PIECE_REASONS = frozenset({"too_few_floors", "sparse", "short_span", "not_accelerating", "not_physical", "flight",
                           "drift"})


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
    model: str = "camera"  # what explained the fall: "camera" (3-D, calibrated) or "uncalibrated" / "floor_lines"

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
            "model": self.model,
        }


@dataclass
class DetectorStats:
    """Counters a long-running worker reports: frames, resets, tracks judged, and why tracks were rejected."""

    frames: int = 0
    global_changes: int = 0
    aligned_frames: int = 0  # frames moved back onto the background: the camera shook (`vision/align.py`)
    resolution_changes: int = 0
    tracks_ended: int = 0
    joined: int = 0  # falls found by joining pieces of track
    repeated_frames: int = 0  # frames that repeat their predecessor (upsampled footage), skipped
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
        self.full_width = 0
        self.camera: PinholeCamera | None = None  # fitted from the calibration once the frame size is known
        self._gravity_px = 0.0
        self._recent: list[LitteringEvent] = []
        self.fragments = FragmentJoiner(classifier=self.classifier_params)
        self.clock = FrameClock()  # tracks run on ticks of new content; events report delivered frame numbers
        self.activity = ActivityMap()  # where motion is habitual; the live service loads and saves it
        # called with every track judged and its verdict (None: too short to judge); a dev tool's window
        self.on_judged: Callable[[Track, Verdict | None], None] | None = None

    def feed(self, gray: GrayFrame, frame: int, t: float, scale: int = 1) -> list[LitteringEvent]:
        """Process one frame decoded at 1/``scale`` of full resolution; returns the events that completed now."""
        self.stats.frames += 1
        events: list[LitteringEvent] = []
        if self.motion.shape is not None and (self.motion.shape != gray.shape or scale != self.scale):
            self.stats.resolution_changes += 1
            events = self.finish()
            self.motion = MotionModel(self.motion_params)
            self.fragments = FragmentJoiner(classifier=self.classifier_params)  # pieces in the old pixel grid
            self.clock.reset()
        if self.motion.shape is None:
            self.scale = scale
            self.full_height = gray.shape[0] * scale
            self.full_width = gray.shape[1] * scale
            self.camera = self._fit_camera()
            self._gravity_px = self._gravity_px_per_s2()
            self.motion.allowed = mask_image(gray.shape, self.cfg.masks, scale)
            self.activity.fit(gray.shape, scale)
        tick = self.clock.advance(gray, frame, t)
        if tick is None:
            self.stats.repeated_frames += 1
            return events
        before, aligned = self.motion.global_changes, self.motion.aligned_frames
        fg = self.motion.apply(gray)
        self.stats.global_changes += self.motion.global_changes - before
        self.stats.aligned_frames += self.motion.aligned_frames - aligned
        if fg is None:
            return events
        self.activity.update(fg, t)
        # thrown objects are at most ~40 px across at full resolution (plus the blur of motion); bigger blobs are
        # insects at the lens, trees, people
        max_area = int((60 / scale) ** 2)
        blobs = extract(fg, max_area=max_area)
        period = self.clock.period or (1.0 / self.cfg.fps if self.cfg.fps else 0.05)
        self.tracker.accel = self._gravity_px * period * period
        ended = self.tracker.step(tick, self.clock.content_time, blobs)
        return events + self._judge(ended)

    def finish(self) -> list[LitteringEvent]:
        """End of input (or silence, or a new resolution): judge every live track."""
        return self._judge(self.tracker.flush())

    def _judge(self, tracks: list[Track]) -> list[LitteringEvent]:
        events: list[LitteringEvent] = []
        for tr in tracks:
            self.stats.tracks_ended += 1
            verdict = self._classify(tr)
            if verdict is not None and verdict.falling:
                self._report(tr, verdict, events)
                continue
            if verdict is not None:
                self.stats.rejected[verdict.reason] = self.stats.rejected.get(verdict.reason, 0) + 1
            if len(tr) < 3 or (verdict is not None and verdict.reason not in PIECE_REASONS):
                continue
            joins = self.fragments.joins(tr)
            for piece, whole in joins:
                verdict = self._classify(whole)
                if verdict is not None and verdict.falling:
                    self.stats.joined += 1
                    self.fragments.drop(piece)
                    self._report(whole, verdict, events)
                    break
            else:
                self.fragments.keep(tr)
                for _, whole in joins:
                    self.fragments.keep(whole)  # a third piece may yet follow
        return events

    def _gravity_px_per_s2(self) -> float:
        """Gravity in processing px/s^2 where the facade looks largest (its bottom), with room for an object
        thrown out towards the camera; without calibration, a picture spanning some 60 m is assumed.
        """
        lines = self.cfg.floor_lines
        if len(lines) >= 2:
            px_per_m = max(a - b for a, b in pairwise(lines)) / self.cfg.floor_height_m
        else:
            px_per_m = self.full_height / 60.0
        return 9.81 * 1.3 * px_per_m / self.scale

    def _fit_camera(self) -> PinholeCamera | None:
        """The camera geometry for this frame size; a calibration that gives none leaves the image-space model."""
        try:
            return camera_for(self.cfg, self.full_width, self.full_height)
        except ValueError:
            return None

    def _classify(self, tr: Track) -> Verdict | None:
        verdict = None
        if len(tr) >= self.classifier_params.min_points:
            verdict = classify(tr, self.cfg, self.scale, self.full_height, self.classifier_params,
                               camera=self.camera, image_width=self.full_width)
        if self.on_judged is not None:
            self.on_judged(tr, verdict)
        return verdict

    def _report(self, tr: Track, verdict: Verdict, events: list[LitteringEvent]) -> None:
        if self._habitual(tr, verdict):
            return
        s, pts = self.scale, verdict.points
        frame_of = self.clock.frame_of
        ev = LitteringEvent(
            camera=self.cfg.id,
            frame_start=frame_of(tr.frames[pts[0]]),
            frame_end=frame_of(tr.frames[pts[-1]]),
            t_start=tr.times[pts[0]],
            t_end=tr.times[pts[-1]],
            origin=verdict.origin,
            floor=verdict.floor,
            score=verdict.score,
            track=[(frame_of(tr.frames[i]), tr.xs[i] * s, tr.ys[i] * s) for i in pts],
            window_column=verdict.column,
            model=verdict.model,
        )
        if not self._duplicate(ev):
            events.append(ev)
            self._recent = [*self._recent[-7:], ev]

    def _habitual(self, tr: Track, verdict: Verdict) -> bool:
        """A fall along cells of habitual motion must win by a wider margin (``vision/activity_map.py``); one that
        does not is rejected as ``habitual_motion``. Along quiet cells, or while the map is cold, nothing changes.
        """
        pts = verdict.points
        extra = self.activity.extra_evidence([tr.xs[i] for i in pts], [tr.ys[i] for i in pts])
        if extra <= 0.0:
            return False
        if verdict.wins_by(self.classifier_params.min_evidence + extra):  # the fit's margin, not a second fit
            return False
        self.stats.rejected["habitual_motion"] = self.stats.rejected.get("habitual_motion", 0) + 1
        return True

    def _duplicate(self, ev: LitteringEvent) -> bool:
        """A fall split into two tracks (a gap, an exposure jump, a blob that split) is reported once, by whichever
        part ended first. The second part takes over the object: if it began while the first still ran, it is where
        the first ended when that ended; if it began after (within ``DUPLICATE_GAP_S``), it begins about where the
        first one's object was heading. Two objects thrown together from one column are two falls: the other one
        is seen well above, or beside.
        """
        tol = 0.03 * self.full_height + 10
        for old in self._recent:
            first, second = (old, ev) if old.t_start <= ev.t_start else (ev, old)
            if second.t_start > first.t_end + DUPLICATE_GAP_S:
                continue
            start, x2, y2 = second.track[0]
            if first.track[0] == second.track[0]:
                return True  # two joins of the same pieces: one fall
            end = first.track[-1][0]
            if start <= end:  # overlapping: both tracks followed the object at the hand-over
                x1, y1, _ = _heading(first, end)
                x2, y2 = _position(second, end)
                if abs(x1 - x2) < tol and abs(y1 - y2) < 20 + tol:
                    return True
                continue
            x1, y1, drift = _heading(first, start)
            if abs(x1 - x2) < tol + drift and y2 >= y1 - 20 - tol:
                return True
        return False


def _position(ev: LitteringEvent, frame: int) -> tuple[float, float]:
    """Where the track of ``ev`` was at ``frame`` (within its span), between the points either side."""
    track = ev.track
    after = next((i for i, p in enumerate(track) if p[0] >= frame), len(track) - 1)
    if after == 0 or track[after][0] <= frame:
        return track[after][1], track[after][2]
    (fa, xa, ya), (fb, xb, yb) = track[after - 1], track[after]
    w = (frame - fa) / (fb - fa)
    return xa + w * (xb - xa), ya + w * (yb - ya)


def _heading(ev: LitteringEvent, frame: int) -> tuple[float, float, float]:
    """Where the object of ``ev`` had got to by ``frame`` (at or after its end), and how far off sideways that
    may be: its end, carried on at its last speed for the frames since (a lower bound downwards, as it still
    accelerates; sideways the drift of perspective grows as it nears, so half the distance carried is allowed
    either way). The end is judged by the last points, as the very last blob may be a stray.
    """
    track = ev.track
    end = sorted(track[-3:], key=lambda p: p[1])
    x, y = end[len(end) // 2][1], max(p[2] for p in end)
    recent = track[-5:]
    steps = [(b[0] - a[0], b[1] - a[1], b[2] - a[2]) for a, b in pairwise(recent)]
    vx = _median([dx / max(1, df) for df, dx, _ in steps])
    vy = max(0.0, _median([dy / max(1, df) for df, _, dy in steps]))  # the median step: a stray moves it little
    gap = max(0, frame - track[-1][0])
    return x + vx * gap, y + vy * gap, 0.5 * abs(vx) * gap


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2] if values else 0.0
