"""SQL for the face gallery: consent, sealed embeddings beside the resident id, deletion on request.

The store never sees a plain embedding: callers seal before writing and open after reading (vision.faces.crypto),
and the table refuses anything that is not a sealed blob. Enrolment photos are never stored (no setting keeps
them, nothing here writes ``face_photos``); deleting a resident's face data still clears that table with the row,
in one transaction, and logs only the id, the time and the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

DELETE_REASONS = ("request", "consent_withdrawn", "moved_out", "retention")


@dataclass(frozen=True)
class SealedFace:
    """One consenting resident's sealed embedding matrix, as stored."""

    resident_id: str
    model: str
    embedding: bytes
    samples: int
    consent_at: datetime


def enrol(conn: psycopg.Connection[Any], resident_id: str, *, model: str, sealed: bytes, samples: int,
          consent_at: datetime) -> None:
    """Store (or replace) a consenting resident's sealed embeddings; the resident must exist."""
    conn.execute(
        "INSERT INTO face_gallery (resident_id, consent, consent_at, model, embedding, samples)"
        " VALUES (%s, true, %s, %s, %s, %s)"
        " ON CONFLICT (resident_id) DO UPDATE SET consent = true, consent_at = excluded.consent_at,"
        " model = excluded.model, embedding = excluded.embedding, samples = excluded.samples,"
        " updated_at = clock_timestamp()",
        (resident_id, consent_at, model, sealed, samples),
    )


def record_refusal(conn: psycopg.Connection[Any], resident_id: str, at: datetime) -> None:
    """The resident declined face recognition: keep that answer and no face data (any existing data goes)."""
    with conn.transaction():
        conn.execute("DELETE FROM face_photos WHERE resident_id = %s", (resident_id,))
        conn.execute(
            "INSERT INTO face_gallery (resident_id, consent, consent_at) VALUES (%s, false, %s)"
            " ON CONFLICT (resident_id) DO UPDATE SET consent = false, consent_at = excluded.consent_at,"
            " model = NULL, embedding = NULL, samples = NULL, updated_at = clock_timestamp()",
            (resident_id, at),
        )


def consenting(conn: psycopg.Connection[Any], model: str, site: str | None = None) -> list[SealedFace]:
    """Every consenting resident's sealed embeddings for this model (and site): what the gallery is built from."""
    rows = conn.execute(
        "SELECT g.resident_id, g.model, g.embedding, g.samples, g.consent_at FROM face_gallery g"
        " JOIN residents r USING (resident_id)"
        " WHERE g.consent AND g.model = %s AND (%s::text IS NULL OR r.site = %s) ORDER BY g.resident_id",
        (model, site, site),
    ).fetchall()
    return [SealedFace(r["resident_id"], r["model"], bytes(r["embedding"]), r["samples"], r["consent_at"])
            for r in rows]


def gallery_version(conn: psycopg.Connection[Any]) -> tuple[int, datetime | None, int]:
    """A cheap fingerprint (rows, last change, deletions) the vision service polls to know when to rebuild."""
    row = conn.execute(
        "SELECT (SELECT count(*) FROM face_gallery) AS n, (SELECT max(updated_at) FROM face_gallery) AS at,"
        " (SELECT count(*) FROM face_deletions) AS d"
    ).fetchone()
    if row is None:
        raise RuntimeError("count query returned no row")
    return int(row["n"]), row["at"], int(row["d"])


def status(conn: psycopg.Connection[Any], resident_id: str) -> dict[str, Any] | None:
    """Consent and enrolment facts of one resident (never the embedding), for the admin API."""
    row = conn.execute(
        "SELECT resident_id, consent, consent_at, model, samples, updated_at,"
        " (SELECT count(*) FROM face_photos p WHERE p.resident_id = g.resident_id) AS photos"
        " FROM face_gallery g WHERE resident_id = %s",
        (resident_id,),
    ).fetchone()
    return dict(row) if row is not None else None


def delete(conn: psycopg.Connection[Any], resident_id: str, reason: str = "request") -> bool:
    """Remove a resident's face data (embeddings, photos, consent row); True when there was any."""
    if reason not in DELETE_REASONS:
        raise ValueError(f"reason must be one of {DELETE_REASONS}")
    with conn.transaction():
        conn.execute("DELETE FROM face_photos WHERE resident_id = %s", (resident_id,))
        gone = conn.execute("DELETE FROM face_gallery WHERE resident_id = %s RETURNING resident_id",
                            (resident_id,)).fetchone()
        if gone is not None:
            conn.execute("INSERT INTO face_deletions (resident_id, reason) VALUES (%s, %s)", (resident_id, reason))
    return gone is not None
