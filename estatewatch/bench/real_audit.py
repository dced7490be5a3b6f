"""Check the real-clip annotations against the footage they describe.

An annotation is only worth scoring against if it is right: the file must decode to the frames and size the
manifest records, and every annotated track point must sit on something that changed at that moment. The check
for a point is its *contrast*: the largest grey-level difference, within a few pixels of the point, between that
frame and the per-pixel median of five frames 8-20 before it and five 8-20 after it (by then a falling object has
moved on, so the median is the background). A point on the object stands out by tens of grey levels; the same
point shifted sideways, on the still facade, by a few. ``python -m estatewatch.bench.real_audit [CACHE_DIR]``
prints the check for every clip of the manifest.

Frames are decoded with PyAV in one pass per file and only the frames a point needs are kept, as their luma plane
(limited range, so about 0.86 of the grey levels OpenCV's BGR-to-grey conversion gives). This is an offline check
of our data, not the detector's input path: ``real_eval`` decodes exactly as ``detect`` does.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from estatewatch.bench.real_clips import (
    DEFAULT_CACHE,
    DEFAULT_MANIFEST,
    Clip,
    Fall,
    FetchError,
    ManifestError,
    cached_clip,
    load_clip_annotation,
    load_manifest,
)

MIN_CONTRAST = 15.0  # luma levels; when set, every annotated point measured 21 or more, 90 % of controls 7 or less
RADIUS_PX = 4  # how far from the annotated centre the object's strongest change may lie
BACKGROUND_OFFSETS = (8, 11, 14, 17, 20)  # frames before and after a point whose median is its background
MARGIN_PX = 60  # room around the track's bounding box for the shifted control points
SHIFT_PX = 40.0  # how far sideways the control points are moved

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 (exclusive) in full-resolution pixels
Crops = dict[int, np.ndarray]  # frame number -> int16 grey crop


@dataclass(frozen=True)
class FileInfo:
    """What a video file actually decodes to."""

    frames: int
    width: int
    height: int


@dataclass(frozen=True)
class CropRequest:
    """Which frames of a file one check needs, and which part of them."""

    frames: frozenset[int]
    box: Box


@dataclass(frozen=True)
class FallAudit:
    """The contrast of the checked points of one object, and of the same points moved sideways (the control)."""

    fall: str
    kind: str
    contrast: list[float]
    control: list[float]

    @property
    def weakest(self) -> float:
        """The lowest contrast of any checked point."""
        return min(self.contrast)


def scan(path: Path, requests: dict[str, CropRequest] | None = None) -> tuple[FileInfo, dict[str, Crops]]:
    """Decode a whole file once: how many frames and what size it really has, and the requested grey crops."""
    requests = requests or {}
    wanted: set[int] = set()
    for req in requests.values():
        wanted |= req.frames
    crops: dict[str, Crops] = {key: {} for key in requests}
    frames = width = height = 0
    try:
        with av.open(str(path)) as container:
            for index, frame in enumerate(container.decode(video=0)):
                frames = index + 1
                width, height = frame.width, frame.height
                if index not in wanted:
                    continue
                gray = frame.to_ndarray(format="gray")
                for key, req in requests.items():
                    if index in req.frames:
                        x0, y0, x1, y1 = req.box
                        crops[key][index] = gray[y0:y1, x0:x1].astype(np.int16)
    except av.FFmpegError as exc:
        raise ValueError(f"cannot decode {path}: {exc}") from exc
    return FileInfo(frames, width, height), crops


def background_frames(frame: int) -> list[int]:
    """The frames whose median stands for the background behind a point seen in ``frame``."""
    return [frame + sign * d for d in BACKGROUND_OFFSETS for sign in (-1, 1) if frame + sign * d >= 0]


def point_contrast(crops: Crops, origin: tuple[int, int], frame: int, x: float, y: float) -> float:
    """Largest |frame - background median| within ``RADIUS_PX`` of (x, y); 0 when the frames are not there."""
    refs = [g for g in background_frames(frame) if g in crops]
    if frame not in crops or len(refs) < 3:
        return 0.0
    cx, cy = round(x) - origin[0], round(y) - origin[1]
    h, w = crops[frame].shape
    if not (0 <= cx < w and 0 <= cy < h):
        return 0.0
    window = (slice(max(0, cy - RADIUS_PX), cy + RADIUS_PX + 1), slice(max(0, cx - RADIUS_PX), cx + RADIUS_PX + 1))
    background = np.median(np.stack([crops[g][window] for g in refs]), axis=0)
    return float(np.abs(crops[frame][window] - background).max())


def checked_points(fall: Fall, every: int = 1) -> list[tuple[int, float, float]]:
    """Every ``every``-th annotated point of a fall, and always its last one."""
    points = fall.track[::every]
    if points[-1] != fall.track[-1]:
        points.append(fall.track[-1])
    return points


def crop_request(fall: Fall, width: int, height: int, every: int = 1) -> CropRequest:
    """The frames and the region around the track that auditing ``fall`` needs."""
    points = checked_points(fall, every)
    xs = [p[1] for p in fall.track]
    ys = [p[2] for p in fall.track]
    box = (max(0, int(min(xs)) - MARGIN_PX), max(0, int(min(ys)) - MARGIN_PX),
           min(width, int(max(xs)) + MARGIN_PX + 1), min(height, int(max(ys)) + MARGIN_PX + 1))
    frames = {f for f, _, _ in points} | {g for f, _, _ in points for g in background_frames(f)}
    return CropRequest(frozenset(frames), box)


def audit_fall(fall: Fall, crops: Crops, request: CropRequest, width: int, every: int = 1) -> FallAudit:
    """Contrast of the checked points of one fall, and of the same points moved sideways."""
    points = checked_points(fall, every)
    origin = (request.box[0], request.box[1])
    side = SHIFT_PX if max(p[1] for p in fall.track) + SHIFT_PX + RADIUS_PX < width else -SHIFT_PX
    return FallAudit(fall.id, fall.kind,
                     [point_contrast(crops, origin, f, x, y) for f, x, y in points],
                     [point_contrast(crops, origin, f, x + side, y) for f, x, y in points])


def audit_clip(clip: Clip, manifest: Path, cache_dir: Path, *, every: int = 1) -> tuple[FileInfo, list[FallAudit]]:
    """The decoded size of a clip's file and the audit of every annotated object in its entry (one decode)."""
    path = cached_clip(clip, cache_dir)
    falls = load_clip_annotation(clip, manifest).falls
    width, height = clip.resolution
    requests = {f.id: crop_request(f, width, height, every) for f in falls}
    info, crops = scan(path, requests)
    return info, [audit_fall(f, crops[f.id], requests[f.id], info.width, every) for f in falls]


