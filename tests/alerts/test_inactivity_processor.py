"""The service's driver keeps each routine in PostgreSQL: a new process finds what the last one learnt, raises
``no_activity`` from the due-time index at the learnt threshold, and evaluates only the residents that are due.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from alerts import queries
from alerts.db_driver import Processor
from alerts.presence import PresenceEvent, Resident
from alerts.resident_records import load_routines, upsert_residents
from store.db import connect

T0 = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)  # a Monday
SITE = "s1"


def _day(unit: str, day: int) -> list[PresenceEvent]:
    """Up at 07:00, a sign every 20 min until 22:00, a quiet night."""
    start = T0 + timedelta(days=day, hours=7)
    return [PresenceEvent(start + timedelta(minutes=20 * i), "motion", unit=unit, sensor="pir") for i in range(46)]


def test_a_restart_keeps_the_routine_and_the_tick_raises_at_the_learnt_threshold(db_url: str) -> None:
    # never going out is not this test's subject: elderly_not_out waits far beyond the run
    people = [Resident(f"r{i}", f"A-{i:04d}", elderly=True, lives_alone=True, not_out_hours=10_000)
              for i in range(30)]
    with connect(db_url) as conn, conn.transaction():
        upsert_residents(conn, SITE, people, consent=True)
    first = Processor(SITE, tz=UTC)
    with connect(db_url) as conn:
        for day in range(16):
            events = sorted((ev for r in people for ev in _day(r.unit, day)), key=lambda e: e.ts)
            for hour in range(7, 23):  # hourly batches, each on its own clock
                batch = [ev for ev in events if ev.ts.hour == hour]
                with conn.transaction():
                    assert first.on_presence_events(conn, batch, batch[-1].ts) == []
            with conn.transaction():  # the nights pass without alarm (cold start: 12 h for a night silence)
                assert first.tick(conn, T0 + timedelta(days=day + 1, hours=6, minutes=59)) == []
        stored = load_routines(conn, [r.resident_id for r in people])
    assert all(s.model.history_days(T0 + timedelta(days=16)) > 15 for s in stored.values())

    # a new process; r0 stops at 10:00 on day 16, everyone else carries on
    second = Processor(SITE, tz=UTC)
    day16 = [ev for r in people for ev in _day(r.unit, 16)
             if not (r.resident_id == "r0" and ev.ts > T0 + timedelta(days=16, hours=10))]
    day16.sort(key=lambda e: e.ts)
    raised: list[str] = []
    with connect(db_url) as conn:
        for hour in range(7, 22):
            until = T0 + timedelta(days=16, hours=hour + 1)
            batch = [ev for ev in day16 if until - timedelta(hours=1) <= ev.ts < until]
            with conn.transaction():
                if batch:
                    raised += second.on_presence_events(conn, batch, batch[-1].ts)
            for minute in range(0, 60, 5):
                with conn.transaction():
                    raised += second.tick(conn, until - timedelta(hours=1) + timedelta(minutes=minute))
        alerts = queries.list_alerts(conn, site=SITE)
        due = conn.execute("SELECT next_due_at FROM resident_state WHERE resident_id = 'r0'").fetchone()
    assert [a["type"] for a in alerts] == ["no_activity"]
    assert alerts[0]["subject"]["resident"] == "r0"
    occurred = datetime.fromisoformat(alerts[0]["first_occurred_at"])
    last = T0 + timedelta(days=16, hours=10)
    assert timedelta(hours=2) <= occurred - last <= timedelta(hours=2, minutes=10), "the 2 h floor, learnt cold"
    assert alerts[0]["details"]["cold_start"] is False
    assert "(the longest quiet spell in 30 days: 20 min)" in alerts[0]["details"]["explanation"]
    assert len(raised) == 1
    assert due is not None
    assert due["next_due_at"] == last + timedelta(hours=12), "r0's next due time: the fixed no_sign_of_life"
