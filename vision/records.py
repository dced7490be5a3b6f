"""What a detected fall becomes outside the detector: a store row, an event line, and a notice for the alert sink.

Pure conversions, so what vision hands to the database and to the alerts role is tested without either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from store.db import Conn
from store.littering import LitteringRow, insert_littering, link_alert
from vision.detector import LitteringEvent
from vision.paths import evidence_urls


@dataclass(frozen=True)
class LitteringNotice:
    """What the alerts role needs to raise a littering alert; vision knows nothing of how alerts are made."""

    event_id: str
    site: str
    camera: str
    building: str | None
    floor: int | None
    window_column: int | None
    occurred_at: datetime
    details: dict[str, object]
    evidence: dict[str, str]


AlertSink = Callable[[Conn, LitteringNotice], str]
"""Raises the alert for a notice in the caller's transaction and returns its id; handed in by the wiring."""


@dataclass(frozen=True)
class StoredEvent:
    """A detected fall with the context the detector does not know: its id, site, wall-clock times, building."""

    event_id: str
    site: str
    occurred_at: datetime
    ended_at: datetime
    event: LitteringEvent
    building: str | None


def littering_row(stored: StoredEvent) -> LitteringRow:
    """The ``littering_events`` row of a stored event."""
    ev = stored.event
    return LitteringRow(
        event_id=stored.event_id, site=stored.site, camera_id=ev.camera, building=stored.building,
        occurred_at=stored.occurred_at, ended_at=stored.ended_at, frame_start=ev.frame_start,
        frame_end=ev.frame_end, floor=ev.floor, window_column=ev.window_column, origin_x=ev.origin[0],
        origin_y=ev.origin[1], score=ev.score, track=_track(ev),
    )


def event_data(stored: StoredEvent) -> dict[str, object]:
    """The ``data`` of the event's line in ``events``: what an integrator reading events sees."""
    ev = stored.event
    return {"event_id": stored.event_id, "floor": ev.floor, "window_column": ev.window_column,
            "origin": [round(ev.origin[0], 1), round(ev.origin[1], 1)], "score": ev.score,
            "building": stored.building, "evidence": evidence_urls(stored.event_id), "track": _track(ev)}


def notice(stored: StoredEvent) -> LitteringNotice:
    """The notice handed to the alert sink."""
    data = event_data(stored)
    keys = ("event_id", "origin", "track", "score", "floor", "window_column")
    return LitteringNotice(
        event_id=stored.event_id, site=stored.site, camera=stored.event.camera, building=stored.building,
        floor=stored.event.floor, window_column=stored.event.window_column, occurred_at=stored.occurred_at,
        details={k: data[k] for k in keys}, evidence=evidence_urls(stored.event_id),
    )


def store_event(conn: Conn, stored: StoredEvent, alert_sink: AlertSink | None) -> str | None:
    """Store the event and raise its alert through ``alert_sink``, in the caller's transaction.

    Returns:
        The alert's id, or None when no sink was handed in (a vision role without alerts).
    """
    insert_littering(conn, littering_row(stored), event_data(stored))
    if alert_sink is None:
        return None
    alert_id = alert_sink(conn, notice(stored))
    link_alert(conn, stored.event_id, alert_id)
    return alert_id


def _track(ev: LitteringEvent) -> list[list[float]]:
    return [[f, round(x, 1), round(y, 1)] for f, x, y in ev.track]
