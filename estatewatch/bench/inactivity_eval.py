"""``estatewatch eval inactivity --json``: delay to the first alert after activity stops, as the literature measures it.

Every home's events are cut at seeded at-home instants (``cuts_per_home``, after ``warmup_days`` of history; a
quarter as many inside the learning period are reported apart as ``cold_start_cuts``):
nothing is heard after the cut, and the delay is the time from the cut to the first ``no_activity`` alert (0 when
the silence had already raised one). A cut without an alert within 36 h is a missed emergency. False alarms are
the alerts raised on the uncut data (which holds no emergency), per resident-day. The current fixed rule
(``no_sign_of_life`` after 12 h, ``alerts.rules``) is measured on the same cuts and the same uncut data.

Split: simulator seeds in ``tune_seeds`` are the ones the defaults were tuned on; ``report_seeds`` are only
reported; public homes are "report only", or "looked at" when their false alarms were studied to change the rule
(``LOOKED_AT``; no parameter was fitted to any public home). Each result names its role.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerts.inactivity.engine import InactivityEngine
from alerts.inactivity.settings import InactivitySettings
from alerts.memory_driver import RuleEngine
from alerts.presence import PresenceEvent, PresenceState, Resident, settle
from alerts.presence_rules import RuleConfig
from alerts.presence_rules import evaluate as rule_evaluate
from alerts.presence_rules import next_due as rule_next_due
from estatewatch.bench import aras, kasteren
from estatewatch.bench.casas import CasasHome, load_available
from simulators.routines import RoutineSimConfig, simulate_routines

HORIZON = timedelta(hours=36)
# Public homes whose false alarms were studied to design the unconfirmed-return rule (alerts.inactivity.rule): no
# parameter was fitted to them, but they are no longer held out. The others are report only.
LOOKED_AT = frozenset({"aras_a", "kasteren_b", "kasteren_c"})
TARGETS = {"median_h": 3.0, "p90_h": 8.0, "missed": 0, "false_alarms_per_resident_day": 0.05}


def to_events(rows: Iterable[dict[str, Any]], tz: tzinfo) -> list[PresenceEvent]:
    """Replay-contract dicts (naive = estate local time) as presence events."""
    out = []
    for e in rows:
        ts = datetime.fromisoformat(e["ts"]).replace(tzinfo=tz)
        if e["kind"] == "access":
            out.append(PresenceEvent(ts, "access", resident=e["resident"], direction=e["direction"],
                                     gate=e.get("gate"), method=e.get("method")))
        else:
            out.append(PresenceEvent(ts, e["kind"], unit=e["unit"], state=e.get("state"), sensor=e.get("sensor"),
                                     litres=e.get("litres")))
    return out


def draw_cuts(spans: dict[str, list[tuple[datetime, datetime]]], start: datetime, per_home: int,
              warmup_days: float, seed: int, until_days: float | None = None) -> list[tuple[datetime, str]]:
    """``per_home`` instants per resident, uniform over their at-home time after the warm-up (and before
    ``until_days`` when given).
    """
    rng = random.Random(seed)
    cuts: list[tuple[datetime, str]] = []
    after = start + timedelta(days=warmup_days)
    before = start + timedelta(days=until_days) if until_days is not None else None
    for rid in sorted(spans):
        usable = [(max(a, after), min(b, before) if before else b) for a, b in spans[rid] if b > after]
        usable = [(a, b) for a, b in usable if (b - a) > timedelta(minutes=30)]
        total = sum((b - a).total_seconds() for a, b in usable)
        if total <= 0:
            continue
        for _ in range(per_home):
            pick = rng.uniform(0, total)
            for a, b in usable:
                length = (b - a).total_seconds()
                if pick <= length:
                    cuts.append((a + timedelta(seconds=pick), rid))
                    break
                pick -= length
    cuts.sort()
    return cuts


def _fixed_rule_delay(pstate: PresenceState, r: Resident, cut: datetime, cfg: RuleConfig) -> float | None:
    """Hours from ``cut`` to the fixed rule's ``no_sign_of_life`` if nothing more is heard (None: none in 36 h)."""
    state = PresenceState.from_json(pstate.to_json())
    state.no_sign_ref = None
    watched = replace(r, elderly=False)  # only the no-sign rule: not-out is another question
    at = cut
    for _ in range(32):
        settle(state, watched, at, cfg.presence)
        if any(f.type == "no_sign_of_life" for f in rule_evaluate(state, watched, at, cfg)):
            return (at - cut).total_seconds() / 3600
        due = rule_next_due(state, watched, at, cfg)
        if due is None or due > cut + HORIZON:
            return None
        at = max(due, at + timedelta(seconds=1))
    return None


