"""The evaluation's engine (``alerts.inactivity.engine``) and the replay / service step (``alerts.memory_driver``
over ``alerts.resident_step``) raise the same ``no_activity`` alerts, at the same times, on simulated routines: the
figures of ``estatewatch eval inactivity`` are those of the rule the service runs.
"""

from __future__ import annotations

from dataclasses import replace
from zoneinfo import ZoneInfo

from alerts.inactivity.engine import InactivityEngine
from alerts.memory_driver import RuleEngine
from estatewatch.bench.inactivity_eval import to_events
from simulators.routines import RoutineSimConfig, simulate_routines

TZ = ZoneInfo("Asia/Shanghai")


def test_eval_engine_and_replay_engine_raise_the_same_no_activity_alerts() -> None:
    sim = simulate_routines(RoutineSimConfig(residents=6, days=40, seed=12, emergency=True))
    people = [replace(r, away=tuple((a.replace(tzinfo=TZ), b.replace(tzinfo=TZ)) for a, b in r.away))
              for r in sim.residents]
    events = to_events(sim.events, TZ)
    evaluation, replay = InactivityEngine(people, TZ), RuleEngine(people, tz=TZ)
    ours: list[tuple[str, object, str]] = []
    theirs: list[tuple[str, object, str]] = []
    for ev in events:
        ours += [(f.resident.resident_id, f.at, f.dedup_key) for f in evaluation.on_event(ev)]
        theirs += [(f.resident.resident_id, f.at, f.occurrence_key) for f in replay.on_event(ev)
                   if f.type == "no_activity"]
    end = sim.end.replace(tzinfo=TZ)
    ours += [(f.resident.resident_id, f.at, f.dedup_key) for f in evaluation.advance(end)]
    theirs += [(f.resident.resident_id, f.at, f.occurrence_key) for f in replay.advance(end)
               if f.type == "no_activity"]  # the service keys one open alert per resident; the silence is the episode
    assert len(ours) >= len(sim.truth.collapses) > 0
    assert ours == theirs
