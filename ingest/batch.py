"""Turning validated messages into rows: pure, so batching rules are tested without a database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ingest.messages import (
    Accepted,
    AccessPayload,
    DoorPayload,
    MotionPayload,
    Rejected,
    TelemetryPayload,
    WaterPayload,
)
from ingest.topics import Kind
from store.dead_letters import DeadLetter
from store.devices import Sighting
from store.events import EventRow
from store.telemetry import TelemetryRow

_ENTITY_KIND = {Kind.TELEMETRY: "sensor", Kind.ACCESS: "gate", Kind.DOOR: "unit", Kind.MOTION: "unit",
                Kind.WATER: "unit", Kind.STATUS: "device"}


@dataclass
class Batch:
    """Rows of one transaction, built from messages in arrival order."""

    site: str
    telemetry: list[TelemetryRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    statuses: list[tuple[str, str, datetime]] = field(default_factory=list)  # device, online/offline, at
    dead_letters: list[DeadLetter] = field(default_factory=list)
    sightings: dict[str, Sighting] = field(default_factory=dict)
    messages: int = 0

    def add(self, topic: str, payload: bytes, result: Accepted | Rejected, received_at: datetime) -> None:
        self.messages += 1
        if isinstance(result, Rejected):
            self.dead_letters.append((received_at, topic, result.kind.value, result.reason, result.detail, payload))
            return
        route = result.route
        self._sight(route.entity, _ENTITY_KIND.get(route.kind, "device"), result.ts)
        body = result.payload
        if isinstance(body, TelemetryPayload):
            self.telemetry.extend(
                (result.ts, route.entity, name, value, body.seq) for name, value in body.metrics.items()
            )
        elif result.status is not None:
            self.statuses.append((route.entity, result.status, result.ts))
        elif isinstance(body, AccessPayload):
            data = {"person": body.person, "direction": body.direction, "method": body.method}
            self.events.append((result.ts, self.site, "access", route.entity, body.person, data, result.dedup_key))
        elif isinstance(body, DoorPayload):
            self._event(result, "door", {"state": body.state})
        elif isinstance(body, MotionPayload):
            self._event(result, "motion", {"sensor": body.sensor})
        elif isinstance(body, WaterPayload):
            self._event(result, "water", {"litres": body.litres})

    def _event(self, result: Accepted, kind: str, data: dict[str, object]) -> None:
        self.events.append((result.ts, self.site, kind, result.route.entity, None, data, result.dedup_key))

    def _sight(self, entity: str, kind: str, ts: datetime) -> None:
        seen = self.sightings.get(entity)
        if seen is None:
            self.sightings[entity] = Sighting(kind, ts, ts, 1)
            return
        seen.messages += 1
        seen.last_seen = max(seen.last_seen, ts)
        seen.first_seen = min(seen.first_seen, ts)
