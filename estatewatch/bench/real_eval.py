"""Score the offline detector on the real clips of ``data/real_clips``: falls found with their track, false alarms.

Every clip entry is a frame range of a cached file; the frames go through the same ``Detector`` the live service
and ``estatewatch detect`` use, with the clip's CAMERA.json-style calibration. An event is a detection of an
annotated fall when its frames overlap the fall's and its track stays near the annotated track (median distance
over their common frames, annotated points interpolated between the marked frames). Events on a ``doubtful``
object are neither hits nor false alarms. Rejected tracks near a missed fall are listed with the classifier's
reason, so a miss can be explained.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from estatewatch.bench.real_clips import (
    Annotation,
    Clip,
    Fall,
    cached_clip,
    load_clip_annotation,
    load_clip_camera,
    load_manifest,
)
from vision.camera_config import CameraConfig
from vision.classifier import Verdict
from vision.detector import Detector, LitteringEvent
from vision.offline import video_frames
from vision.tracker import Track


@dataclass(frozen=True)
class DetectedEvent:
    """The parts of an event the matcher needs (full-resolution px, source frame numbers)."""

    frame_start: int
    frame_end: int
    track: list[tuple[int, float, float]]
    origin: tuple[float, float] = (0.0, 0.0)
    floor: int | None = None
    score: float = 0.0

    @classmethod
    def of(cls, ev: LitteringEvent) -> DetectedEvent:
        """From a detector event."""
        return cls(ev.frame_start, ev.frame_end, list(ev.track), ev.origin, ev.floor, ev.score)


@dataclass
class Match:
    """An event paired with an annotated fall, with how well its track and release point agree."""

    event: int
    fall: str
    distance_px: float
    coverage: float  # share of the annotated frames that the event's track spans
    release_error_px: float


@dataclass
class MatchResult:
    """Hits, missed fall ids, false-alarm event indices and events on doubtful objects."""

    matches: list[Match] = field(default_factory=list)
    missed: list[str] = field(default_factory=list)
    false_alarms: list[int] = field(default_factory=list)  # event indices
    on_doubtful: list[int] = field(default_factory=list)


def interpolate_track(track: list[tuple[int, float, float]], frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Annotated x, y at ``frames`` (linear between marked points, NaN outside the marked range)."""
    f = np.array([p[0] for p in track], float)
    x = np.interp(frames, f, [p[1] for p in track], left=np.nan, right=np.nan)
    y = np.interp(frames, f, [p[2] for p in track], left=np.nan, right=np.nan)
    return x, y


def track_distance(event: DetectedEvent, fall: Fall) -> float:
    """Median distance (px) between the event's points and the annotated track at the same frames; inf when the
    event has no point inside the annotated range.
    """
    if not event.track:
        return math.inf
    frames = np.array([p[0] for p in event.track], float)
    ax, ay = interpolate_track(fall.track, frames)
    ok = ~np.isnan(ax)
    if not ok.any():
        return math.inf
    ex = np.array([p[1] for p in event.track], float)[ok]
    ey = np.array([p[2] for p in event.track], float)[ok]
    return float(np.median(np.hypot(ex - ax[ok], ey - ay[ok])))


def tolerance_px(width: int) -> float:
    """How far an event's track may stray from the annotated one: the simulator benchmark's rule."""
    return 0.02 * width + 6.0


def _on_doubtful(ev: DetectedEvent, falls: list[Fall], tol: float) -> bool:
    """An event on a doubtful object that lost the greedy pairing is still not a false alarm."""
    return any(f.kind == "doubtful" and min(ev.frame_end, f.last_frame) >= max(ev.frame_start, f.first_frame)
               and track_distance(ev, f) <= tol for f in falls)


def match_events(events: list[DetectedEvent], falls: list[Fall], width: int) -> MatchResult:
    """Pair events with annotated objects (frames overlap, track near); greedy, closest first."""
    tol = tolerance_px(width)
    candidates: list[tuple[float, int, int]] = []
    for ei, ev in enumerate(events):
        for fi, fall in enumerate(falls):
            if min(ev.frame_end, fall.last_frame) < max(ev.frame_start, fall.first_frame):
                continue
            d = track_distance(ev, fall)
            if d <= tol:
                candidates.append((d, ei, fi))
    result = MatchResult()
    used_e: set[int] = set()
    used_f: set[int] = set()
    for d, ei, fi in sorted(candidates):
        if ei in used_e or fi in used_f:
            continue
        used_e.add(ei)
        used_f.add(fi)
        fall, ev = falls[fi], events[ei]
        if fall.kind == "doubtful":
            result.on_doubtful.append(ei)
            continue
        span = fall.last_frame - fall.first_frame + 1
        lo, hi = max(ev.frame_start, fall.first_frame), min(ev.frame_end, fall.last_frame)
        release = math.hypot(ev.origin[0] - fall.release.x, ev.origin[1] - fall.release.y)
        result.matches.append(Match(ei, fall.id, round(d, 1), round((hi - lo + 1) / span, 2), round(release, 1)))
    for ei, ev in enumerate(events):
        if ei not in used_e:
            (result.on_doubtful if _on_doubtful(ev, falls, tol) else result.false_alarms).append(ei)
    found = {m.fall for m in result.matches}
    result.missed = [f.id for f in falls if f.kind == "fall" and f.id not in found]
    return result


