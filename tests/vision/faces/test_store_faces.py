"""The gallery table in a real PostgreSQL: consent, sealed-only column, no photo kept, deletion on request."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest

from store import faces
from store.db import connect
from vision.faces.crypto import EmbeddingSealer
from vision.faces.detector import FaceDetector
from vision.faces.embedder import MODEL_NAME, FaceEmbedder
from vision.faces.enrolment import embed_photos, enrol_resident
from vision.faces.gallery import Enrolment, Gallery

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _resident(conn: psycopg.Connection[Any], rid: str) -> None:
    conn.execute("INSERT INTO residents (resident_id, site, unit, consent) VALUES (%s, 'site1', %s, true)",
                 (rid, f"u-{rid}"))


def _emb(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 1, (2, 128)).astype(np.float32)


def test_enrol_load_delete(db_url: str, sealer: EmbeddingSealer) -> None:
    with connect(db_url, autocommit=True) as conn:
        for rid in ("R1", "R2", "R3"):
            _resident(conn, rid)
        faces.enrol(conn, "R1", model=MODEL_NAME, sealed=sealer.seal("R1", MODEL_NAME, _emb(1)), samples=2,
                    consent_at=NOW)
        faces.enrol(conn, "R2", model=MODEL_NAME, sealed=sealer.seal("R2", MODEL_NAME, _emb(2)), samples=2,
                    consent_at=NOW)
        faces.record_refusal(conn, "R3", NOW)
        rows = faces.consenting(conn, MODEL_NAME, site="site1")
        assert [r.resident_id for r in rows] == ["R1", "R2"]
        assert faces.consenting(conn, "another-model") == []
        gallery = Gallery([Enrolment(r.resident_id, sealer.open(r.resident_id, r.model, r.embedding), True)
                           for r in rows])
        assert gallery.match(_emb(1)[0])[0].person == "R1"

        assert faces.delete(conn, "R1", "request") is True
        assert faces.delete(conn, "R1", "request") is False
        assert [r.resident_id for r in faces.consenting(conn, MODEL_NAME)] == ["R2"]
        assert faces.status(conn, "R1") is None
        left = conn.execute("SELECT count(*) AS n FROM face_gallery WHERE resident_id = 'R1'").fetchone()
        assert left == {"n": 0}
        log = conn.execute("SELECT resident_id, reason FROM face_deletions").fetchall()
        assert log == [{"resident_id": "R1", "reason": "request"}]
        status = faces.status(conn, "R3")
        assert status is not None
        assert status["consent"] is False
        assert status["model"] is None


def test_embedding_column_holds_ciphertext_only(db_url: str, sealer: EmbeddingSealer) -> None:
    emb = _emb(3)
    with connect(db_url, autocommit=True) as conn:
        _resident(conn, "R1")
        faces.enrol(conn, "R1", model=MODEL_NAME, sealed=sealer.seal("R1", MODEL_NAME, emb), samples=2,
                    consent_at=NOW)
        row = conn.execute("SELECT embedding FROM face_gallery").fetchone()
        assert row is not None
        stored = bytes(row["embedding"])
        plain = emb.tobytes()
        assert all(plain[i : i + 8] not in stored for i in range(0, len(plain), 64))
        assert not np.allclose(np.frombuffer(stored[4 : 4 + 1024], "<f4", count=256).reshape(2, 128), emb)
        with pytest.raises(psycopg.errors.CheckViolation):
            faces.enrol(conn, "R1", model=MODEL_NAME, sealed=plain, samples=2, consent_at=NOW)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute("UPDATE face_gallery SET consent = false")  # no consent, no face data
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            faces.enrol(conn, "nobody", model=MODEL_NAME, sealed=sealer.seal("nobody", MODEL_NAME, emb),
                        samples=2, consent_at=NOW)


def test_enrolment_from_photos_keeps_no_photo(db_url: str, sealer: EmbeddingSealer, detector: FaceDetector,
                                              embedder: FaceEmbedder, face_photos: Path) -> None:
    photos = [(face_photos / name).read_bytes() for name in ("fr_obama.jpg", "fr_obama2.jpg")]
    with connect(db_url, autocommit=True) as conn:
        _resident(conn, "R1")
        # what the admin API and `estatewatch faces enrol` do with the uploaded photos
        enrol_resident(conn, sealer, "R1", embed_photos(photos, detector, embedder), model=MODEL_NAME,
                       consent_at=NOW)
        status = faces.status(conn, "R1")
        assert status is not None
        assert status["samples"] == 2
        assert status["photos"] == 0
        assert conn.execute("SELECT count(*) AS n FROM face_photos").fetchone() == {"n": 0}


def test_deleting_the_resident_deletes_face_data(db_url: str, sealer: EmbeddingSealer) -> None:
    with connect(db_url, autocommit=True) as conn:
        _resident(conn, "R1")
        faces.enrol(conn, "R1", model=MODEL_NAME, sealed=sealer.seal("R1", MODEL_NAME, _emb(4)), samples=2,
                    consent_at=NOW)
        conn.execute("DELETE FROM residents WHERE resident_id = 'R1'")
        assert conn.execute("SELECT count(*) AS n FROM face_gallery").fetchone() == {"n": 0}


def test_bad_reason_is_refused(db_url: str) -> None:
    with connect(db_url, autocommit=True) as conn, pytest.raises(ValueError, match="reason"):
        faces.delete(conn, "R1", "because")
