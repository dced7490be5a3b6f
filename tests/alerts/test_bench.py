"""The benchmark's synthetic estate is scored, not just timed: every expected alert is raised, no more."""

from __future__ import annotations

from estatewatch.bench.alerts import run_bench


def test_bench_raises_exactly_the_expected_alerts_and_evaluates_only_what_is_due() -> None:
    result = run_bench(residents=2000, hours=30, seed=3, baseline_minutes=2)
    assert result["expected_alerts"] > 0
    assert result["alerts_raised"] == result["expected_alerts"]
    # one evaluation per resident an event touches, plus one per due time: not the population per tick
    assert result["rule_evaluations"] <= result["events"] + 3 * result["expected_alerts"]
    assert result["baseline"]["scan_evaluations"] >= 2 * 2000