def run_home_set(residents: list[Resident], events: list[PresenceEvent], cuts: list[tuple[datetime, str]],
                 days: float, tz: tzinfo, settings: InactivitySettings,
                 early_cuts: list[tuple[datetime, str]] | None = None) -> dict[str, Any]:
    """Both rules over one set of homes: delays on the cuts, false alarms on the uncut stream. ``early_cuts``
    (inside the learning period) are measured apart: ``cold_start``.
    """
    engine = InactivityEngine(residents, tz, settings)
    cfg = RuleConfig()
    ours: list[float | None] = []
    fixed: list[float | None] = []
    early: list[float | None] = []
    early_set = set(early_cuts or [])
    alarms = 0
    queue = sorted([*cuts, *(early_cuts or [])])
    qi = 0
    for ev in [*events, None]:
        limit = ev.ts if ev is not None else datetime.max.replace(tzinfo=tz)
        while qi < len(queue) and queue[qi][0] <= limit:
            cut, rid = queue[qi]
            qi += 1
            alarms += len(engine.advance(cut))
            state, pstate = engine.states[rid], engine.presence[rid]
            settle(pstate, engine.residents[rid], cut, engine.presence_cfg)
            if state.raised_for is not None and state.raised_for == state.silence_since:
                delay: float | None = 0.0
            else:
                hit = engine.first_alert_after_silence(rid, cut, HORIZON)
                delay = None if hit is None else (hit.at - cut).total_seconds() / 3600
            if (cut, rid) in early_set:
                early.append(delay)
                continue
            ours.append(delay)
            fixed.append(_fixed_rule_delay(pstate, engine.residents[rid], cut, cfg))
        if ev is None:
            break
        alarms += len(engine.on_event(ev))
    if engine.now is not None:
        alarms += len(engine.advance(engine.now))
    rules = RuleEngine([replace(r, elderly=False) for r in residents], cfg)
    fixed_alarms = sum(1 for ev in events for f in rules.on_event(ev) if f.type == "no_sign_of_life")
    resident_days = len(residents) * days
    cold = _stats(early, 0, 0)
    cold.pop("false_alarms")
    cold.pop("false_alarms_per_resident_day")
    return {"ours": _stats(ours, alarms, resident_days), "fixed_12h": _stats(fixed, fixed_alarms, resident_days),
            "cold_start_cuts": {**cold, "cuts": len(early)},
            "residents": len(residents), "days": round(days, 1), "events": len(events), "cuts": len(cuts)}


def _stats(delays: list[float | None], alarms: int, resident_days: float) -> dict[str, Any]:
    found = sorted(d for d in delays if d is not None)
    missed = len(delays) - len(found)
    ordered = found + [math.inf] * missed

    def pct(q: float) -> float | None:
        if not ordered:
            return None
        value = ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]
        return None if math.isinf(value) else round(value, 2)

    return {"median_h": pct(0.5), "mean_h": round(sum(found) / len(found), 2) if found else None,
            "p90_h": pct(0.9), "missed": missed, "false_alarms": alarms,
            "false_alarms_per_resident_day": round(alarms / resident_days, 4) if resident_days else None}


def _meets(stats: dict[str, Any]) -> bool:
    return (stats["median_h"] is not None and stats["median_h"] <= TARGETS["median_h"]
            and stats["p90_h"] is not None and stats["p90_h"] <= TARGETS["p90_h"] and stats["missed"] == 0
            and stats["false_alarms_per_resident_day"] <= TARGETS["false_alarms_per_resident_day"])


