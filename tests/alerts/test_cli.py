"""CLI contracts of the alerts area: `residents import`, `simulate residents`, `replay --json` (no_activity), `eval
inactivity --json` and `bench alerts --json` with and without the routine model."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from alerts.resident_records import load_residents
from estatewatch.cli import app
from store.db import connect
from tests.helpers import ReplayFiles


def test_residents_import_loads_valid_csv_and_refuses_a_broken_one(db_url: str, tmp_path: Path) -> None:
    good = tmp_path / "residents.csv"
    good.write_text("resident_id,unit,elderly,lives_alone,consent,not_out_hours\nr1,A-1201,yes,yes,yes,36\nr2,B-0302,no,no,yes,\n")
    env = {"EW_DATABASE_URL": db_url, "EW_SITE": "estate7"}
    result = CliRunner().invoke(app, ["residents", "import", str(good)], env=env)
    assert result.exit_code == 0, result.output
    with connect(db_url) as conn:
        people = {r.resident_id: r for r in load_residents(conn, site="estate7")}
    assert (people["r1"].not_out_hours, people["r1"].building, people["r1"].floor) == (36.0, "A", 12)
    assert people["r2"].elderly is False
    bad = tmp_path / "bad.csv"
    bad.write_text("resident_id,unit,elderly\nr3,A-1,yes\n")
    refused = CliRunner().invoke(app, ["residents", "import", str(bad)], env=env)
    assert refused.exit_code == 2
    assert "lives_alone" in refused.output


def test_simulate_residents_writes_events_residents_and_truth(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["simulate", "residents", "--out", str(tmp_path), "--residents", "8",
                                      "--days", "3", "--seed", "4"])
    assert result.exit_code == 0, result.output
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert set(truth) >= {"stretches", "expected_not_out", "watched", "door_only", "hospital"}
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    stamps = [json.loads(line)["ts"] for line in lines]
    assert stamps == sorted(stamps)
    assert (tmp_path / "residents.csv").read_text().startswith("resident_id,unit,elderly,lives_alone")


def test_replay_json_prints_no_activity_with_its_explanation(replay_files: ReplayFiles) -> None:
    events, residents = replay_files(
        [{"ts": "2026-03-02T08:00:00", "kind": "access", "resident": "r1", "direction": "in"},
         {"ts": "2026-03-02T09:42:00", "kind": "motion", "unit": "A-1201", "sensor": "kitchen"}],
        ["r1,A-1201,true,true,yes", "r2,B-0101,true,false,yes"])
    result = CliRunner().invoke(app, ["replay", str(events), "--residents", str(residents), "--json",
                                      "--until", "2026-03-02T19:00:00", "--tz", "Asia/Shanghai"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    inactive = [r for r in rows if r["type"] == "no_activity"]
    assert len(inactive) == 1, rows
    row = inactive[0]
    assert (row["resident"], row["severity"], row["reminder"]) == ("r1", "critical", False)
    assert row["silence_since"] == "2026-03-02T09:42:00+08:00"
    assert row["raised_at"] == row["due_at"] == "2026-03-02T17:42:00+08:00"  # cold start: 8 h for a day silence
    assert (row["cold_start"], row["threshold_minutes"], row["quiet_minutes"]) == (True, 480.0, 480.0)
    assert row["explanation"].startswith("no activity since 09:42 (8 h); still learning this resident's routine")
    assert {"counted_from", "probability_normal", "usual_minutes", "longest_minutes", "day_type", "hour",
            "dedup_key", "id"} <= row.keys()
    assert all(r["resident"] == "r1" for r in rows), "a resident not living alone is not watched"


def test_eval_inactivity_json_contract() -> None:
    result = CliRunner().invoke(app, ["eval", "inactivity", "--json", "--tune-seeds", "1", "--report-seeds", "11",
                                      "--residents", "2", "--days", "23", "--cuts-per-home", "3", "--no-public"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["targets"] == {"median_h": 3.0, "p90_h": 8.0, "missed": 0, "false_alarms_per_resident_day": 0.05}
    assert [(r["dataset"], r["role"]) for r in out["results"]] == [("simulator seed 1", "tuned on"),
                                                                   ("simulator seed 11", "report only")]
    for row in out["results"]:
        assert row["cuts"] == 2 * 3
        for rule in ("ours", "fixed_12h"):
            assert {"median_h", "mean_h", "p90_h", "missed", "false_alarms_per_resident_day"} <= row[rule].keys()
        assert row["ours"]["median_h"] < row["fixed_12h"]["median_h"]
    assert [c["role"] for c in out["simulated_collapses"]] == ["report only"]
    assert out["public_datasets_unavailable"] == []  # --no-public: none tried
    refused = CliRunner().invoke(app, ["eval", "inactivity", "--days", "10"])
    assert refused.exit_code == 2


def test_bench_alerts_json_keeps_its_keys_and_adds_the_routine_model() -> None:
    keys = {"residents", "simulated_hours", "events", "events_per_s", "rule_evaluations", "rule_evaluations_per_s",
            "elapsed_s", "alerts_raised", "expected_alerts", "generation_s", "baseline"}
    for flag, watched in (("--routines", True), ("--no-routines", False)):
        result = CliRunner().invoke(app, ["bench", "alerts", "--json", "--residents", "300", "--hours", "26",
                                          "--seed", "2", flag])
        assert result.exit_code == 0, result.output
        out = json.loads(result.stdout)
        assert keys <= out.keys()
        assert out["alerts_raised"] == out["expected_alerts"]
        routines = out["routines"]
        assert routines["enabled"] is watched
        assert (routines["watched_residents"] > 0) is watched
        assert (routines["cost_ratio"] is not None) is watched
        # due-time work follows what is due: about one evaluation per event, not the population per minute
        assert out["rule_evaluations"] <= out["events"] + 3 * out["expected_alerts"] + routines["no_activity_alerts"]


def test_eval_inactivity_refuses_a_bad_seed_list() -> None:
    """The seed options take what every evaluation command takes; a malformed part is a usage error naming it."""
    result = CliRunner().invoke(app, ["eval", "inactivity", "--tune-seeds", "1-x", "--no-public"])
    assert result.exit_code == 2
    words = " ".join(result.output.replace("\u2502", " ").split())  # the usage box may wrap the line anywhere
    assert "'1-x' is neither a seed nor a range" in words
