"""Face gallery admin: enrol a consenting resident from a few photos, record a refusal, delete, show status.

Admin only. Photos are embedded in memory and dropped; only sealed embeddings reach the database. Nothing here ever
returns an embedding. Without the optional ``faces`` extra or the ``EW_FACE_KEY`` setting the endpoints answer 503
with what to install or set, and the rest of the API is unaffected.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile, status
from pydantic import BaseModel

from api.deps import Admin, PoolDep, SettingsDep
from common.settings import Settings
from store import faces as face_store
from store.db import Conn
from store.residents import load_residents
from vision.faces import FacesUnavailableError
from vision.faces.crypto import KEY_SETTING, EmbeddingSealer
from vision.faces.detector import FaceDetector
from vision.faces.embedder import FaceEmbedder
from vision.faces.enrolment import MAX_PHOTOS, EnrolmentError, embed_photos, enrol_resident

router = APIRouter(prefix="/api/v1/residents", tags=["faces"])
MAX_PHOTO_BYTES = 8 * 1024 * 1024


class FaceStatus(BaseModel):
    """Consent and enrolment facts of one resident; never any face data."""

    resident_id: str
    consent: bool | None
    consent_at: datetime | None = None
    model: str | None = None
    samples: int | None = None
    photos: int = 0
    updated_at: datetime | None = None


def _models(request: Request) -> tuple[FaceDetector, FaceEmbedder]:
    """The detector and embedder, loaded on first use and kept on the app."""
    cached: tuple[FaceDetector, FaceEmbedder] | None = getattr(request.app.state, "face_models", None)
    if cached is None:
        try:
            cached = (FaceDetector("back"), FaceEmbedder())
        except FacesUnavailableError as exc:
            raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
        request.app.state.face_models = cached
    return cached


class FaceDeleted(BaseModel):
    """What a deletion did: whether there was face data, and the reason logged with it."""

    resident_id: str
    deleted: bool
    reason: str


def _sealer(settings: Settings) -> EmbeddingSealer:
    key = settings.face_key.get_secret_value() if settings.face_key is not None else os.environ.get(KEY_SETTING)
    if not key:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{KEY_SETTING} is not set on this server")
    try:
        return EmbeddingSealer(key)
    except FacesUnavailableError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    except ValueError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc


def _status(row: dict[str, Any] | None, resident_id: str) -> FaceStatus:
    if row is None:
        return FaceStatus(resident_id=resident_id, consent=None)
    return FaceStatus.model_validate(row)


def _require_resident(conn: Conn, site: str, resident_id: str) -> None:
    if not load_residents(conn, ids=[resident_id], site=site, consenting_only=False):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such resident")


@router.post("/{resident_id}/face", status_code=status.HTTP_201_CREATED)
async def enrol(resident_id: str, request: Request, pool: PoolDep, settings: SettingsDep, _: Admin,
                photos: Annotated[list[UploadFile], File(description=f"1-{MAX_PHOTOS} photos of the resident alone")],
                consent_at: Annotated[datetime, Form(description="when the separate consent was signed")],
                separate_consent: Annotated[bool, Form(description="the resident signed a separate consent")],
                ) -> FaceStatus:
    """Enrol a consenting resident (replaces an earlier enrolment); the photos are not kept."""
    if not separate_consent:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            "face enrolment needs the resident's separate consent (PIPL art. 29)")
    sealer = _sealer(settings)
    detector, embedder = _models(request)
    data = []
    for i, upload in enumerate(photos, start=1):
        raw = await upload.read(MAX_PHOTO_BYTES + 1)
        if len(raw) > MAX_PHOTO_BYTES:
            raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"photo {i} is over 8 MiB")
        data.append(raw)
    try:
        embeddings = embed_photos(data, detector, embedder)
    except EnrolmentError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    finally:
        data.clear()
    when = consent_at if consent_at.tzinfo is not None else consent_at.replace(tzinfo=UTC)
    with pool.connection() as conn, conn.transaction():
        _require_resident(conn, settings.site, resident_id)
        enrol_resident(conn, sealer, resident_id, embeddings, model=embedder.model_name, consent_at=when)
        return _status(face_store.status(conn, resident_id), resident_id)


@router.post("/{resident_id}/face/refusal")
def refuse(resident_id: str, pool: PoolDep, settings: SettingsDep, _: Admin) -> FaceStatus:
    """Record that the resident declined face recognition; any face data of theirs goes."""
    with pool.connection() as conn, conn.transaction():
        _require_resident(conn, settings.site, resident_id)
        face_store.record_refusal(conn, resident_id, datetime.now(UTC))
        return _status(face_store.status(conn, resident_id), resident_id)


@router.delete("/{resident_id}/face")
def delete(resident_id: str, pool: PoolDep, _: Admin,
           reason: Literal["request", "consent_withdrawn", "moved_out", "retention"] = "request") -> FaceDeleted:
    """Delete the resident's face data (embeddings, kept photos, consent row); logged without face data."""
    with pool.connection() as conn:
        gone = face_store.delete(conn, resident_id, reason)
    return FaceDeleted(resident_id=resident_id, deleted=gone, reason=reason)


@router.get("/{resident_id}/face")
def face_status(resident_id: str, pool: PoolDep, _: Admin) -> FaceStatus:
    """Consent and enrolment facts (never the embeddings)."""
    with pool.connection() as conn:
        return _status(face_store.status(conn, resident_id), resident_id)
