"""One batch, one transaction: telemetry, events, device state and dead letters commit together."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.batch import Batch
from store.db import Conn
from store.dead_letters import insert_dead_letters
from store.devices import apply_status, record_sightings
from store.events import copy_events
from store.telemetry import copy_telemetry


@dataclass(frozen=True)
class Written:
    """How many rows a batch added (redeliveries add none), for the ingest metrics."""

    telemetry_new: int
    events_new: int
    dead_letters: int


def write_batch(conn: Conn, batch: Batch) -> Written:
    """Write a batch in the caller's transaction; idempotent, so a retried or redelivered batch is harmless."""
    telemetry_new = copy_telemetry(conn, batch.telemetry)
    record_sightings(conn, batch.site, batch.sightings)
    status_events = []
    for device, state, at in batch.statuses:
        if apply_status(conn, batch.site, device, state, at):
            key = f"status:{device}:{state}:{at.isoformat()}"
            status_events.append((at, batch.site, "status", device, None, {"status": state}, key))
    events_new = copy_events(conn, [*batch.events, *status_events])
    insert_dead_letters(conn, batch.dead_letters)
    return Written(telemetry_new, events_new, len(batch.dead_letters))
