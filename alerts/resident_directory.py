"""An in-memory directory of a site's watched residents (by id and by unit), reloaded when the table changes.

The rules need a resident's settings for every event; reading them from the database per event would cost more
than the rules themselves. One cheap version query per batch (a few index lookups) says whether to reload. The
effective ``no_activity`` settings (the estate's defaults from the rules file, then the estate's row, then the
resident's overrides) are cached here too.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from datetime import datetime

from alerts.inactivity.settings import InactivitySettings, SettingsError
from alerts.presence import PresenceEvent, Resident
from alerts.resident_records import load_residents
from store.db import Conn
from store.residents import directory_version
from store.routines import load_settings

log = logging.getLogger(__name__)


class ResidentDirectory:
    """The consenting residents of one site, by id and by unit."""

    def __init__(self, site: str, max_age_s: float = 60.0, inactivity: InactivitySettings | None = None) -> None:
        self.site = site
        self.max_age_s = max_age_s  # reload anyway after this long (a change committed out of order)
        self.defaults = inactivity or InactivitySettings()  # the rules file's estate defaults
        self.by_id: dict[str, Resident] = {}
        self.by_unit: dict[str, list[Resident]] = {}
        self.estate = self.defaults  # defaults + the estate's stored settings
        self.settings: dict[str, InactivitySettings] = {}  # residents with overrides
        self._version: tuple[object, ...] | None = None
        self._loaded_at = 0.0

    def sync(self, conn: Conn, now: datetime) -> None:
        """Reload when residents or away periods changed since the last load."""
        version = directory_version(conn, self.site)
        if version == self._version and time.monotonic() - self._loaded_at < self.max_age_s:
            return
        people = load_residents(conn, site=self.site, away_since=now)
        by_unit: dict[str, list[Resident]] = defaultdict(list)
        for r in people:
            by_unit[r.unit].append(r)
        self.by_id = {r.resident_id: r for r in people}
        self.by_unit = dict(by_unit)
        self._load_settings(conn)
        self._version, self._loaded_at = version, time.monotonic()

    def _load_settings(self, conn: Conn) -> None:
        """Stored settings were checked when written; one that no longer parses (an older version) is logged
        and the level below it applies, so a bad row never stops the rules.
        """
        estate_raw, residents_raw = load_settings(conn, self.site)
        try:
            self.estate = self.defaults.merged(estate_raw)
        except SettingsError as exc:
            log.warning("inactivity settings of estate %s ignored: %s", self.site, exc)
            self.estate = self.defaults
        self.settings = {}
        for rid, raw in residents_raw.items():
            try:
                self.settings[rid] = self.estate.merged(raw)
            except SettingsError as exc:
                log.warning("inactivity settings of resident %s ignored: %s", rid, exc)

    def inactivity(self, resident_id: str) -> InactivitySettings:
        """A resident's effective ``no_activity`` settings."""
        return self.settings.get(resident_id, self.estate)

    def targets(self, ev: PresenceEvent) -> list[Resident]:
        """The residents an event concerns: the person at the gate, or everyone living in the unit."""
        if ev.kind == "access":
            found = self.by_id.get(ev.resident or "")
            return [found] if found is not None else []
        return self.by_unit.get(ev.unit or "", [])
