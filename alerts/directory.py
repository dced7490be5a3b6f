"""An in-memory directory of a site's watched residents (by id and by unit), reloaded when the table changes.

The rules need a resident's settings for every event; reading them from the database per event would cost more
than the rules themselves. One cheap version query per batch (two index lookups) says whether to reload.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from typing import Any

import psycopg

from alerts.presence import PresenceEvent, Resident
from alerts.resident_store import load_residents


class ResidentDirectory:
    def __init__(self, site: str, max_age_s: float = 60.0) -> None:
        self.site = site
        self.max_age_s = max_age_s  # reload anyway after this long (a change committed out of order)
        self.by_id: dict[str, Resident] = {}
        self.by_unit: dict[str, list[Resident]] = {}
        self._version: tuple[Any, ...] | None = None
        self._loaded_at = 0.0

    def sync(self, conn: psycopg.Connection[Any], now: datetime) -> None:
        """Reload when residents or away periods changed since the last load."""
        row = conn.execute("SELECT (SELECT max(updated_at) FROM residents WHERE site = %s) AS r,"
                           " (SELECT max(id) FROM resident_away) AS a", (self.site,)).fetchone()
        version = (row["r"], row["a"]) if row else None
        if version == self._version and time.monotonic() - self._loaded_at < self.max_age_s:
            return
        people = load_residents(conn, site=self.site, away_since=now)
        by_unit: dict[str, list[Resident]] = defaultdict(list)
        for r in people:
            by_unit[r.unit].append(r)
        self.by_id = {r.resident_id: r for r in people}
        self.by_unit = dict(by_unit)
        self._version, self._loaded_at = version, time.monotonic()

    def targets(self, ev: PresenceEvent) -> list[Resident]:
        """The residents an event concerns: the person at the gate, or everyone living in the unit."""
        if ev.kind == "access":
            found = self.by_id.get(ev.resident or "")
            return [found] if found is not None else []
        return self.by_unit.get(ev.unit or "", [])
