"""Where the vision role leaves files that the API serves: one place, so writer and reader cannot drift apart."""

from __future__ import annotations

from pathlib import Path


def latest_frame_path(data_dir: Path, camera: str) -> Path:
    """Where the newest JPEG of a camera is kept for the API (one file per camera, replaced atomically)."""
    return data_dir / "cameras" / f"{camera}.jpg"


def evidence_urls(event_id: str) -> dict[str, str]:
    """API paths of an event's evidence (the files appear ~2 s after the event, when the clip is complete)."""
    return {"snapshot": f"/api/v1/evidence/{event_id}/snapshot.jpg", "clip": f"/api/v1/evidence/{event_id}/clip.mp4"}
