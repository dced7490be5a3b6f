"""One alert per situation, over PostgreSQL: a reminder updates the resident's open alert, going out closes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from alerts import actions, queries
from alerts.db_driver import Processor
from alerts.inactivity.settings import InactivitySettings
from alerts.payloads import AlertJson
from alerts.presence import PresenceEvent, Resident
from alerts.presence_rules import RuleConfig
from alerts.resident_records import upsert_residents
from store.db import Conn, connect

T0 = datetime(2026, 3, 2, 0, 30, tzinfo=UTC)  # 08:30 in the estate (UTC+8)
H = timedelta(hours=1)
SITE = "s1"
TZ = ZoneInfo("Asia/Shanghai")
GATE_USER = Resident("r1", "A-1201", building="A", floor=12, elderly=True, lives_alone=True)
DOOR_ONLY = Resident("r2", "A-1202", building="A", floor=12, elderly=True, lives_alone=True)
# the fixed elderly_not_out rule alone: quiet nights (no_sign_of_life, no_activity) are tested below
NOT_OUT_ONLY = RuleConfig(no_sign_enabled=False, inactivity=InactivitySettings(enabled=False))


def gate(at: datetime, direction: str, rid: str = "r1") -> PresenceEvent:
    return PresenceEvent(at, "access", resident=rid, direction=direction, gate="north", method="face")


def motion(at: datetime, unit: str = "A-1201") -> PresenceEvent:
    return PresenceEvent(at, "motion", unit=unit, sensor="kitchen-pir")


def _not_out(conn: Conn) -> list[AlertJson]:
    return queries.list_alerts(conn, site=SITE, type_="elderly_not_out")


def _stay_home(proc: Processor, conn: Conn, rid: str, unit: str, hours: int) -> None:
    """The resident comes home at T0 and moves about every hour for ``hours`` hours; the service ticks."""
    with conn.transaction():
        upsert_residents(conn, SITE, [GATE_USER, DOOR_ONLY], consent=True)
        first = gate(T0, "in", rid) if rid == "r1" else motion(T0, unit)
        proc.on_presence_event(conn, first, T0)
    for h in range(1, hours + 1):
        at = T0 + h * H
        with conn.transaction():
            proc.tick(conn, at)
            proc.on_presence_event(conn, motion(at, unit), at)


def test_reminders_update_the_one_open_alert_and_going_out_resolves_it(db_url: str) -> None:
    proc = Processor(SITE, NOT_OUT_ONLY, tz=TZ)
    with connect(db_url) as conn:
        _stay_home(proc, conn, "r1", "A-1201", 49)  # due at 24 h, reminders at 36 h and 48 h
        [alert] = _not_out(conn)
        assert (alert["status"], alert["count"], alert["dedup_key"]) == ("open", 3, "elderly_not_out:r1")
        assert alert["title"] == "Resident r1 (A-1201) has not gone out for 48 h"  # the last reminder's wording
        assert alert["details"]["reminder"] == 2
        assert alert["details"]["last_reminded_at"] == (T0 + 48 * H).isoformat()
        assert alert["details"]["explanation"].startswith("at home since Mon 08:30 (UTC+8), 48 h without going out;"
                                                        " gate north (face) in at 2 Mar 08:30 (UTC+8)")
        history = queries.history(conn, alert["id"])
        assert [(h["kind"], h["data"].get("reminder")) for h in history] == [
            ("created", None), ("repeated", 1), ("repeated", 2)]
        out_at = T0 + 49 * H + 20 * timedelta(minutes=1)  # 09:50 on Wednesday
        with conn.transaction():
            closed = proc.on_presence_event(conn, gate(out_at, "out"), out_at)
        assert closed == [alert["id"]]
        [done] = _not_out(conn)
        assert (done["status"], done["resolution"]) == ("resolved", "other")
        last = queries.history(conn, alert["id"])[-1]
        assert (last["kind"], last["actor"]) == ("resolved", "system")
        assert last["data"]["note"] == "seen going out at gate north 09:50 (UTC+8)"
        # back home, another long stretch: a new alert, the resolved one stays as it was
        back = out_at + H
        with conn.transaction():
            proc.on_presence_event(conn, gate(back, "in"), back)
        with conn.transaction():
            assert len(proc.tick(conn, back + 24 * H + timedelta(seconds=1))) == 1
        alerts = _not_out(conn)
        assert sorted(a["status"] for a in alerts) == ["open", "resolved"]


def test_a_door_only_home_closes_on_the_door_and_silence(db_url: str) -> None:
    proc = Processor(SITE, NOT_OUT_ONLY, tz=TZ)
    with connect(db_url) as conn:
        _stay_home(proc, conn, "r2", "A-1202", 25)
        [alert] = _not_out(conn)
        door = T0 + 25 * H + 5 * timedelta(minutes=1)
        with conn.transaction():
            proc.on_presence_event(conn, PresenceEvent(door, "door", unit="A-1202", state="open"), door)
        assert _not_out(conn)[0]["status"] == "open"  # a visitor, or going out: the silence decides
        with conn.transaction():
            assert proc.tick(conn, door + 11 * timedelta(minutes=1)) == [alert["id"]]
        note = queries.history(conn, alert["id"])[-1]["data"]["note"]
        assert note.startswith("went out at 09:35 (UTC+8): the flat door, then no activity in the flat")


def test_staff_closed_alert_gets_no_reminders_and_going_out_changes_nothing(db_url: str) -> None:
    proc = Processor(SITE, NOT_OUT_ONLY, tz=TZ)
    with connect(db_url) as conn:
        _stay_home(proc, conn, "r1", "A-1201", 25)
        [alert] = _not_out(conn)
        with conn.transaction():
            actions.resolve(conn, alert["id"], "true_positive", "li.wei", T0 + 25 * H, note="phoned, she is fine")
        with conn.transaction():
            assert proc.tick(conn, T0 + 37 * H) == []  # the reminder of a closed alert is not raised
            out = T0 + 38 * H
            assert proc.on_presence_event(conn, gate(out, "out"), out) == []
        [done] = _not_out(conn)
        assert (done["resolution"], done["count"]) == ("true_positive", 1)
        assert queries.history(conn, alert["id"])[-1]["actor"] == "li.wei"


def test_no_sign_of_life_closes_on_the_next_sign_of_life(db_url: str) -> None:
    rules = RuleConfig(inactivity=InactivitySettings(enabled=False))
    proc = Processor(SITE, rules, tz=TZ)
    with connect(db_url) as conn:
        with conn.transaction():
            upsert_residents(conn, SITE, [GATE_USER], consent=True)
            proc.on_presence_event(conn, gate(T0, "in"), T0)
        with conn.transaction():
            [raised] = proc.tick(conn, T0 + 12 * H + timedelta(seconds=1))
        [alert] = queries.list_alerts(conn, site=SITE, type_="no_sign_of_life")
        assert alert["id"] == raised
        assert alert["title"] == "No sign of life from A-1201 for 12 h"
        assert alert["details"]["explanation"].startswith("no sign of life in the flat since 08:30 (UTC+8) (12 h)")
        seen = T0 + 13 * H
        with conn.transaction():
            assert proc.on_presence_event(conn, motion(seen), seen) == [raised]
        last = queries.history(conn, raised)[-1]
        assert (last["kind"], last["actor"]) == ("resolved", "system")
        assert last["data"]["note"] == "sign of life: motion (kitchen-pir) at 21:30 (UTC+8)"
