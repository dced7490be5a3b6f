"""Replay on simulated routines against their ground truth: one elderly_not_out per long at-home stretch, on time."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from alerts.replay import alert_id_for, read_events, replay
from alerts.resident_csv import parse_residents
from estatewatch.cli import app
from simulators.residents import SimConfig, simulate
from tests.helpers import ReplayFiles

TZ = ZoneInfo("Asia/Shanghai")
def irregular(residents: int, days: float, seed: int, door_only_share: float = 0.3) -> SimConfig:
    """Irregular days (outings at any hour, a quarter of days at home, streaks): many long stretches to score the
    rule on; the simulator's defaults are the calm demo estate.
    """
    return SimConfig(residents=residents, days=days, seed=seed, door_only_share=door_only_share, habits=False,
                     outing_prob=0.75, streak_prob=0.12, night_visit_prob=0.8)


def _local(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=TZ)


@pytest.mark.parametrize(("seed", "door_only_share"), [(1, 0.3), (2, 0.3), (3, 1.0), (4, 0.0), (5, 0.6)])
def test_every_long_stretch_raises_exactly_one_alert_on_time(seed: int, door_only_share: float) -> None:
    sim = simulate(irregular(20, 10, seed, door_only_share))
    lines = [json.dumps(e) for e in sim.events]
    fired, _ = replay(read_events(lines, TZ), sim.residents, until=sim.end.replace(tzinfo=TZ))
    expected = sim.truth.expected_not_out(sim.end)
    assert expected, "the routine must contain stretches of 24 h or more"
    if door_only_share == 1.0:
        assert {e["resident"] for e in expected} & set(sim.truth.door_only), "door-only homes are exercised"

    by_id: dict[str, list[object]] = defaultdict(list)
    first_by_stretch: dict[tuple[str, str], tuple[str, datetime]] = {}
    for f in fired:
        if f.type != "elderly_not_out":
            continue
        by_id[f.dedup_key].append(f)
        assert f.resident.resident_id in sim.truth.watched, "only elderly residents living alone are watched"
        if not f.reminder:
            key = (f.resident.resident_id, str(f.details["home_since"]))
            assert key not in first_by_stretch, "one alert per stretch"
            first_by_stretch[key] = (alert_id_for(f.dedup_key), f.at)

    raised = {(rid, datetime.fromisoformat(since).astimezone(TZ).replace(tzinfo=None)): at
              for (rid, since), (_, at) in first_by_stretch.items()}
    for stretch in expected:
        start = datetime.fromisoformat(stretch["start"])
        at = raised.pop((stretch["resident"], start), None)
        assert at is not None, f"missed {stretch}"
        delay = at - _local(stretch["due"])
        assert timedelta(0) <= delay <= timedelta(minutes=15), f"{stretch} raised {delay} late"
    assert not raised, f"alerts without a 24 h stretch in the truth: {raised}"


def test_hospital_stays_raise_nothing_while_away() -> None:
    sim = simulate(SimConfig(residents=20, days=10, seed=11, hospital_prob=1.0, streak_prob=0.0, outing_prob=1.0,
                              habits=False, night_visit_prob=0.8))
    lines = [json.dumps(e) for e in sim.events]
    fired, engine = replay(read_events(lines, TZ), sim.residents)
    assert sim.truth.hospital, "hospital stays were simulated"
    for stay in sim.truth.hospital:
        start, end = _local(stay["from"]), _local(stay["to"])
        assert not [f for f in fired if f.resident.resident_id == stay["resident"] and start <= f.at <= end]
    new_alerts = {(f.resident.resident_id, f.due_at) for f in fired if f.type == "elderly_not_out" and not f.reminder}
    assert new_alerts == {(e["resident"], _local(e["due"])) for e in sim.truth.expected_not_out(sim.end)}
    assert engine.events == len(sim.events)


def test_replay_cli_contract(tmp_path: Path) -> None:
    sim = simulate(irregular(12, 4, 3))
    paths = sim.write(tmp_path)
    result = CliRunner().invoke(app, ["replay", str(paths["events"]), "--residents", str(paths["residents"]),
                                      "--json", "--until", "2026-03-06T12:00:00"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    not_out = [r for r in rows if r["type"] == "elderly_not_out"]
    assert not_out
    for row in rows:
        assert {"type", "id", "resident", "unit", "raised_at"} <= row.keys()
    for row in not_out:
        assert "last_out_at" in row
        assert row["raised_at"] <= "2026-03-06T12:00:00+08:00"
    reminders = [r for r in not_out if r["reminder"]]
    assert all(any(o["id"] == r["id"] and not o["reminder"] for o in not_out) for r in reminders)
    assert len(not_out) - len(reminders) == len(sim.truth.expected_not_out(datetime(2026, 3, 6, 12)))


def test_replay_rejects_out_of_order_events(replay_files: ReplayFiles) -> None:
    events, residents = replay_files([{"ts": "2026-03-02T10:00:00", "kind": "motion", "unit": "A-1201", "sensor": "k"},
                                      {"ts": "2026-03-02T09:00:00", "kind": "motion", "unit": "A-1201", "sensor": "k"}],
                                     ["r1,A-1201,true,true,yes"])
    assert parse_residents(residents.read_text())[0].floor == 12
    result = CliRunner().invoke(app, ["replay", str(events), "--residents", str(residents), "--json"])
    assert result.exit_code == 2
    assert "time order" in result.output
