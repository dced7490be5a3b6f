"""Enrolment from a few photos, and the gallery built from the store: the glue the admin API, CLI and service call.

Photos are decoded, checked (one clear face, large enough), embedded and forgotten: only the sealed embeddings go
to the database. Each bad photo gets an error that says which one and why, and nothing is stored for any of them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
import psycopg

from store import faces as face_store
from vision.faces.crypto import EmbeddingSealer, SealError
from vision.faces.entrance import Detects, Embeds
from vision.faces.gallery import UNKNOWN, Enrolment, Gallery

log = logging.getLogger(__name__)

F32 = npt.NDArray[np.float32]
MIN_FACE_PX = 80  # enrolment photos are close-ups: a smaller face makes a poor reference
MAX_PHOTOS = 10


class EnrolmentError(ValueError):
    """A photo (or the set) cannot be used; the message names the photo and says what to do."""


def embed_photos(photos: Sequence[bytes], detector: Detects, embedder: Embeds) -> F32:
    """One embedding per photo: each must show exactly one face of at least ``MIN_FACE_PX``."""
    if not 1 <= len(photos) <= MAX_PHOTOS:
        raise EnrolmentError(f"give 1 to {MAX_PHOTOS} photos (3 taken in different light work best)")
    rows = []
    for i, data in enumerate(photos, start=1):
        image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            raise EnrolmentError(f"photo {i}: not a JPEG or PNG image")
        frame = np.asarray(image, dtype=np.uint8)
        found = detector.detect(frame)
        if len(found) != 1:
            raise EnrolmentError(f"photo {i}: {len(found)} faces found; the photo must show the resident alone")
        box = found.boxes[0]
        side = float(min(box[2] - box[0], box[3] - box[1]))
        if side < MIN_FACE_PX:
            raise EnrolmentError(f"photo {i}: the face is {side:.0f} px wide; come closer (at least {MIN_FACE_PX})")
        rows.append(embedder.embed(frame, found.boxes)[0])
    return np.stack(rows).astype(np.float32)


def enrol_resident(conn: psycopg.Connection[Any], sealer: EmbeddingSealer, resident_id: str, embeddings: F32, *,
                   model: str, consent_at: datetime) -> None:
    """Seal and store a consenting resident's embeddings (the caller has checked the consent record)."""
    if resident_id == UNKNOWN:
        raise EnrolmentError(f"{UNKNOWN!r} is reserved and cannot be a resident id")
    sealed = sealer.seal(resident_id, model, embeddings)
    face_store.enrol(conn, resident_id, model=model, sealed=sealed, samples=int(embeddings.shape[0]),
                     consent_at=consent_at)


def load_gallery(conn: psycopg.Connection[Any], sealer: EmbeddingSealer, model: str,
                 site: str | None = None) -> Gallery:
    """The gallery of every consenting resident of ``site`` enrolled with ``model``, decrypted in memory only."""
    enrolments = []
    for row in face_store.consenting(conn, model, site):
        try:
            enrolments.append(Enrolment(row.resident_id, sealer.open(row.resident_id, row.model, row.embedding), True))
        except SealError:  # another key, tampering, a copied row: that resident is not matched, the others are
            log.warning("face data of resident %s does not open with this key; left out of the gallery",
                        row.resident_id)
    return Gallery(enrolments)


class GalleryCache:
    """Rebuilds the gallery only when the table changed (an enrolment or a deletion), checked every ``every_s``."""

    def __init__(self, sealer: EmbeddingSealer, model: str, site: str | None, every_s: float = 10.0) -> None:
        self.sealer, self.model, self.site, self.every_s = sealer, model, site, every_s
        self.gallery = Gallery([])
        self._version: tuple[int, datetime | None, int] | None = None
        self._checked = float("-inf")

    def get(self, conn: psycopg.Connection[Any], now: float) -> Gallery:
        """The current gallery; a deleted resident is gone from it at most ``every_s`` after the deletion."""
        if now - self._checked < self.every_s:
            return self.gallery
        self._checked = now
        version = face_store.gallery_version(conn)
        if version != self._version:
            self.gallery = load_gallery(conn, self.sealer, self.model, self.site)
            self._version = version
        return self.gallery
