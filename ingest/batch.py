"""Turning validated messages into rows: pure, so batching rules are tested without a database.

This runs once per message on the writer thread, which shares the GIL with the MQTT network thread, so it is
written for speed: plain tuples and dicts, and datetimes built only for the rare rows that need them.
"""

from __future__ import annotations

from datetime import UTC, datetime

from common.messages import (
    Accepted,
    AccessPayload,
    DoorPayload,
    MotionPayload,
    Rejected,
    TelemetryPayload,
    WaterPayload,
)
from common.topics import Kind
from store.dead_letters import DeadLetter
from store.devices import Sighting
from store.events import EventRow
from store.telemetry import TelemetryRow

_ENTITY_KIND = {Kind.TELEMETRY: "sensor", Kind.ACCESS: "gate", Kind.DOOR: "unit", Kind.MOTION: "unit",
                Kind.WATER: "unit", Kind.STATUS: "device"}


class Batch:
    """Rows of one transaction, built from messages in arrival order, and the message counts for /metrics."""

    __slots__ = ("accepted", "dead_letters", "events", "messages", "rejected", "sightings", "site", "statuses",
                 "telemetry")

    def __init__(self, site: str) -> None:
        self.site = site
        self.telemetry: list[TelemetryRow] = []
        self.events: list[EventRow] = []
        self.statuses: list[tuple[str, str, datetime]] = []  # device, online/offline, at
        self.dead_letters: list[DeadLetter] = []
        self.sightings: dict[str, Sighting] = {}
        self.messages = 0
        self.accepted: dict[str, int] = {}  # kind -> messages
        self.rejected: dict[tuple[str, str], int] = {}  # (kind, reason) -> messages

    def add(self, topic: str, payload: bytes, result: Accepted | Rejected, received_at_s: float) -> None:
        """Add one message; ``received_at_s`` (epoch seconds) is kept only for a dead letter."""
        self.messages += 1
        if type(result) is Rejected:
            key = (result.kind.value, result.reason)
            self.rejected[key] = self.rejected.get(key, 0) + 1
            received = datetime.fromtimestamp(received_at_s, UTC)
            self.dead_letters.append((received, topic, result.kind.value, result.reason, result.detail, payload))
            return
        if type(result) is not Accepted:
            raise TypeError(f"expected Accepted or Rejected, got {type(result).__name__}")
        route = result.route
        kind = route.kind.value
        self.accepted[kind] = self.accepted.get(kind, 0) + 1
        ts = result.ts
        entity = route.entity
        seen = self.sightings.get(entity)
        if seen is None:
            self.sightings[entity] = Sighting(_ENTITY_KIND.get(route.kind, "device"), ts, ts, 1)
        else:
            seen.messages += 1
            if ts > seen.last_seen:
                seen.last_seen = ts
            elif ts < seen.first_seen:
                seen.first_seen = ts
        self._rows(result)

    def _rows(self, result: Accepted) -> None:
        """The telemetry, status or event rows of one accepted message."""
        body = result.payload
        ts = result.ts
        entity = result.route.entity
        if type(body) is TelemetryPayload:
            seq = body.seq
            append = self.telemetry.append
            for name, value in body.metrics.items():
                append((ts, entity, name, value, seq))
        elif result.status is not None:
            self.statuses.append((entity, result.status, ts))
        elif isinstance(body, AccessPayload):
            data: dict[str, object] = {"person": body.person, "direction": body.direction, "method": body.method}
            if body.confidence is not None:
                data["confidence"] = body.confidence
            if body.camera is not None:
                data["camera"] = body.camera
            self.events.append((ts, self.site, "access", entity, body.person, data, result.dedup_key))
        elif isinstance(body, DoorPayload):
            self._event(result, "door", {"state": body.state})
        elif isinstance(body, MotionPayload):
            self._event(result, "motion", {"sensor": body.sensor})
        elif isinstance(body, WaterPayload):
            self._event(result, "water", {"litres": body.litres})

    def _event(self, result: Accepted, kind: str, data: dict[str, object]) -> None:
        self.events.append((result.ts, self.site, kind, result.route.entity, None, data, result.dedup_key))