def problems(clip: Clip, info: FileInfo, audits: list[FallAudit]) -> list[str]:
    """Everything about one clip entry that disagrees with its footage, as sentences."""
    out: list[str] = []
    if (info.width, info.height) != clip.resolution:
        out.append(f"{clip.id}: the file is {info.width}x{info.height}, the manifest says "
                   f"{clip.resolution[0]}x{clip.resolution[1]}")
    if clip.source_frames is not None and info.frames != clip.source_frames:
        out.append(f"{clip.id}: the file decodes to {info.frames} frames, the manifest says {clip.source_frames}")
    if info.frames <= clip.frames[1]:
        out.append(f"{clip.id}: frames {list(clip.frames)} run past the file's {info.frames} frames")
    for audit in audits:
        weak = [i for i, c in enumerate(audit.contrast) if c < MIN_CONTRAST]
        if weak:
            out.append(f"{clip.id}/{audit.fall}: {len(weak)} checked point(s) show less than {MIN_CONTRAST:.0f} "
                       f"grey levels of change (indices {weak})")
    return out


def main(argv: list[str] | None = None) -> int:
    """Print the audit of every clip; exit 1 when an annotation disagrees with its footage, 2 on a missing file."""
    args = sys.argv[1:] if argv is None else argv
    cache = Path(args[0]) if args else DEFAULT_CACHE
    found: list[str] = []
    try:
        for clip in load_manifest(DEFAULT_MANIFEST):
            info, audits = audit_clip(clip, DEFAULT_MANIFEST, cache)
            print(f"{clip.id}: {info.frames} frames {info.width}x{info.height}")
            for a in audits:
                print(f"  {a.fall} ({a.kind}): {len(a.contrast)} points, contrast min {a.weakest:.0f} "
                      f"median {np.median(a.contrast):.0f}; shifted control median {np.median(a.control):.0f}")
            found.extend(problems(clip, info, audits))
    except (ManifestError, FetchError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for line in found:
        print(f"problem: {line}")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
