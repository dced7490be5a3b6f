"""The face admin API on the real app and database: consent required, photos checked, no face data returned."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from common.settings import Settings
from store.db import connect
from tests.helpers import ADMIN_TOKEN
from vision.faces.crypto import KEY_SETTING, new_key
from vision.faces.detector import FaceDetector
from vision.faces.embedder import FaceEmbedder

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def client(settings: Settings, monkeypatch: pytest.MonkeyPatch, detector: FaceDetector,
           embedder: FaceEmbedder) -> Iterator[TestClient]:
    monkeypatch.setenv(KEY_SETTING, new_key())
    app = create_app(settings)
    app.state.face_models = (detector, embedder)  # loaded once for the session instead of per test
    with connect(settings.require_database_url(), autocommit=True) as conn:
        conn.execute("INSERT INTO residents (resident_id, site, unit, consent) VALUES ('R-A', %s, '1-101', true)",
                     (settings.site,))
    with TestClient(app, base_url="http://console.test") as c:
        yield c


def _files(folder: Path, *names: str) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("photos", (n, (folder / n).read_bytes(), "image/jpeg")) for n in names]


def test_enrol_status_delete(client: TestClient, face_photos: Path, settings: Settings) -> None:
    form = {"consent_at": "2026-03-01T10:00:00+08:00", "separate_consent": "true"}
    r = client.post("/api/v1/residents/R-A/face", headers=AUTH, data=form,
                    files=_files(face_photos, "fr_obama.jpg", "fr_obama2.jpg"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["consent"] is True
    assert body["samples"] == 2
    assert "embedding" not in r.text
    got = client.get("/api/v1/residents/R-A/face", headers=AUTH).json()
    assert got["samples"] == 2
    r = client.delete("/api/v1/residents/R-A/face", headers=AUTH)
    assert r.json() == {"resident_id": "R-A", "deleted": True, "reason": "request"}
    assert client.get("/api/v1/residents/R-A/face", headers=AUTH).json()["consent"] is None
    with connect(settings.require_database_url()) as conn:
        assert conn.execute("SELECT count(*) AS n FROM face_gallery").fetchone() == {"n": 0}


def test_consent_and_photos_are_checked(client: TestClient, face_photos: Path) -> None:
    form = {"consent_at": "2026-03-01T10:00:00+08:00", "separate_consent": "false"}
    r = client.post("/api/v1/residents/R-A/face", headers=AUTH, data=form, files=_files(face_photos, "fr_obama.jpg"))
    assert r.status_code == 422
    assert "separate consent" in r.text
    form["separate_consent"] = "true"
    r = client.post("/api/v1/residents/R-A/face", headers=AUTH, data=form,
                    files=_files(face_photos, "group_sample2.jpg"))
    assert r.status_code == 422
    assert "2 faces" in r.text
    r = client.post("/api/v1/residents/nobody/face", headers=AUTH, data=form,
                    files=_files(face_photos, "fr_obama.jpg"))
    assert r.status_code == 404
    assert client.post("/api/v1/residents/R-A/face", data=form,
                       files=_files(face_photos, "fr_obama.jpg")).status_code == 401
    r = client.post("/api/v1/residents/R-A/face/refusal", headers=AUTH)
    assert r.json()["consent"] is False
