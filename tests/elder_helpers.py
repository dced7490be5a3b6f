"""What the console tests of elderly alerts share: a resident stored with consent who came home by face 25 h ago and
has moved about since, never out, so the service's own rules driver raises their ``elderly_not_out`` alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from alerts.db_driver import Processor
from alerts.inactivity.settings import InactivitySettings
from alerts.presence import PresenceEvent, Resident
from alerts.presence_rules import RuleConfig
from alerts.resident_records import to_record
from store.db import Conn
from store.residents import put_resident

NOT_OUT_ONLY = RuleConfig(no_sign_enabled=False, inactivity=InactivitySettings(enabled=False))
"""Only the not-out rule: no quiet-home or inactivity alert competes with the one these tests look at."""


def home_for_a_day(conn: Conn, proc: Processor, resident: Resident, now: datetime,
                   contacts: list[dict[str, str]]) -> str:
    """Store ``resident`` (with consent and ``contacts``), feed a day at home to ``proc`` and return the id of the
    alert its tick at ``now`` raises. Commits what it writes.
    """
    home = now - timedelta(hours=25)
    with conn.transaction():
        put_resident(conn, proc.site, to_record(resident), contacts=contacts, consent=True)
        proc.on_presence_event(conn, PresenceEvent(home, "access", resident=resident.resident_id, direction="in",
                                                   gate="north", method="face"), home)
        for h in range(1, 25, 3):
            at = home + timedelta(hours=h)
            proc.on_presence_event(conn, PresenceEvent(at, "motion", unit=resident.unit, sensor="kitchen-pir"), at)
    with conn.transaction():
        [alert_id] = proc.tick(conn, now)
    return alert_id
