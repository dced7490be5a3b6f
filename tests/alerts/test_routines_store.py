"""Learnt routines and inactivity settings in a real PostgreSQL (the fixture's database is migrated)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from alerts.inactivity.rule import InactivityState, new_state
from alerts.inactivity.settings import InactivitySettings
from store.routines import (
    delete_routine,
    load_routines,
    load_settings,
    save_routines,
    set_estate_settings,
    set_resident_settings,
)

TZ = ZoneInfo("Asia/Shanghai")


def _residents(conn: psycopg.Connection[Any], site: str, ids: list[str]) -> None:
    for rid in ids:
        conn.execute("INSERT INTO residents (resident_id, site, unit, elderly, lives_alone, consent)"
                     " VALUES (%s, %s, %s, true, true, true)", (rid, site, f"A-{rid}"))


def _learnt(days: int) -> InactivityState:
    state = new_state(InactivitySettings())
    t = datetime(2026, 1, 5, 7, tzinfo=TZ)
    for _ in range(days * 40):
        state.model.seen(t)
        nxt = t + timedelta(minutes=25)
        state.model.learn(t, nxt, TZ)
        t = nxt
    state.silence_since = t
    return state


def test_routines_survive_a_reconnect_and_are_replaced_in_batches(db_url: str, site: str) -> None:
    with psycopg.connect(db_url) as conn:
        _residents(conn, site, ["r1", "r2"])
        states = {"r1": _learnt(5), "r2": _learnt(2)}
        assert save_routines(conn, [(rid, *s.to_record()) for rid, s in states.items()]) == 2
    with psycopg.connect(db_url) as conn:  # a restart: a new connection finds what was learnt
        loaded = load_routines(conn, ["r1", "r2", "nobody"])
        assert set(loaded) == {"r1", "r2"}
        back = InactivityState.from_record(*loaded["r1"])
        assert (back.model.hist == states["r1"].model.hist).all()
        assert back.silence_since == states["r1"].silence_since
        newer = _learnt(9)
        save_routines(conn, [("r1", *newer.to_record())])
        again = InactivityState.from_record(*load_routines(conn, ["r1"])["r1"])
        assert again.model.history_days(again.silence_since or datetime.now(TZ)) == pytest.approx(
            newer.model.history_days(newer.silence_since or datetime.now(TZ)))
        assert delete_routine(conn, "r2") is True
        assert delete_routine(conn, "r2") is False
        assert set(load_routines(conn, ["r1", "r2"])) == {"r1"}


def test_bad_rows_are_refused_and_nothing_is_written(db_url: str, site: str) -> None:
    with psycopg.connect(db_url) as conn:
        _residents(conn, site, ["r1"])
        with pytest.raises(TypeError, match="model must be bytes"):
            save_routines(conn, [("r1", "not bytes", {})])  # type: ignore[list-item]
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            save_routines(conn, [("unknown-resident", _learnt(1).to_record()[0], {})])
    with psycopg.connect(db_url) as conn:
        assert load_routines(conn, ["r1", "unknown-resident"]) == {}


def test_estate_and_resident_settings_merge_over_the_defaults(db_url: str, site: str) -> None:
    with psycopg.connect(db_url) as conn:
        _residents(conn, site, ["r1", "r2"])
        set_estate_settings(conn, site, {"sensitivity": 0.2, "quiet_start_hour": 23, "quiet_end_hour": 6})
        set_estate_settings(conn, site, {"sensitivity": 0.25})  # replaces, not merges
        set_resident_settings(conn, site, "r1", {"learning_window_days": 45})
        estate, per_resident = load_settings(conn, site)
        assert estate == {"sensitivity": 0.25}
        assert per_resident == {"r1": {"learning_window_days": 45}}
        effective = InactivitySettings().merged(estate, per_resident.get("r1"))
        assert effective.sensitivity == 0.25
        assert effective.learning_window_days == 45
        set_resident_settings(conn, site, "r1", None)
        assert load_settings(conn, site)[1] == {}
        conn.execute("DELETE FROM residents WHERE resident_id = 'r2'")
        save_routines(conn, [("r1", *_learnt(1).to_record())])
        conn.execute("DELETE FROM residents WHERE resident_id = 'r1'")  # consent withdrawn: the routine goes too
        assert load_routines(conn, ["r1"]) == {}
