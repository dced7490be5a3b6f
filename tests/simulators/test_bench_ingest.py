"""``bench ingest`` end to end on a small load: real broker, real PostgreSQL, real ``serve --role ingest`` processes."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from common.settings import Settings
from estatewatch.bench.ingest import BenchConfig, run_bench
from estatewatch.cli import app

KEYS = {"raw_receive_per_s", "stored_per_s_1proc", "stored_per_s_2proc", "ratio_1proc_vs_raw", "lost", "duplicated"}


def test_small_bench_stores_every_message_exactly_once(db_url: str, mqtt_url: str,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EW_BATCH_MAX_ROWS", "250")  # several commits even for this small load, so rates exist
    lines: list[str] = []
    result = run_bench(BenchConfig(messages=3000, devices=100, publishers=2, max_inflight=200, timeout_s=60, repeat=1),
                       say=lines.append, settings=Settings(database_url=db_url, mqtt_url=mqtt_url))
    assert set(result) >= KEYS
    assert result["lost"] == 0
    assert result["duplicated"] == 0
    assert result["raw_receive_per_s"] > 0
    assert result["stored_per_s_1proc"] > 0
    assert result["stored_per_s_2proc"] > 0
    assert result["ratio_1proc_vs_raw"] == round(result["stored_per_s_1proc"] / result["raw_receive_per_s"], 3)
    assert any("phase 2proc" in line for line in lines)


def test_cli_offers_the_bench_and_the_simulator_with_their_options() -> None:
    bench = CliRunner().invoke(app, ["bench", "ingest", "--help"])
    simulate = CliRunner().invoke(app, ["simulate", "sensors", "--help"])
    assert bench.exit_code == 0
    assert simulate.exit_code == 0
    for option in ("--json", "--messages", "--repeat", "--live"):
        assert option in bench.output
    for option in ("--devices", "--rate", "--duration", "--malformed-share", "--seed", "--dropouts"):
        assert option in simulate.output
