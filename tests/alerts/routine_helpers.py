"""What the tests of the learnt routine share: an engine that has learnt a resident's ordinary days."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from alerts.inactivity.engine import InactivityEngine
from alerts.presence import PresenceEvent, Resident


def learnt_engine(events: list[PresenceEvent], resident: Resident, tz: ZoneInfo) -> InactivityEngine:
    """An engine watching ``resident`` fed ``events`` in order; an alert on any of them fails the test (the
    events are the ordinary routine the tests then depart from)."""
    eng = InactivityEngine([resident], tz)
    for ev in events:
        assert eng.on_event(ev) == [], f"no alert expected on the ordinary routine ({ev.ts})"
    return eng
