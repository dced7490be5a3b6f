"""Enrolment from photos (real models) into a real PostgreSQL, and the gallery the service rebuilds from it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import cv2
import numpy as np
import pytest

from store import faces as face_store
from store.db import connect
from vision.faces.crypto import EmbeddingSealer
from vision.faces.detector import FaceDetector
from vision.faces.embedder import MODEL_NAME, FaceEmbedder
from vision.faces.enrolment import EnrolmentError, GalleryCache, embed_photos, enrol_resident

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _jpeg(path: Path, scale: float = 1.0) -> bytes:
    image = cv2.imread(str(path))
    assert image is not None, path
    if scale != 1.0:
        image = cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image)
    assert ok
    return buf.tobytes()


def test_photos_are_checked_one_by_one(detector: FaceDetector, embedder: FaceEmbedder, face_photos: Path) -> None:
    good = _jpeg(face_photos / "fr_obama.jpg")
    assert embed_photos([good, _jpeg(face_photos / "fr_obama2.jpg")], detector, embedder).shape == (2, 128)
    with pytest.raises(EnrolmentError, match="photo 2: not a JPEG"):
        embed_photos([good, b"not an image"], detector, embedder)
    with pytest.raises(EnrolmentError, match="photo 1: 3 faces"):
        embed_photos([_jpeg(face_photos / "group_sample1.jpg")], detector, embedder)
    with pytest.raises(EnrolmentError, match="come closer"):
        embed_photos([_jpeg(face_photos / "fr_obama.jpg", scale=0.2)], detector, embedder)
    with pytest.raises(EnrolmentError, match="give 1 to"):
        embed_photos([], detector, embedder)


def test_enrol_then_delete_reaches_the_running_gallery(db_url: str, sealer: EmbeddingSealer, detector: FaceDetector,
                                                       embedder: FaceEmbedder, face_photos: Path) -> None:
    emb = embed_photos([_jpeg(face_photos / "fr_obama.jpg"), _jpeg(face_photos / "fr_obama2.jpg")], detector,
                       embedder)
    probe = embed_photos([_jpeg(face_photos / "fr_obama3.jpg")], detector, embedder)
    with connect(db_url, autocommit=True) as conn:
        conn.execute("INSERT INTO residents (resident_id, site, unit, consent) VALUES ('R-A', 's1', '1-101', true)")
        cache = GalleryCache(sealer, MODEL_NAME, "s1", every_s=5.0)
        assert cache.get(conn, 0.0).match(probe)[0].person is None
        enrol_resident(conn, sealer, "R-A", emb, model=MODEL_NAME, consent_at=NOW)
        assert cache.get(conn, 1.0).match(probe)[0].person is None  # not re-checked before every_s
        assert cache.get(conn, 6.0).match(probe)[0].person == "R-A"
        face_store.delete(conn, "R-A", "request")
        gallery = cache.get(conn, 12.0)
        assert len(gallery) == 0
        assert gallery.match(probe)[0].person is None
        assert np.isfinite(emb).all()
