"""The entrance pipeline of one camera: detect -> track -> embed each track's best frames -> vote -> one passage.

Pure: frames in, passages out, no broker or database. A passage becomes an access event
(``method: "face"``, a pseudonymous ``person`` or ``"unknown"``, a confidence). Each track's face crops are dropped
as soon as they are embedded; the frames themselves are never kept. No crop is ever kept as alert evidence either:
the alert these cameras feed (``elderly_not_out``) is about a passage that did not happen, so there is no face to
show, and the crop of an ``unknown`` passage would be the face of someone who never consented.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, Field, model_validator

from vision.faces import Image
from vision.faces.detector import Faces
from vision.faces.gallery import UNKNOWN, Gallery
from vision.faces.tracking import FaceTrack, FaceTracker, TrackParams
from vision.faces.voting import Verdict, VoteParams, vote

F32 = npt.NDArray[np.float32]
Point = tuple[float, float]


class EntranceCamera(BaseModel):
    """A camera of ``kind: entrance``: which gate, and how a passage's direction is known.

    Either a fixed ``direction`` (a camera that only sees people going one way), or a crossing ``line`` (two image
    points) with ``inside``: the side of the line from its first point to its second, as seen in the image, that is
    within the estate. A track that starts on one side and ends on the other is a passage; one that never crosses is
    someone lingering at the gate and is not reported.
    """

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    kind: Literal["entrance"] = "entrance"
    gate: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    direction: Literal["in", "out"] | None = None
    line: tuple[Point, Point] | None = None
    inside: Literal["left", "right"] = "right"
    roi: tuple[int, int, int, int] | None = None  # x0, y0, x1, y1: the lane where faces are searched

    @model_validator(mode="after")
    def _one_way_of_knowing(self) -> EntranceCamera:
        if (self.direction is None) == (self.line is None):
            raise ValueError("an entrance camera needs exactly one of `direction` (in/out) or `line`")
        if self.roi is not None and not (self.roi[0] < self.roi[2] and self.roi[1] < self.roi[3]):
            raise ValueError("roi must be x0, y0, x1, y1 with x0 < x1 and y0 < y1")
        return self


class Detects(Protocol):
    """A face detector (vision.faces.detector.FaceDetector)."""

    def detect(self, frame: Image, roi: tuple[int, int, int, int] | None = None) -> Faces:
        """Faces in a BGR frame, optionally within a region."""
        ...


class Embeds(Protocol):
    """A face embedder (vision.faces.embedder.FaceEmbedder)."""

    model_name: str

    def embed(self, frame_bgr: Image, boxes: npt.ArrayLike) -> F32:
        """Unit-length embeddings of the faces at ``boxes``."""
        ...


@dataclass(frozen=True)
class Passage:
    """One person through the gate. ``person`` is a resident id or ``"unknown"``; ``candidate`` stays internal."""

    camera: str
    gate: str
    ts: float
    direction: Literal["in", "out"]
    person: str
    confidence: float
    reason: str
    track: int
    frames: int
    distance: float
    margin: float

    def access_payload(self, ts_iso: str) -> dict[str, Any]:
        """The body published on ``estate/{site}/access/{gate}/event``."""
        return {"ts": ts_iso, "person": self.person, "direction": self.direction, "method": "face",
                "confidence": self.confidence, "camera": self.camera}


def side_of(line: tuple[Point, Point], point: Point) -> float:
    """Positive on the right of the line's direction as seen in the image (y grows downwards), negative on the left."""
    (x0, y0), (x1, y1) = line
    return (x1 - x0) * (point[1] - y0) - (y1 - y0) * (point[0] - x0)


def track_direction(camera: EntranceCamera, track: FaceTrack) -> Literal["in", "out"] | None:
    """The way a track went through the gate, or None when it never crossed the line."""
    if camera.direction is not None:
        return camera.direction
    if camera.line is None:
        raise ValueError(f"entrance camera {camera.id} has neither a direction nor a line")
    start, end = side_of(camera.line, track.start), side_of(camera.line, track.end)
    if start == 0 or end == 0 or (start > 0) == (end > 0):
        return None
    ends_right = end > 0
    return "in" if ends_right == (camera.inside == "right") else "out"


@dataclass
class EntranceStats:
    """Counters for /metrics: what the camera saw and what became of it."""

    frames: int = 0
    faces: int = 0
    tracks: int = 0
    embedded: int = 0
    passages: int = 0
    unknown: int = 0
    not_crossed: int = 0


class EntrancePipeline:
    """Frames of one entrance camera in time order -> passages as their tracks end."""

    def __init__(self, camera: EntranceCamera, detector: Detects, embedder: Embeds, gallery: Gallery, *,
                 track: TrackParams | None = None, vote_params: VoteParams | None = None) -> None:
        self.camera = camera
        self.detector = detector
        self.embedder = embedder
        self.gallery = gallery
        self.tracker = FaceTracker(track)
        self.vote_params = vote_params or VoteParams()
        self.stats = EntranceStats()
        self._frame_no = 0

    def set_gallery(self, gallery: Gallery) -> None:
        """Swap in a rebuilt gallery (after an enrolment or a deletion); open tracks are matched against it."""
        self.gallery = gallery

    def process(self, frame_bgr: Image, ts: float) -> list[Passage]:
        """One frame; the frame is not referenced after this call returns, only small crops of open tracks."""
        faces = self.detector.detect(frame_bgr, self.camera.roi)
        self.stats.frames += 1
        self.stats.faces += len(faces)
        ended = self.tracker.update(self._frame_no, ts, frame_bgr, faces)
        self._frame_no += 1
        return self._conclude(ended)

    def flush(self) -> list[Passage]:
        """End every open track (the stream stopped)."""
        return self._conclude(self.tracker.flush())

    def _conclude(self, ended: list[FaceTrack]) -> list[Passage]:
        out: list[Passage] = []
        for track in ended:
            self.stats.tracks += 1
            passage = self._passage(track)
            track.drop_crops()
            if passage is None:
                self.stats.not_crossed += 1
                continue
            self.stats.passages += 1
            self.stats.unknown += passage.person == UNKNOWN
            out.append(passage)
        return out

    def embed_track(self, track: FaceTrack) -> F32:
        """Embeddings (K, D) of the track's kept crops, best first."""
        rows = [self.embedder.embed(c.crop, c.box[None, :]) for c in track.best]
        self.stats.embedded += len(rows)
        return np.concatenate(rows) if rows else np.zeros((0, self.gallery.dim), dtype=np.float32)

    def _passage(self, track: FaceTrack) -> Passage | None:
        direction = track_direction(self.camera, track)
        if direction is None:
            return None
        embeddings = self.embed_track(track)
        verdict: Verdict = vote(self.gallery.similarities(embeddings), self.gallery.people, self.vote_params)
        return Passage(
            camera=self.camera.id, gate=self.camera.gate, ts=track.last_ts, direction=direction,
            person=verdict.person, confidence=verdict.confidence, reason=verdict.reason, track=track.id,
            frames=verdict.frames, distance=round(verdict.distance, 4),
            margin=round(verdict.runner_up - verdict.distance, 4),
        )
