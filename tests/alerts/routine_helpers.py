"""What the tests of the learnt routine share: an engine that has learnt a resident's ordinary days."""

from __future__ import annotations

from datetime import datetime, timedelta
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


def spread_days(n: int, unit: str, start: datetime, bed_h: tuple[float, ...], wake_h: tuple[float, ...],
                rooms: tuple[str, ...] = ("living-pir",), bed_sign: str | None = None) -> list[PresenceEvent]:
    """Days whose wake-ups and bedtimes follow ``wake_h`` / ``bed_h`` (hours after the day's midnight, one per
    weekday in turn): a sign every 6 min by day, every 14-32 min from 19:00, in ``rooms`` in turn; with
    ``bed_sign``, the evening ends 5 min early and that sensor fires at bedtime (going to bed leaves a trace).
    """
    events = []
    for d in range(n):
        day = start + timedelta(days=d)
        t = day + timedelta(hours=wake_h[d % len(wake_h)])
        bed = day + timedelta(hours=bed_h[d % len(bed_h)])
        last = bed if bed_sign is None else bed - timedelta(minutes=5, microseconds=1)
        i = 0
        while t <= last:
            events.append(PresenceEvent(t, "motion", unit=unit, sensor=rooms[i % len(rooms)]))
            evening = t.hour >= 19 or t.hour < 3
            t += timedelta(minutes=14 + 9 * ((t.minute // 7) % 3) if evening else 6)
            i += 1
        if bed_sign is not None:
            events.append(PresenceEvent(bed, "motion", unit=unit, sensor=bed_sign))
    return sorted(events, key=lambda e: e.ts)
