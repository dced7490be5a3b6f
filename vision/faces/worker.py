"""The entrance cameras of one vision worker: JPEG frames in, access-event messages out.

This is what the vision service calls for a frame from a camera of ``kind: entrance``: it decodes, runs that
camera's pipeline against the current gallery, and returns the messages to publish on
``estate/{site}/access/{gate}/event``. No broker or database here: the caller publishes and supplies the gallery.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import cv2
import numpy as np

from common import topics
from vision.faces.entrance import Detects, Embeds, EntranceCamera, EntrancePipeline, Passage
from vision.faces.gallery import Gallery


@dataclass(frozen=True)
class AccessMessage:
    """One access event to publish (QoS 1: a passage must not be lost) and the passage behind it."""

    topic: str
    payload: bytes
    passage: Passage


class EntranceWorker:
    """Per-camera pipelines sharing one detector, one embedder and the gallery of the moment."""

    def __init__(self, site: str, cameras: list[EntranceCamera], detector: Detects, embedder: Embeds,
                 gallery: Callable[[float], Gallery]) -> None:
        self.site = site
        self.gallery = gallery
        self.pipelines = {c.id: EntrancePipeline(c, detector, embedder, Gallery([])) for c in cameras}
        self.bad_frames = 0

    def handles(self, camera_id: str) -> bool:
        """True for an entrance camera this worker runs."""
        return camera_id in self.pipelines

    def on_frame(self, camera_id: str, jpeg: bytes, ts_ms: float) -> list[AccessMessage]:
        """One frame (capture time in epoch ms); undecodable frames are counted and dropped, never raised."""
        pipeline = self.pipelines[camera_id]
        image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            self.bad_frames += 1
            return []
        pipeline.set_gallery(self.gallery(ts_ms / 1000.0))
        passages = pipeline.process(np.asarray(image, dtype=np.uint8), ts_ms / 1000.0)
        del image  # the frame is not kept: only the open tracks' small crops live on, until embedded
        return [self.message(p) for p in passages]

    def flush_camera(self, camera_id: str) -> list[AccessMessage]:
        """End one camera's open tracks (it went quiet): the last person through is still reported."""
        return [self.message(p) for p in self.pipelines[camera_id].flush()]

    def flush(self) -> list[AccessMessage]:
        """End every open track (shutdown): their passages are still reported."""
        return [self.message(p) for pipe in self.pipelines.values() for p in pipe.flush()]

    def message(self, passage: Passage) -> AccessMessage:
        """The access event of a passage, in the protocol's JSON."""
        when = datetime.fromtimestamp(passage.ts, UTC).isoformat(timespec="milliseconds")
        body = json.dumps(passage.access_payload(when), separators=(",", ":")).encode()
        return AccessMessage(topics.access(self.site, passage.gate), body, passage)
