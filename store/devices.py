"""The device registry: sightings from ingest, status from last wills, listing for the API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from psycopg import sql
from psycopg.rows import class_row

from store.db import Conn
from store.filters import Where


@dataclass
class Sighting:
    """What one batch saw of one device."""

    kind: str
    last_seen: datetime
    first_seen: datetime
    messages: int = 0


def record_sightings(conn: Conn, site: str, sightings: dict[str, Sighting]) -> None:
    """Create devices on first sight and move ``last_seen`` forward, in one statement per batch."""
    if not sightings:
        return
    ids = list(sightings)
    conn.execute(
        "INSERT INTO devices (device_id, site, kind, first_seen, last_seen, messages, status, status_changed) "
        "SELECT d, %s, k, f, l, n, 'online', f FROM unnest(%s::text[], %s::text[], %s::timestamptz[], "
        "%s::timestamptz[], %s::bigint[]) AS u(d, k, f, l, n) "
        "ON CONFLICT (device_id) DO UPDATE SET last_seen = GREATEST(devices.last_seen, EXCLUDED.last_seen), "
        "messages = devices.messages + EXCLUDED.messages, "
        "status = CASE WHEN devices.status = 'unknown' THEN 'online' ELSE devices.status END",
        (
            site, ids, [sightings[i].kind for i in ids], [sightings[i].first_seen for i in ids],
            [sightings[i].last_seen for i in ids], [sightings[i].messages for i in ids],
        ),
    )


def apply_status(conn: Conn, site: str, device_id: str, status: str, at: datetime) -> bool:
    """Set a device online/offline; True when that changed its state (the caller then records an event)."""
    conn.execute(
        "INSERT INTO devices (device_id, site, kind, status, status_changed) VALUES (%s, %s, 'device', 'unknown', %s) "
        "ON CONFLICT (device_id) DO NOTHING",
        (device_id, site, at),
    )
    row = conn.execute(
        "UPDATE devices SET status = %s, status_changed = %s WHERE device_id = %s AND status IS DISTINCT FROM %s "
        "RETURNING device_id",
        (status, at, device_id, status),
    ).fetchone()
    return row is not None


def register(conn: Conn, site: str, devices: Iterable[tuple[str, str, float | None]],
             units: Mapping[str, str] | None = None) -> None:
    """Provision devices (id, kind, expected interval in seconds).

    ``units`` maps a unit device's id to the flat it is installed in: its door, motion and water events carry the
    flat's id, not its own, so that is how registration recognises them (kept in ``meta.unit``).
    """
    placed = units or {}
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO devices (device_id, site, kind, registered, interval_s, meta) "
            "VALUES (%s, %s, %s, true, %s, jsonb_strip_nulls(jsonb_build_object('unit', %s::text))) "
            "ON CONFLICT (device_id) DO UPDATE SET registered = true, kind = EXCLUDED.kind, "
            "interval_s = EXCLUDED.interval_s, meta = devices.meta || EXCLUDED.meta",
            [(d, site, k, i, placed.get(d)) for d, k, i in devices],
        )


@dataclass(frozen=True)
class Registered:
    """What registration admits: provisioned device ids, and the flats that have a provisioned unit device."""

    ids: frozenset[str]
    units: frozenset[str]


def registered(conn: Conn) -> Registered:
    """The registry in one query; a flat counts when a unit device placed in it, or its own id, is provisioned."""
    rows = conn.execute("SELECT device_id, kind, meta->>'unit' AS unit FROM devices WHERE registered").fetchall()
    ids = frozenset(str(r["device_id"]) for r in rows)
    units = {str(r["unit"]) for r in rows if r["unit"] is not None}
    units.update(str(r["device_id"]) for r in rows if r["kind"] == "unit")
    return Registered(ids, frozenset(units))


@dataclass(frozen=True)
class DeviceRow:
    """A device as the registry knows it."""

    device_id: str
    site: str
    kind: str
    registered: bool
    interval_s: float | None
    first_seen: datetime | None
    last_seen: datetime | None
    status: str
    status_changed: datetime | None
    messages: int


def list_devices(conn: Conn, kind: str | None, status: str | None, limit: int) -> list[DeviceRow]:
    """Devices by id, optionally of one kind or status."""
    where = Where().add_if(kind, "kind = %s").add_if(status, "status = %s")
    query = sql.SQL(
        "SELECT device_id, site, kind, registered, interval_s, first_seen, last_seen, status, status_changed,"
        " messages FROM devices {} ORDER BY device_id LIMIT %s"
    ).format(where.clause())
    with conn.cursor(row_factory=class_row(DeviceRow)) as cur:
        return cur.execute(query, [*where.params, limit]).fetchall()
