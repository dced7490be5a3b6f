"""Simulated routines: deterministic, well-formed, with truth that matches the events."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime, timedelta

import pytest

from simulators.routines import BEDTIME_RANGES, RANGES, RoutineSimConfig, RoutineSimulation, simulate_routines


def test_same_seed_same_estate_and_another_seed_differs() -> None:
    cfg = RoutineSimConfig(residents=4, days=10, seed=5)
    a, b = simulate_routines(cfg), simulate_routines(cfg)
    assert a.events == b.events
    assert a.truth.to_json() == b.truth.to_json()
    assert simulate_routines(RoutineSimConfig(residents=4, days=10, seed=6)).events != a.events


def test_events_are_ordered_well_formed_and_inside_the_window() -> None:
    sim = simulate_routines(RoutineSimConfig(residents=6, days=14, seed=2))
    stamps = [e["ts"] for e in sim.events]
    assert stamps == sorted(stamps)
    kinds = Counter(e["kind"] for e in sim.events)
    assert set(kinds) <= {"access", "door", "motion", "water"}
    assert kinds["motion"] > kinds["door"] > 0
    assert all(sim.start.isoformat() <= s < sim.end.isoformat() for s in stamps)
    units = {r.unit for r in sim.residents}
    assert all(e["unit"] in units for e in sim.events if e["kind"] != "access")
    assert all(r.elderly and r.lives_alone for r in sim.residents)


def test_personas_stay_inside_the_documented_ranges() -> None:
    sim = simulate_routines(RoutineSimConfig(residents=10, days=3, seed=3))
    for values in sim.truth.personas.values():
        for name, (lo, hi) in {**RANGES, **BEDTIME_RANGES}.items():
            assert lo <= values[name] <= hi, name


def _last_sign_before_nights(sim: RoutineSimulation, unit: str) -> list[str]:
    """The sensor of the last flat event before each silence of 4 h or more that begins 20:00-02:00."""
    flat = [e for e in sim.events if e.get("unit") == unit]
    lasts = []
    for e, nxt in itertools.pairwise(flat):
        t, t2 = datetime.fromisoformat(e["ts"]), datetime.fromisoformat(nxt["ts"])
        if t2 - t >= timedelta(hours=4) and (t.hour >= 20 or t.hour < 2):
            lasts.append(str(e.get("sensor", e["kind"])))
    return lasts


def test_going_to_bed_leaves_its_trace_as_often_as_the_persona_says() -> None:
    sim = simulate_routines(RoutineSimConfig(residents=30, days=30, seed=7))
    shares = []
    for r in sim.residents:
        lasts = _last_sign_before_nights(sim, r.unit)
        assert len(lasts) >= 10
        shares.append((sim.truth.personas[r.resident_id]["bedtime_trace_prob"],
                       lasts.count("bedroom-pir") / len(lasts)))
    # nights without the trace end in any room (or at a tap after a visit at night), so the bedroom's share
    # is the trace's share plus some of the rest: above it, and never far below it
    for prob, share in shares:
        assert share > prob - 0.25, (prob, share)
    rarely = [share for prob, share in shares if prob < 0.2]
    mostly = [share for prob, share in shares if prob > 0.75]
    assert len(rarely) >= 3
    assert len(mostly) >= 3
    assert max(rarely) < 0.4
    assert min(mostly) > 0.7


def test_the_trace_only_adds_events_to_the_same_world(monkeypatch: pytest.MonkeyPatch) -> None:
    """The trace draws from its own stream: without it, a seed makes the same residents, days and events."""
    cfg = RoutineSimConfig(residents=5, days=12, seed=4, emergency=True)
    traced = simulate_routines(cfg)
    monkeypatch.setitem(BEDTIME_RANGES, "bedtime_trace_prob", (0.0, 0.0))
    plain = simulate_routines(cfg)
    assert plain.truth.home_spans == traced.truth.home_spans
    assert plain.truth.collapses == traced.truth.collapses
    key = lambda e: tuple(sorted(e.items()))  # noqa: E731
    extra = Counter(map(key, traced.events))
    extra.subtract(Counter(map(key, plain.events)))
    assert min(extra.values()) == 0  # nothing of the plain world is missing
    added = [dict(k) for k, n in extra.items() for _ in range(n)]
    assert added
    assert {(e["kind"], e.get("sensor")) for e in added} <= {("motion", "bedroom-pir"), ("motion", "bathroom-pir"),
                                                             ("water", None)}


def test_nothing_is_heard_from_the_flat_while_away_and_after_a_collapse() -> None:
    sim = simulate_routines(RoutineSimConfig(residents=8, days=30, seed=4, emergency=True))
    assert len(sim.truth.collapses) == 8
    for r in sim.residents:
        collapse = sim.truth.collapses[r.resident_id]
        assert collapse >= sim.start + timedelta(days=21)
        flat = [datetime.fromisoformat(e["ts"]) for e in sim.events if e.get("unit") == r.unit]
        assert flat
        assert max(flat) < collapse
        spans = sim.truth.home_spans[r.resident_id]
        assert any(a <= collapse < b for a, b in spans)  # a collapse happens at home
        for (_, b1), (a2, _) in itertools.pairwise(spans):
            # away: no in-home signal (the span starts after the return: gate, door, first motion)
            gap = [t for t in flat if b1 + timedelta(minutes=1) < t < a2 - timedelta(minutes=10)]
            assert gap == []


def test_hospital_stays_are_noted_as_away_periods_or_not() -> None:
    sim = simulate_routines(RoutineSimConfig(residents=40, days=30, seed=9))
    assert sim.truth.hospital
    by_id = {r.resident_id: r for r in sim.residents}
    for stay in sim.truth.hospital:
        r = by_id[stay["resident"]]
        assert bool(r.away) == stay["noted"]
        if stay["noted"]:
            assert r.away[0][0].isoformat(timespec="seconds") == stay["from"]
