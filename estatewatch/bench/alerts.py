"""``estatewatch bench alerts``: the resident rules at 100,000 residents, next to a scan-the-population baseline.

The synthetic estate: every resident lives a day with gate outings and in-home activity every few hours; a known
share of elderly residents living alone never goes out, so each of them must raise exactly one ``elderly_not_out``
(``expected_alerts``). Both engines run the same pure rule functions; the baseline evaluates every resident each
minute of event time (what a cron-style checker does), ours only evaluates residents whose due time has come.

With ``routines`` (the default) the engine also keeps a learnt routine per elderly resident living alone and runs
``no_activity`` (``alerts.resident_step``): the main figures are then those of all resident rules together, and
``routines`` puts the same window with and without the routine model side by side.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from typing import NotRequired, TypedDict

from alerts.memory_driver import RuleEngine
from alerts.presence import PresenceEvent, Resident, apply_event
from alerts.presence_rules import RuleConfig, evaluate

START = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


class ScanBaseline(TypedDict):
    """Ours and the scan baseline on the same short window of events, measured back to back."""

    kind: str
    window_minutes: float
    window_events: int
    ours_s: float
    ours_evaluations: int
    scan_s: float
    scan_evaluations: int
    speedup: float | None


class DbBench(TypedDict):
    """The service's database path: batched transactions against one transaction per event."""

    residents: int
    resident_load_s: float
    batch: int
    events: int
    events_per_s: int
    baseline_events: int
    baseline_events_per_s: int
    baseline: str
    speedup: float


class RoutinesBench(TypedDict):
    """The routine model's share: the same window of events with and without it, back to back (CPU seconds)."""

    enabled: bool
    watched_residents: int
    no_activity_alerts: int
    window_events: int
    with_routines_s: float
    with_routines_events_per_s: int
    without_routines_s: float
    without_routines_events_per_s: int
    cost_ratio: float | None


class AlertsBench(TypedDict):
    """What ``bench alerts --json`` prints: the keys are a contract of the CLI."""

    residents: int
    simulated_hours: float
    events: int
    events_per_s: int
    rule_evaluations: int
    rule_evaluations_per_s: int
    elapsed_s: float
    cpu_s: float
    events_per_cpu_s: int
    alerts_raised: int
    expected_alerts: int
    generation_s: float
    baseline: ScanBaseline
    routines: RoutinesBench
    service_path: NotRequired[DbBench]


def synthetic_estate(residents: int, hours: float, seed: int) -> tuple[list[Resident], list[PresenceEvent], int]:
    """(residents, time-ordered events, expected elderly_not_out alerts)."""
    rng = random.Random(seed)
    end = START + timedelta(hours=hours)
    people: list[Resident] = []
    rows: list[tuple[datetime, int, PresenceEvent]] = []
    expected = 0
    for i in range(residents):
        elderly_alone = i % 5 < 2  # 40 % elderly living alone
        unit = f"{'ABCDEFGH'[i % 8]}-{i // 8:05d}"
        r = Resident(f"r{i:06d}", unit, elderly=elderly_alone, lives_alone=elderly_alone or i % 5 == 2)
        people.append(r)
        stays_home = elderly_alone and rng.random() < 0.05
        t = START + timedelta(minutes=rng.uniform(0, 120))
        rows.append((t, len(rows), PresenceEvent(t, "access", resident=r.resident_id, direction="in", gate="north",
                                                 method="face")))
        if stays_home and t + timedelta(hours=24) <= end:
            expected += 1
        outing = None if stays_home else START + timedelta(hours=rng.uniform(9, 17))
        while True:
            t += timedelta(minutes=rng.uniform(120, 240))
            if t >= end:
                break
            if outing is not None and t >= outing:
                back = t + timedelta(minutes=rng.uniform(60, 180))
                rows.append((t, len(rows), PresenceEvent(t, "access", resident=r.resident_id, direction="out",
                                                         gate="south", method="card")))
                rows.append((back, len(rows), PresenceEvent(back, "access", resident=r.resident_id, direction="in",
                                                            gate="south", method="card")))
                t, outing = back, outing + timedelta(days=1)
                continue
            rows.append((t, len(rows), PresenceEvent(t, "motion", unit=unit, sensor="pir")))
    rows.sort(key=lambda row: (row[0], row[1]))
    return people, [row[2] for row in rows if row[0] < end], expected


