"""Retention: what EstateWatch keeps and for how long, enforced by the role that already does the housekeeping.

Dead letters (ingest's and the webhooks'), delivered outbox rows and evidence files past their settings are removed;
a littering event keeps its record (time, floor, track) and loses only its files. The SQL is plain (no TimescaleDB
policy), so the same pass runs on plain PostgreSQL and on TimescaleDB.
"""

from __future__ import annotations

import logging
import shutil
from datetime import datetime, timedelta
from pathlib import Path

from common.settings import Settings
from common.topics import valid_id
from store.db import Conn
from store.maintenance import EvidenceFiles, expired_evidence, forget_evidence, purge_rows

log = logging.getLogger(__name__)


def _event_folder(root: Path, files: EvidenceFiles) -> Path | None:
    """The event's folder (``<camera>/<event>``) when every stored path lies in it and inside ``root``."""
    if not valid_id(files.camera_id) or not valid_id(files.event_id):
        return None
    folder = (root / files.camera_id / files.event_id).resolve()
    base = root.resolve()
    if not folder.is_relative_to(base):
        return None
    for rel in files.paths:
        if not (root / rel).resolve().is_relative_to(folder):
            return None
    return folder


def purge_evidence(conn: Conn, evidence_dir: Path, before: datetime) -> int:
    """Delete the evidence files of events older than ``before``; returns how many events lost their files."""
    done = 0
    while batch := expired_evidence(conn, before):
        cleared: list[str] = []
        for files in batch:
            folder = _event_folder(evidence_dir, files)
            if folder is None:
                log.warning("evidence of event %s names paths outside its folder; only the references go",
                            files.event_id)
            elif folder.exists():
                shutil.rmtree(folder)
            cleared.append(files.event_id)
        with conn.transaction():
            forget_evidence(conn, cleared)
        done += len(cleared)
    return done


def run_retention(conn: Conn, settings: Settings, now: datetime) -> dict[str, int]:
    """One retention pass with the settings' periods; counts by what was removed."""
    with conn.transaction():
        counts = purge_rows(conn, dead_letters_before=now - timedelta(days=settings.dead_letter_retention_days),
                            outbox_before=now - timedelta(days=settings.outbox_retention_days))
    counts["evidence_events"] = purge_evidence(
        conn, settings.evidence_dir, now - timedelta(days=settings.evidence_retention_days))
    return counts
