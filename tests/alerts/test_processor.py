"""The database driver of the rules on a fake clock: restart mid-stretch, sensor and device rules."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo

from alerts import queries
from alerts.db_driver import Processor
from alerts.inactivity.settings import InactivitySettings
from alerts.payloads import AlertJson, resident_status
from alerts.presence import PresenceEvent, Resident
from alerts.presence_rules import RuleConfig
from alerts.replay import read_events, replay
from alerts.resident_records import load_residents, load_states, upsert_residents
from common.clock import ManualClock
from simulators.residents import SimConfig, simulate
from store.db import Conn, connect
from store.residents import add_away

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
SITE = "s1"
PEOPLE = [Resident("r1", "A-1201", building="A", floor=12, elderly=True, lives_alone=True),
          Resident("r2", "B-0301", elderly=True, lives_alone=False),
          Resident("r3", "B-0301", elderly=False, lives_alone=False)]


def _alerts(conn: Conn, type_: str) -> list[AlertJson]:
    return [a for a in queries.list_alerts(conn, site=SITE) if a["type"] == type_]


def test_restart_in_the_middle_of_a_stretch_still_raises_on_time(db_url: str) -> None:
    clock = ManualClock(T0)
    with connect(db_url) as conn, conn.transaction():
        upsert_residents(conn, SITE, PEOPLE, consent=True)
    # quiet nights (no_sign_of_life, the learnt-routine no_activity) are not this test's subject
    rules = RuleConfig(no_sign_enabled=False, inactivity=InactivitySettings(enabled=False))
    first = Processor(SITE, rules)
    with connect(db_url) as conn:
        with conn.transaction():
            first.on_presence_event(conn, PresenceEvent(T0, "access", resident="r1", direction="in", gate="north",
                                                        method="face"), clock.now())
        for _ in range(10):  # hourly activity, never out
            at = clock.advance(H)
            with conn.transaction():
                first.on_presence_event(conn, PresenceEvent(at, "motion", unit="A-1201", sensor="pir"), at)
                assert first.tick(conn, at) == []
    # the process dies here; a new one knows only what the database holds
    second = Processor(SITE, rules)
    with connect(db_url) as conn:
        with conn.transaction():
            assert second.tick(conn, T0 + 23 * H) == []
        with conn.transaction():
            raised = second.tick(conn, T0 + 24 * H + timedelta(seconds=1))
        assert len(raised) == 1
        alert = _alerts(conn, "elderly_not_out")[0]
        assert alert["subject"] == {"resident": "r1", "unit": "A-1201", "building": "A", "floor": 12}
        assert alert["details"]["home_since"] == T0.isoformat()
        assert alert["sla"]["class"] == "general"
        with conn.transaction():  # the reminder 12 h later updates the same alert
            assert second.tick(conn, T0 + 36 * H + timedelta(seconds=1)) == raised
        assert _alerts(conn, "elderly_not_out")[0]["count"] == 2
        r1 = load_residents(conn, ids=["r1"])[0]
        status = resident_status(r1, load_states(conn, ["r1"], lock=False)["r1"], T0 + 37 * H)
        assert (status["presence"], status["hours_at_home"]) == ("home", 37.0)
        assert cast(dict[str, dict[str, str]], status["last_signals"])["motion"]["detail"] == "motion (pir)"


def test_away_period_pauses_and_family_members_are_not_watched(db_url: str) -> None:
    proc = Processor(SITE)
    with connect(db_url) as conn:
        with conn.transaction():
            upsert_residents(conn, SITE, PEOPLE, consent=True)
            add_away(conn, "r1", T0 + 2 * H, T0 + 30 * H, "hospital")
            for unit in ("A-1201", "B-0301"):
                proc.on_presence_event(conn, PresenceEvent(T0, "motion", unit=unit, sensor="pir"), T0)
        for hours in (12, 24, 29):
            with conn.transaction():
                assert proc.tick(conn, T0 + hours * H) == []
        with conn.transaction():
            assert len(proc.tick(conn, T0 + 54 * H + timedelta(seconds=1))) >= 1
        assert {a["subject"]["resident"] for a in _alerts(conn, "elderly_not_out")} == {"r1"}


def test_sensor_thresholds_ebike_and_offline_with_auto_resolve(db_url: str) -> None:
    proc = Processor(SITE)
    clock = ManualClock(T0)
    with connect(db_url) as conn:
        with conn.transaction():
            conn.execute("INSERT INTO devices (device_id, site, kind, interval_s, meta) VALUES"
                         " ('corridor-3-socket', %s, 'sensor', 60, '{\"building\": \"C\", \"floor\": 3}'),"
                         " ('smoke-7', %s, 'sensor', 3600, '{}')", (SITE, SITE))
            assert len(proc.on_telemetry(conn, "smoke-7", T0, {"smoke": 1.0}, T0)) == 1
            proc.on_telemetry(conn, "smoke-7", T0 + timedelta(seconds=30), {"smoke": 1.0}, T0)
        # still in alarm: the same episode, one raise (hysteresis)
        assert [(a["type"], a["count"], a["severity"]) for a in _alerts(conn, "smoke")] == [("smoke", 1, "critical")]
        for minute in range(26):  # a steady 250 W draw on a corridor socket
            at = T0 + timedelta(minutes=minute)
            with conn.transaction():
                proc.on_telemetry(conn, "corridor-3-socket", at, {"power_w": 250.0}, at)
        ebike = _alerts(conn, "ebike_charging")
        assert len(ebike) == 1
        assert ebike[0]["subject"] == {"device": "corridor-3-socket", "building": "C", "floor": 3}
        with conn.transaction():  # silent for 3 intervals: offline
            assert proc.tick(conn, clock.advance(timedelta(minutes=25) + timedelta(seconds=179))) == []
        with conn.transaction():
            assert len(proc.tick(conn, clock.advance(timedelta(seconds=2)))) == 1
        offline = _alerts(conn, "device_offline")
        assert [a["subject"]["device"] for a in offline] == ["corridor-3-socket"]
        with conn.transaction():  # back: the offline alert resolves by itself
            proc.on_telemetry(conn, "corridor-3-socket", clock.now(), {"power_w": 0.0}, clock.now())
        assert _alerts(conn, "device_offline")[0]["status"] == "resolved"
        with conn.transaction():  # a last will raises at once
            assert len(proc.on_status(conn, "gate-north", False, clock.now())) == 1
            assert proc.on_status(conn, "gate-north", False, clock.now()) == []


def test_database_driver_raises_the_same_alerts_as_replay(db_url: str) -> None:
    """One implementation, two drivers: the service's batches over PostgreSQL and replay's heap agree, on the alerts
    raised (one per stretch or quiet spell) and on those the residents' own signals closed.
    """
    sim = simulate(SimConfig(residents=6, days=3, seed=2, streak_prob=0.4, outing_prob=0.75, habits=False,
                             night_visit_prob=0.8))
    tz = ZoneInfo("Asia/Shanghai")
    events = list(read_events([json.dumps(e) for e in sim.events], tz))
    end = sim.end.replace(tzinfo=tz)
    fired, engine = replay(events, sim.residents, until=end)
    expected = Counter((f.type, f.resident.resident_id) for f in fired if not f.reminder)
    expected_closed = Counter((c.type, c.resident.resident_id) for c in engine.closed)
    assert any(t == "elderly_not_out" for t, _ in expected)
    assert expected_closed, "some residents went out (or showed a sign of life) while their alert was open"
    proc = Processor(SITE)
    with connect(db_url) as conn:
        with conn.transaction():
            upsert_residents(conn, SITE, sim.residents, consent=True)
        for i in range(0, len(events), 20):
            batch = events[i:i + 20]
            with conn.transaction():
                proc.tick(conn, batch[0].ts)
                proc.on_presence_events(conn, batch, batch[0].ts)
        with conn.transaction():
            proc.tick(conn, end)
        alerts = queries.list_alerts(conn, site=SITE, limit=500)
    assert Counter((a["type"], a["subject"]["resident"]) for a in alerts) == expected
    closed = Counter((a["type"], a["subject"]["resident"]) for a in alerts if a["status"] == "resolved")
    assert closed == expected_closed
    open_now = Counter((a["type"], a["subject"]["resident"]) for a in alerts if a["status"] != "resolved")
    assert max(open_now.values(), default=0) <= 1, "at most one open alert per resident and type"