def _run_ours(people: list[Resident], events: list[PresenceEvent], until: datetime,
              cfg: RuleConfig, routines: bool = False) -> tuple[float, float, RuleEngine, int, int]:
    """(wall seconds, CPU seconds of this process, engine, new elderly_not_out alerts, no_activity alerts). CPU
    time is what "on one core" means on a machine shared with other work; wall time is kept for comparison.
    """
    engine = RuleEngine(people, cfg, routines=routines)
    raised = inactive = 0
    started, cpu = time.perf_counter(), time.process_time()
    for fired in [*(engine.on_event(ev) for ev in events), engine.advance(until)]:
        for f in fired:
            raised += f.type == "elderly_not_out" and not f.reminder
            inactive += f.type == "no_activity"
    return time.perf_counter() - started, time.process_time() - cpu, engine, raised, inactive


def _run_scan(people: list[Resident], events: list[PresenceEvent], until: datetime,
              cfg: RuleConfig) -> tuple[float, int]:
    """The baseline: apply events, and every minute of event time evaluate every resident."""
    engine = RuleEngine(people, cfg, routines=False)  # only for its resident / unit maps and states
    evaluations = 0
    next_scan = START + timedelta(minutes=1)
    started = time.perf_counter()
    for ev in [*events, None]:
        limit = ev.ts if ev is not None else until
        while next_scan <= limit:
            for r in people:
                evaluate(engine.states[r.resident_id], r, next_scan, cfg)
            evaluations += len(people)
            next_scan += timedelta(minutes=1)
        if ev is None:
            break
        targets = ([engine.residents[ev.resident]] if ev.kind == "access" and ev.resident in engine.residents
                   else engine.by_unit.get(ev.unit or "", []))
        for r in targets:
            apply_event(engine.states[r.resident_id], r, ev, cfg.presence)
            evaluate(engine.states[r.resident_id], r, ev.ts, cfg)
            evaluations += 1
    return time.perf_counter() - started, evaluations


def run_bench(residents: int = 100_000, hours: float = 30.0, seed: int = 7,
              baseline_minutes: float = 5.0, routines: bool = True, routines_window_hours: float = 3.0) -> AlertsBench:
    """Run the rule engine over a synthetic estate, then ours and the scan baseline side by side on a short window,
    and (``routines``) the same ``routines_window_hours`` with and without the routine model.
    """
    cfg = RuleConfig()
    made = time.perf_counter()
    people, events, expected = synthetic_estate(residents, hours, seed)
    generated_s = time.perf_counter() - made
    until = START + timedelta(hours=hours)
    elapsed, cpu_s, engine, raised, inactive = _run_ours(people, events, until, cfg, routines)

    # side by side on the same short window: the scan baseline cannot do the whole run in bench time
    window_end = START + timedelta(minutes=baseline_minutes)
    window = [ev for ev in events if ev.ts < window_end]
    ours_w, _, engine_w, _, _ = _run_ours(people, window, window_end, cfg, routines)
    scan_w, scan_evals = _run_scan(people, window, window_end, cfg)
    r_end = START + timedelta(hours=routines_window_hours)
    r_window = [ev for ev in events if ev.ts < r_end]
    with_s = _run_ours(people, r_window, r_end, cfg, True)[1] if routines else 0.0  # CPU seconds
    without_s = _run_ours(people, r_window, r_end, cfg, False)[1]
    return {
        "residents": residents,
        "simulated_hours": hours,
        "events": len(events),
        "events_per_s": round(len(events) / elapsed),
        "rule_evaluations": engine.evaluations,
        "rule_evaluations_per_s": round(engine.evaluations / elapsed),
        "elapsed_s": round(elapsed, 2),
        "cpu_s": round(cpu_s, 2),
        "events_per_cpu_s": round(len(events) / cpu_s) if cpu_s > 0 else 0,
        "alerts_raised": raised,
        "expected_alerts": expected,
        "generation_s": round(generated_s, 2),
        "baseline": {
            "kind": "scan every resident each minute of event time",
            "window_minutes": baseline_minutes,
            "window_events": len(window),
            "ours_s": round(ours_w, 3),
            "ours_evaluations": engine_w.evaluations,
            "scan_s": round(scan_w, 3),
            "scan_evaluations": scan_evals,
            "speedup": round(scan_w / ours_w, 1) if ours_w > 0 else None,
        },
        "routines": {
            "enabled": routines,
            "watched_residents": len(engine.routines),
            "no_activity_alerts": inactive,
            "window_events": len(r_window),
            "with_routines_s": round(with_s, 3),
            "with_routines_events_per_s": round(len(r_window) / with_s) if with_s > 0 else 0,
            "without_routines_s": round(without_s, 3),
            "without_routines_events_per_s": round(len(r_window) / without_s) if without_s > 0 else 0,
            "cost_ratio": round(with_s / without_s, 2) if routines and without_s > 0 else None,
        },
    }
