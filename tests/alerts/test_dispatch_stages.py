"""The 54321 stage rules of a work order on a fake clock: which stages, when due, what meets them, what breaches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts.dispatch import (
    DispatchError,
    StagePolicy,
    arrive,
    complexity_for,
    due_breaches,
    link_usable,
    meet,
    plan,
    solve,
)

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(("complexity", "second", "within"), [
    ("simple", "solve", timedelta(minutes=40)),
    ("general", "solve", timedelta(hours=3)),
    ("complex", "solve", timedelta(days=2)),
    ("hard", "plan", timedelta(days=1)),
])
def test_each_complexity_has_on_site_in_5_minutes_and_its_own_second_stage(complexity: str, second: str,
                                                                           within: timedelta) -> None:
    stages = StagePolicy().stages(complexity, T0)  # type: ignore[arg-type]
    assert [(s.name, s.due_at - T0) for s in stages] == [("on_site", timedelta(minutes=5)), (second, within)]
    assert all(s.state == "pending" for s in stages)


def test_a_stage_breaches_exactly_at_its_deadline_and_only_once() -> None:
    stages = StagePolicy().stages("simple", T0)
    assert due_breaches(stages, T0 + timedelta(minutes=4, seconds=59)) == []
    assert [s.name for s in due_breaches(stages, T0 + timedelta(minutes=5))] == ["on_site"]
    assert [s.name for s in due_breaches(stages, T0 + timedelta(minutes=41))] == ["on_site", "solve"]
    escalated = [s if s.name != "on_site" else type(s)(s.name, s.due_at, None, T0 + timedelta(minutes=5), "boss")
                 for s in stages]
    assert [s.name for s in due_breaches(escalated, T0 + timedelta(minutes=41))] == ["solve"]
    assert escalated[0].state == "breached"


def test_meeting_a_stage_stops_its_clock_and_a_late_one_reads_late() -> None:
    stages = meet(StagePolicy().stages("general", T0), ("on_site",), T0 + timedelta(minutes=3))
    assert stages[0].state == "met"
    assert due_breaches(stages, T0 + timedelta(hours=1)) == []
    again = meet(stages, ("on_site",), T0 + timedelta(minutes=9))
    assert again[0].met_at == T0 + timedelta(minutes=3)  # the first time counts
    late = meet([type(s)(s.name, s.due_at, None, s.due_at) for s in StagePolicy().stages("simple", T0)],
                ("on_site",), T0 + timedelta(minutes=7))
    assert late[0].state == "late"


def test_status_changes_follow_the_loop() -> None:
    assert arrive("assigned") == "on_site"
    with pytest.raises(DispatchError):
        arrive("on_site")
    assert solve("on_site") == ("solved", ("on_site", "solve", "plan"))
    assert solve("assigned")[0] == "solved"  # solved without tapping "on site": someone was there
    with pytest.raises(DispatchError):
        solve("solved")
    assert plan("on_site", "hard") == ("plan",)
    with pytest.raises(DispatchError):
        plan("on_site", "simple")


def test_default_complexity_comes_from_the_alert_class_and_links_expire() -> None:
    assert [complexity_for(c) for c in ("simple", "general", "complex", "weird")] == [
        "simple", "general", "complex", "general"]
    expires = T0 + StagePolicy().link_valid_for
    assert link_usable(expires, expires - timedelta(seconds=1))
    assert not link_usable(expires, expires)