def simulator_result(seed: int, role: str, *, residents: int, days: float, cuts_per_home: int,
                     warmup_days: float, tz: tzinfo, settings: InactivitySettings) -> dict[str, Any]:
    """One simulated estate (``seed``): its at-home truth gives the cut instants."""
    sim = simulate_routines(RoutineSimConfig(residents=residents, days=days, seed=seed))
    local = {rid: [(a.replace(tzinfo=tz), b.replace(tzinfo=tz)) for a, b in spans]
             for rid, spans in sim.truth.home_spans.items()}
    begin = sim.start.replace(tzinfo=tz)
    cuts = draw_cuts(local, begin, cuts_per_home, warmup_days, seed + 1000)
    early = draw_cuts(local, begin, max(1, cuts_per_home // 4), 1.0, seed + 2000, until_days=warmup_days)
    residents_tz = [replace(r, away=tuple((a.replace(tzinfo=tz), b.replace(tzinfo=tz)) for a, b in r.away))
                    for r in sim.residents]
    out = run_home_set(residents_tz, to_events(sim.events, tz), cuts, days, tz, settings, early)
    out.update({"dataset": f"simulator seed {seed}", "role": role})
    out["meets_targets"] = _meets(out["ours"])
    return out


def collapse_result(seed: int, role: str, *, residents: int, days: float, tz: tzinfo,
                    settings: InactivitySettings) -> dict[str, Any]:
    """The simulator's own emergencies: a collapse per resident after day 21; delay from it to the first alert."""
    sim = simulate_routines(RoutineSimConfig(residents=residents, days=days, seed=seed, emergency=True))
    people = [replace(r, away=tuple((a.replace(tzinfo=tz), b.replace(tzinfo=tz)) for a, b in r.away))
              for r in sim.residents]
    engine = InactivityEngine(people, tz, settings)
    collapses = {rid: when.replace(tzinfo=tz) for rid, when in sim.truth.collapses.items()}
    events = to_events(sim.events, tz)
    unit_of = {r.resident_id: r.unit for r in people}
    last_sign = {rid: max((e.ts for e in events if e.unit == unit_of[rid] and e.ts < when), default=None)
                 for rid, when in collapses.items()}
    first: dict[str, datetime] = {}
    end = sim.end.replace(tzinfo=tz) + HORIZON
    for fired in [*(engine.on_event(ev) for ev in events), engine.advance(end)]:
        for f in fired:
            rid = f.resident.resident_id
            sign = last_sign.get(rid)
            same_silence = sign is not None and f.details.get("silence_since") == sign.isoformat()
            if rid in collapses and rid not in first and (f.at >= collapses[rid] or same_silence):
                first[rid] = max(f.at, collapses[rid])  # raised before the fall for the same silence: delay 0
    delays = [(first[rid] - when).total_seconds() / 3600 if rid in first and first[rid] - when <= HORIZON
              else None for rid, when in collapses.items()]
    stats = _stats(delays, 0, 0)
    stats.pop("false_alarms")
    stats.pop("false_alarms_per_resident_day")
    return {"dataset": f"simulator seed {seed}, collapses", "role": role, "collapses": len(collapses), **stats}


def casas_result(home: CasasHome, *, cuts_per_home: int, warmup_days: float,
                 settings: InactivitySettings) -> dict[str, Any]:
    """One public recording: a single home, cut at its at-home instants."""
    tz = home.tz
    resident = Resident(home.name, home.name, elderly=True, lives_alone=True)
    spans = {home.name: home.home_spans}
    cuts = draw_cuts(spans, home.start, cuts_per_home, warmup_days, 7)
    early = draw_cuts(spans, home.start, max(1, cuts_per_home // 4), 1.0, 8, until_days=warmup_days)
    out = run_home_set([resident], home.events, cuts, home.days, tz, settings, early)
    label = home.source.get("dataset", "CASAS")
    role = "looked at" if home.name in LOOKED_AT else "report only"
    out.update({"dataset": f"{label} {home.name}", "role": role, "source": home.source,
                "household": label == "ARAS" or home.name == "cairo"})
    out["meets_targets"] = _meets(out["ours"])
    return out


def evaluate(*, tune_seeds: tuple[int, ...] = (1, 2, 3), report_seeds: tuple[int, ...] = (11, 12, 13),
             residents: int = 20, days: float = 45.0, cuts_per_home: int = 20, warmup_days: float = 14.0,
             timezone: str = "Asia/Shanghai", settings: InactivitySettings | None = None,
             casas_dir: Path | None = None, casas: bool = True, aras_dir: Path | None = None,
             kasteren_dir: Path | None = None, simulator: bool = True) -> dict[str, Any]:
    """The whole evaluation as one JSON-friendly dict (simulator tune / report seeds, public datasets: CASAS, ARAS
    and van Kasteren B / C when ``casas``; ``simulator=False`` runs the public datasets alone).
    """
    tz = ZoneInfo(timezone)
    cfg = settings or InactivitySettings()
    results = []
    if not simulator:
        tune_seeds = report_seeds = ()
    for seeds, role in ((tune_seeds, "tuned on"), (report_seeds, "report only")):
        for seed in seeds:
            results.append(simulator_result(seed, role, residents=residents, days=days,
                                            cuts_per_home=cuts_per_home, warmup_days=warmup_days, tz=tz,
                                            settings=cfg))
    collapses = [collapse_result(seed, "report only", residents=residents, days=days, tz=tz, settings=cfg)
                 for seed in report_seeds]
    unavailable: list[dict[str, str]] = []
    if casas:
        homes, unavailable = load_available(casas_dir)
        for loader, folder in ((aras.load_available, aras_dir), (kasteren.load_available, kasteren_dir)):
            more, gone = loader(folder)
            homes, unavailable = [*homes, *more], [*unavailable, *gone]
        for home in homes:
            results.append(casas_result(home, cuts_per_home=cuts_per_home, warmup_days=warmup_days, settings=cfg))
    return {"targets": TARGETS, "settings": cfg.to_dict(), "cuts_per_home": cuts_per_home,
            "warmup_days": warmup_days, "horizon_h": HORIZON.total_seconds() / 3600, "results": results,
            "simulated_collapses": collapses,
            "public_datasets_unavailable": unavailable}
