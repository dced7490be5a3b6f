"""no_activity end to end: simulated residents over MQTT into the alerts service (real broker and PostgreSQL) on a
manual clock. A collapse raises ``no_activity``; the other resident's ordinary day raises none; and the service
raises exactly what replay (the in-memory driver) raises on the same events.

Three weeks of the simulated routines are learnt first (by the replay engine), and their presence and routines are
handed to the database as a restart would find them; the live day is then published event by event, the clock
following the events and the due-time tick running every 5 simulated minutes between them.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from alerts import queries, resident_step
from alerts.memory_driver import RuleEngine
from alerts.presence import PresenceEvent, Resident
from alerts.resident_records import load_states, save_routines, save_states, upsert_residents
from alerts.service import AlertsService
from common.clock import ManualClock
from common.mqtt import BoundedPublisher
from common.settings import Settings
from common.topics import access as access_topic
from common.topics import unit as unit_topic
from estatewatch.bench.inactivity_eval import to_events
from simulators.routines import RoutineSimConfig, simulate_routines
from store.db import Conn, connect

TZ = ZoneInfo("Asia/Shanghai")
TICK = timedelta(minutes=5)


def _payload(site: str, ev: PresenceEvent) -> tuple[str, str]:
    stamp = ev.ts.isoformat()
    if ev.kind == "access":
        return access_topic(site, ev.gate or "north"), json.dumps(
            {"ts": stamp, "person": ev.resident, "direction": ev.direction, "method": ev.method or "card"})
    body: dict[str, object] = {"ts": stamp}
    if ev.kind == "door":
        body["state"] = ev.state
    elif ev.kind == "motion":
        body["sensor"] = ev.sensor or "pir"
    else:
        body["litres"] = ev.litres if ev.litres is not None else 1.0
    return unit_topic(site, ev.unit or "", ev.kind), json.dumps(body)


def _applied(conn: Conn, ev: PresenceEvent, ids: list[str]) -> bool:
    states = load_states(conn, ids, lock=False)
    return all(s.signals.get(ev.kind, {}).get("at") and
               datetime.fromisoformat(s.signals[ev.kind]["at"]) >= ev.ts for s in states.values())


def test_a_collapse_raises_no_activity_over_mqtt_and_a_normal_day_does_not(settings: Settings) -> None:
    site, db_url = settings.site, settings.require_database_url()
    sim = simulate_routines(RoutineSimConfig(residents=2, days=22.5, seed=4))
    people = [replace(r, away=tuple((a.replace(tzinfo=TZ), b.replace(tzinfo=TZ)) for a, b in r.away))
              for r in sim.residents]
    fallen, fine = people
    day = (sim.start + timedelta(days=21)).replace(tzinfo=TZ)
    live_from, live_to, collapse = day + timedelta(hours=6), day + timedelta(hours=22), day + timedelta(hours=10)
    assert any(a.replace(tzinfo=TZ) <= collapse < b.replace(tzinfo=TZ)
               for a, b in sim.truth.home_spans[fallen.resident_id]), "the collapse happens at home"

    def concerns(ev: PresenceEvent, r: Resident) -> bool:
        return ev.unit == r.unit or ev.resident == r.resident_id

    events = [ev for ev in to_events(sim.events, TZ)
              if ev.ts < live_to and not (ev.ts >= collapse and concerns(ev, fallen))]  # nothing after the fall
    history = [ev for ev in events if ev.ts < live_from]
    live = [ev for ev in events if ev.ts >= live_from]
    assert len(live) > 50
    assert any(concerns(ev, fine) and ev.ts > collapse for ev in live)

    # three weeks learnt by the replay engine; hand its presence and routines over as a restart would find them
    engine = RuleEngine(people, tz=TZ)
    for ev in history:
        engine.on_event(ev)
    engine.advance(live_from)
    assert all(engine.routines[r.resident_id].model.history_days(live_from) > 20 for r in people)
    with connect(db_url) as conn, conn.transaction():
        upsert_residents(conn, site, people, consent=True)
        ids = [r.resident_id for r in people]
        load_states(conn, ids, lock=True)
        save_states(conn, [(r.resident_id, engine.states[r.resident_id], resident_step.due(
            engine.states[r.resident_id], engine.routines[r.resident_id], r, live_from, engine.cfg,
            engine.cfg.inactivity, TZ)) for r in people])
        save_routines(conn, engine.routines)
    # the same engine goes on over the live day: what replay raises
    expected = []
    for fired in [*(engine.on_event(ev) for ev in live), engine.advance(live_to)]:
        expected += [f for f in fired if f.type == "no_activity"]

    clock = ManualClock(live_from)
    service = AlertsService(settings, clock=clock, tick_s=3600.0)  # ticks are driven below, on the manual clock
    service.processor.tz = service.ticker.tz = TZ
    publisher = BoundedPublisher(settings.mqtt).start()
    service.start()
    try:
        assert service.wait_connected()
        with connect(db_url) as conn:
            for item in [*live, None]:
                until = item.ts if item is not None else live_to
                while clock.now() + TICK < until:  # the due-time tick between events
                    clock.advance(TICK)
                    service.tick_once(conn)
                    conn.commit()
                if item is None:
                    break
                clock.set(item.ts)
                topic, body = _payload(site, item)
                publisher.publish(topic, body, qos=1)
                targets = [r.resident_id for r in people if concerns(item, r)]
                deadline = time.monotonic() + 10
                while not _applied(conn, item, targets):
                    conn.rollback()
                    assert time.monotonic() < deadline, f"event not applied: {item}"
                    time.sleep(0.005)
                conn.rollback()
            clock.set(live_to)
            service.tick_once(conn)
            conn.commit()
            raised = queries.list_alerts(conn, site=site, type_="no_activity")
    finally:
        service.stop()
        publisher.close()

    assert [f.resident.resident_id for f in expected] == [fallen.resident_id], "replay: the collapse, nothing else"
    assert [a["subject"]["resident"] for a in raised] == [fallen.resident_id], "service: the same"
    alert, want = raised[0], expected[0]
    last_sign = max(ev.ts for ev in events if concerns(ev, fallen))
    assert datetime.fromisoformat(alert["details"]["silence_since"]) == last_sign
    assert datetime.fromisoformat(str(want.details["silence_since"])) == last_sign
    occurred = datetime.fromisoformat(alert["first_occurred_at"])
    assert timedelta(0) <= occurred - want.at <= TICK, "raised at the first tick after the replay's due time"
    assert occurred - collapse <= timedelta(hours=3), "within hours of the fall, not at the 12 h or 24 h mark"
    assert alert["severity"] == "critical"
    assert alert["sla"]["class"] == "simple"
    assert datetime.fromisoformat(alert["sla"]["ack_due_at"]) - datetime.fromisoformat(alert["created_at"]) \
        == timedelta(minutes=5)
    assert alert["details"]["cold_start"] is False
    assert alert["details"]["explanation"].startswith("no activity since ")
    assert "this resident is usually active within" in alert["details"]["explanation"]
