"""Throughput of the routine model at 100,000 residents, next to a naive recompute-from-history baseline.

Three measurements in one run, on one core, on the same synthetic event stream (every resident moving about at
home, a signal every 3 to 40 minutes):

- ``model``: ``RoutineModel.seen`` + ``learn`` per event (O(1): one histogram cell, one record);
- ``engine``: the whole ``no_activity`` path per event (presence, learning, the due time, the due-time index);
- ``naive``: what a model without state would do: keep every event of the learning window per resident and, per
  event, recompute the quiet spells of the current hour from that history and their 90th percentile.

Due-time work is reported next to what a scan of the population each minute of event time would cost, and the
backfill of 30 days of history (``learn_history``, whole-array) next to learning the same history event by event.
"""

from __future__ import annotations

import itertools
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from alerts.inactivity.batch import learn_history
from alerts.inactivity.engine import InactivityEngine
from alerts.inactivity.model import RoutineModel
from alerts.presence import PresenceEvent, Resident

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Shanghai")


def synthetic_stream(residents: int, hours: float, seed: int) -> list[tuple[datetime, int]]:
    """(time, resident index) of in-home signals, time-ordered."""
    rng = random.Random(seed)
    end = START + timedelta(hours=hours)
    rows: list[tuple[datetime, int]] = []
    for i in range(residents):
        t = START + timedelta(minutes=rng.uniform(0, 30))
        while t < end:
            rows.append((t, i))
            t += timedelta(minutes=rng.uniform(3, 40))
    rows.sort()
    return rows


def _bench_model(stream: list[tuple[datetime, int]], residents: int) -> tuple[float, int]:
    models = [RoutineModel(30.0) for _ in range(residents)]
    last: list[datetime | None] = [None] * residents
    learnt = 0
    started = time.perf_counter()
    for ts, i in stream:
        model = models[i]
        model.seen(ts)
        prev = last[i]
        if prev is not None and model.learn(prev, ts, TZ):
            learnt += 1
        last[i] = ts
    return time.perf_counter() - started, learnt


def _bench_naive(stream: list[tuple[datetime, int]], history_days: float, seed: int) -> float:
    """Recompute from raw history per event; histories pre-filled with ``history_days`` of similar signals."""
    rng = random.Random(seed)
    history: dict[int, list[float]] = {}
    for _, i in stream:
        if i not in history:
            t, out = START.timestamp() - history_days * 86400, []
            while t < START.timestamp():
                out.append(t)
                t += rng.uniform(180, 2400)
            history[i] = out
    window = history_days * 86400
    started = time.perf_counter()
    for ts, i in stream:
        now = ts.timestamp()
        past = history[i]
        past.append(now)
        while past and past[0] < now - window:
            past.pop(0)
        arr = np.asarray(past)
        gaps = np.diff(arr)
        hours = ((arr[:-1] + 8 * 3600) // 3600 % 24).astype(int)
        here = gaps[(hours == ts.astimezone(TZ).hour) & (gaps >= 600)]
        if here.size:
            np.quantile(here, 0.9)
    return time.perf_counter() - started


def _bench_engine(stream: list[tuple[datetime, int]], residents: int) -> tuple[float, InactivityEngine]:
    people = [Resident(f"r{i:06d}", f"U{i:06d}", elderly=True, lives_alone=True) for i in range(residents)]
    engine = InactivityEngine(people, TZ)
    events = [PresenceEvent(ts, "motion", unit=f"U{i:06d}", sensor="pir") for ts, i in stream]
    started = time.perf_counter()
    for ev in events:
        engine.on_event(ev)
    return time.perf_counter() - started, engine


def _bench_backfill(residents: int, days: float, seed: int) -> dict[str, Any]:
    """Learning ``days`` of history per resident: event by event, and with the whole-array backfill."""
    rng = random.Random(seed)
    histories = []
    for _ in range(residents):
        t, signs = START, []
        while t < START + timedelta(days=days):
            signs.append(t)
            t += timedelta(minutes=rng.uniform(3, 40) if 7 <= (t.hour + 8) % 24 < 22 else rng.uniform(60, 300))
        histories.append(signs)
    started = time.perf_counter()
    for signs in histories:
        model = RoutineModel(30.0)
        for a, b in itertools.pairwise(signs):
            model.seen(a)
            model.learn(a, b, TZ)
    sequential = time.perf_counter() - started
    started = time.perf_counter()
    for signs in histories:
        learn_history(RoutineModel(30.0), signs, TZ)
    batch = time.perf_counter() - started
    total = sum(len(s) for s in histories)
    return {"residents": residents, "days": days, "signs": total, "sequential_s": round(sequential, 2),
            "batch_s": round(batch, 2), "batch_vs_sequential": round(sequential / batch, 1)}


def run_bench(residents: int = 100_000, hours: float = 4.0, seed: int = 7, naive_events: int = 20_000,
              engine_events: int = 300_000, history_days: float = 30.0,
              backfill_residents: int = 300) -> dict[str, Any]:
    """Ours and the baselines side by side; ratios are ours / baseline throughput."""
    made = time.perf_counter()
    stream = synthetic_stream(residents, hours, seed)
    generated = time.perf_counter() - made
    model_s, learnt = _bench_model(stream, residents)
    model_eps = len(stream) / model_s
    naive_part = stream[:naive_events]
    naive_s = _bench_naive(naive_part, history_days, seed)
    naive_eps = len(naive_part) / naive_s
    engine_part = stream[:engine_events]
    engine_s, engine = _bench_engine(engine_part, residents)
    engine_eps = len(engine_part) / engine_s
    span_min = (engine_part[-1][0] - engine_part[0][0]).total_seconds() / 60 if engine_part else 0.0
    scan_checks = residents * max(1, round(span_min))
    backfill = _bench_backfill(backfill_residents, history_days, seed)
    return {
        "residents": residents, "events": len(stream), "simulated_hours": hours, "generation_s": round(generated, 2),
        "model": {"events_per_s": round(model_eps), "elapsed_s": round(model_s, 2), "spells_learnt": learnt},
        "naive": {"kind": f"recompute the hour's quiet spells from {history_days:g} days of raw events per event",
                  "events": len(naive_part), "events_per_s": round(naive_eps), "elapsed_s": round(naive_s, 2)},
        "engine": {"events": len(engine_part), "events_per_s": round(engine_eps), "elapsed_s": round(engine_s, 2),
                   "checks": engine.evaluations, "due_checks": engine.evaluations - engine.events,
                   "due_scheduled": len(engine.index)},
        "ratios": {"model_vs_naive": round(model_eps / naive_eps, 1),
                   "engine_vs_naive": round(engine_eps / naive_eps, 1),
                   "due_checks_vs_minute_scan": round(engine.evaluations / scan_checks, 4)},
        "minute_scan_checks": scan_checks,
        "backfill": backfill,
    }


def main() -> None:
    """``python -m estatewatch.bench.inactivity_bench``: print the JSON."""
    import json  # noqa: PLC0415 - only for this entry point

    print(json.dumps(run_bench(), indent=1))


if __name__ == "__main__":
    main()
