"""``estatewatch residents import`` and ``simulate residents`` against a real database and folder."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from alerts.resident_store import load_residents
from estatewatch.cli import app
from store.db import connect


def test_residents_import_loads_valid_csv_and_refuses_a_broken_one(db_url: str, tmp_path: Path) -> None:
    good = tmp_path / "residents.csv"
    good.write_text("resident_id,unit,elderly,lives_alone,not_out_hours\nr1,A-1201,yes,yes,36\nr2,B-0302,no,no,\n")
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