class DiagnosticDetector(Detector):
    """The production detector, unchanged, that also remembers every track it judged and the verdict (for
    explaining misses; the bench only reads what it records).
    """

    def __init__(self, cfg: CameraConfig) -> None:
        super().__init__(cfg)
        self.judged_tracks: list[tuple[str, list[tuple[int, float, float]]]] = []

    def _classify(self, tr: Track) -> Verdict | None:
        verdict = super()._classify(tr)
        if len(tr) >= 3:
            reason = "too_short" if verdict is None else "falling" if verdict.falling else str(verdict.reason)
            s = self.scale
            pts = [(self.clock.frame_of(f), x * s, y * s) for f, x, y in zip(tr.frames, tr.xs, tr.ys, strict=True)]
            self.judged_tracks.append((reason, pts))
        return verdict


def segment_frames(path: Path, first: int, last: int) -> Iterator[tuple[int, Any, int]]:
    """(source frame number, gray frame, scale) for frames first..last, decoded exactly as ``detect`` does."""
    for index, (gray, scale) in enumerate(video_frames(path)):
        if index > last:
            break
        if index >= first:
            yield index, gray, scale


def run_clip(path: Path, clip: Clip, cfg: CameraConfig) -> tuple[list[DetectedEvent], DiagnosticDetector]:
    """All events of one clip entry; timestamps are source frame / fps, as ``estatewatch detect`` stamps them."""
    detector = DiagnosticDetector(cfg)
    events: list[LitteringEvent] = []
    for index, gray, scale in segment_frames(path, clip.frames[0], clip.frames[1]):
        events.extend(detector.feed(gray, index, index / clip.fps, scale))
    events.extend(detector.finish())
    return [DetectedEvent.of(e) for e in events], detector


def tracks_on_fall(judged: list[tuple[str, list[tuple[int, float, float]]]], fall: Fall,
                   width: int) -> list[dict[str, Any]]:
    """Judged tracks that followed an annotated fall for three frames or more: verdict and extent, deduplicated
    (a track judged again as part of a joined whole shows once per distinct extent).
    """
    out: list[dict[str, Any]] = []
    seen: set[tuple[str, int, int]] = set()
    tol = tolerance_px(width)
    for reason, pts in judged:
        inside = [p for p in pts if fall.first_frame <= p[0] <= fall.last_frame]
        if len(inside) < 3:
            continue
        if track_distance(DetectedEvent(inside[0][0], inside[-1][0], inside), fall) > tol:
            continue
        key = (reason, pts[0][0], pts[-1][0])
        if key in seen:
            continue
        seen.add(key)
        out.append({"verdict": reason, "frames": [pts[0][0], pts[-1][0]], "points": len(pts),
                    "on_fall": [inside[0][0], inside[-1][0]]})
    return out


def score_clip(clip: Clip, ann: Annotation, events: list[DetectedEvent],
               detector: DiagnosticDetector | None) -> dict[str, Any]:
    """One row of the report."""
    width = clip.resolution[0]
    result = match_events(events, ann.falls, width)
    falls = [f for f in ann.falls if f.kind == "fall"]
    seconds = (clip.frames[1] - clip.frames[0] + 1) / clip.fps
    row: dict[str, Any] = {
        "id": clip.id, "kind": clip.kind, "split": clip.split, "seconds": round(seconds, 2),
        "falls": len(falls), "found": len(result.matches), "missed": result.missed,
        "events": len(events), "false_alarms": len(result.false_alarms), "on_doubtful": len(result.on_doubtful),
        "matches": [asdict(m) for m in result.matches],
        "false_alarm_events": [{"frames": [events[i].frame_start, events[i].frame_end],
                                "origin": [round(events[i].origin[0], 1), round(events[i].origin[1], 1)]}
                               for i in result.false_alarms],
    }
    if detector is not None:
        row["tracks_on_missed"] = {fid: tracks_on_fall(detector.judged_tracks,
                                                       next(f for f in falls if f.id == fid), width)
                                   for fid in result.missed}
        row["detector_stats"] = asdict(detector.stats)
    return row


def totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums of a set of rows: recall over falls, false alarms on negative clips and on fall clips."""
    falls = sum(r["falls"] for r in rows)
    found = sum(r["found"] for r in rows)
    neg = [r for r in rows if r["kind"] == "negative"]
    neg_s = sum(r["seconds"] for r in neg)
    neg_fa = sum(r["false_alarms"] for r in neg)
    return {
        "clips": len(rows), "falls": falls, "found": found,
        "recall": round(found / falls, 3) if falls else None,
        "false_alarms_negative": neg_fa, "negative_seconds": round(neg_s, 1),
        "false_alarms_per_hour_negative": round(neg_fa * 3600 / neg_s, 1) if neg_s else None,
        "false_alarms_in_fall_clips": sum(r["false_alarms"] for r in rows if r["kind"] == "fall"),
    }


def evaluate_real(clips_dir: Path, manifest: Path, split: str | None) -> dict[str, object]:
    """Run the detector on every cached clip of the manifest (optionally one split) and score it."""
    if split is not None and split not in ("tune", "report"):
        raise ValueError("split must be tune, report or None")
    rows: list[dict[str, Any]] = []
    for clip in load_manifest(manifest):
        if split is not None and clip.split != split:
            continue
        ann = load_clip_annotation(clip, manifest)
        cfg = load_clip_camera(clip, manifest)
        path = cached_clip(clip, clips_dir)
        events, detector = run_clip(path, clip, cfg)
        rows.append(score_clip(clip, ann, events, detector))
    by_split = {s: totals([r for r in rows if r["split"] == s]) for s in ("tune", "report")
                if any(r["split"] == s for r in rows)}
    return {"per_clip": rows, "per_split": by_split, "all": totals(rows)}
