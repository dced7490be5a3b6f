"""Simulated daily routines of elderly residents living alone, with emergencies and ground truth.

Each resident gets a persona drawn from ``RANGES`` (the one place where the parameter ranges live): wake and bed
times (later at weekends), bathroom visits at night, meals, naps, long baths, evening TV (sparse signals), visitors
at the door, outings and whole days out, hospital stays (an operator's away note, or not), and a share of
"door-only" homes whose gates do not recognise the resident. ``BEDTIME_RANGES`` adds how often going to bed leaves
its trace (bathroom, then the bedroom PIR last). An emergency (``emergency=True``) is a collapse at a
random at-home instant after ``emergency_after_days``: every signal from the flat stops.

Events are dicts in the replay contract (``ts`` naive = estate local time, ``kind`` access / door / motion /
water). Ground truth per resident: the at-home spans (where an evaluation may cut), hospital stays and the collapse.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from alerts.presence import Resident

MIN = timedelta(minutes=1)

# name: (low, high). Times are local hours; durations in minutes unless named otherwise; *_prob per day.
RANGES: dict[str, tuple[float, float]] = {
    "wake_h": (5.5, 8.0),
    "bed_h": (21.0, 23.5),
    "weekend_shift_h": (0.0, 1.0),  # later at weekends, both wake and bed
    "night_visits": (0.5, 2.5),  # mean bathroom visits per night (nocturia is common past 70)
    "active_gap_min": (2.0, 12.0),  # mean gap between signals while up and about
    "nap_prob": (0.1, 0.7),
    "nap_min": (25.0, 110.0),
    "bath_prob": (0.05, 0.35),
    "bath_min": (30.0, 80.0),
    "tv_min": (60.0, 200.0),  # evening TV: signals only every 15-50 min
    "outing_prob": (0.3, 0.85),
    "outing_min": (40.0, 240.0),
    "day_out_prob": (0.0, 0.06),  # a whole day away (6-11 h)
    "visitor_prob": (0.05, 0.3),
}
# Drawn from each resident's own stream (``_route_rng``), so that adding them left every other draw of a world as
# it was: the same residents, days and cuts, with the bedtime's trace added.
BEDTIME_RANGES: dict[str, tuple[float, float]] = {
    # share of nights whose way to bed leaves its trace: the bathroom (and its tap) a few minutes before, the
    # bedroom PIR last, and the bedroom PIR again on the way back from a bathroom visit at night. 0 = a flat
    # whose bedroom sensor does not see the way to bed (or has none): the last sign before sleep is any room
    "bedtime_trace_prob": (0.0, 0.95),
}
HOSPITAL_PROB = 0.15  # per resident and run: one stay of 2-6 days
HOSPITAL_NOTED = 0.7  # share of stays the operators note as an away period
DOOR_ONLY_SHARE = 0.3


@dataclass(frozen=True)
class RoutineSimConfig:
    """How many residents, how long, which seed; emergencies on or off."""

    residents: int = 20
    days: float = 45.0
    seed: int = 1
    start: datetime = datetime(2026, 1, 5)  # a Monday; naive: estate local time
    emergency: bool = False
    emergency_after_days: float = 21.0


@dataclass
class Persona:
    """One resident's drawn routine parameters (names as in ``RANGES``)."""

    values: dict[str, float]
    gate_user: bool


@dataclass
class RoutineTruth:
    """What really happened: at-home spans, hospital stays (noted or not), collapses, personas."""

    home_spans: dict[str, list[tuple[datetime, datetime]]] = field(default_factory=dict)
    hospital: list[dict[str, Any]] = field(default_factory=list)
    collapses: dict[str, datetime] = field(default_factory=dict)
    personas: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The truth as JSON (times ISO 8601, estate local time)."""
        return {"home_spans": {r: [[a.isoformat(), b.isoformat()] for a, b in spans]
                               for r, spans in self.home_spans.items()},
                "hospital": self.hospital, "collapses": {r: t.isoformat() for r, t in self.collapses.items()},
                "personas": self.personas}


@dataclass
class RoutineSimulation:
    """Residents (with their away notes), time-ordered events and the truth."""

    residents: list[Resident]
    events: list[dict[str, Any]]
    truth: RoutineTruth
    start: datetime
    end: datetime


def _persona(rng: random.Random) -> Persona:
    values = {name: rng.uniform(lo, hi) for name, (lo, hi) in RANGES.items()}
    return Persona(values, gate_user=rng.random() >= DOOR_ONLY_SHARE)


def _route_rng(seed: int, index: int) -> random.Random:
    """Resident ``index``'s own stream for the bedtime's trace (a string seed is hashed the same in every run)."""
    return random.Random(f"{seed}:{index}:bedtime")


def _fmt(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


class _Day:
    """One resident-day's plan: intervals away, quiet (no signal) and sparse (TV), all in local time."""

    def __init__(self) -> None:
        self.away: list[tuple[datetime, datetime]] = []
        self.quiet: list[tuple[datetime, datetime]] = []
        self.sparse: list[tuple[datetime, datetime]] = []
        self.visits: list[datetime] = []  # short bursts inside quiet time (bathroom at night)
        self.night: tuple[datetime, datetime] | None = None  # bed -> next wake-up


def _plan_day(rng: random.Random, p: Persona, day: datetime) -> _Day:
    v = p.values
    plan = _Day()
    shift = v["weekend_shift_h"] if day.weekday() >= 5 else 0.0
    bed = day + timedelta(hours=v["bed_h"] + shift + rng.gauss(0, 0.3))
    next_wake = day + timedelta(days=1, hours=v["wake_h"] + rng.gauss(0, 0.3))
    plan.quiet.append((bed, next_wake))
    plan.night = (bed, next_wake)
    for _ in range(_poisson(rng, v["night_visits"])):
        plan.visits.append(bed + (next_wake - bed) * rng.uniform(0.1, 0.9))
    if rng.random() < v["nap_prob"]:
        start = day + timedelta(hours=rng.uniform(13.0, 15.5))
        plan.quiet.append((start, start + timedelta(minutes=rng.uniform(25, v["nap_min"]))))
    if rng.random() < v["bath_prob"]:
        start = day + timedelta(hours=rng.choice((rng.uniform(8.5, 11), rng.uniform(18.5, 20.5))))
        plan.quiet.append((start, start + timedelta(minutes=rng.uniform(30, v["bath_min"]))))
    tv_start = day + timedelta(hours=rng.uniform(18.5, 19.5))
    plan.sparse.append((tv_start, min(bed, tv_start + timedelta(minutes=rng.uniform(60, v["tv_min"])))))
    if rng.random() < v["day_out_prob"]:
        leave = day + timedelta(hours=rng.uniform(8.5, 10.5))
        plan.away.append((leave, leave + timedelta(hours=rng.uniform(6, 11))))
    elif rng.random() < v["outing_prob"]:
        t = day + timedelta(hours=rng.uniform(9, 11))
        for _ in range(rng.randint(1, 2)):
            back = t + timedelta(minutes=rng.uniform(40, v["outing_min"]))
            if back.hour >= 19:
                break
            plan.away.append((t, back))
            t = back + timedelta(hours=rng.uniform(1.5, 4))
    return plan


def _poisson(rng: random.Random, mean: float) -> int:
    count, t = 0, rng.expovariate(1.0) if mean > 0 else 2.0
    while mean > 0 and t < mean:
        count += 1
        t += rng.expovariate(1.0)
    return count


def _inside(t: datetime, spans: list[tuple[datetime, datetime]]) -> tuple[datetime, datetime] | None:
    for a, b in spans:
        if a <= t < b:
            return a, b
    return None


class _Emitter:
    """Collects one flat's events inside the simulated window."""

    def __init__(self, cfg: RoutineSimConfig, unit: str) -> None:
        self.start, self.end, self.unit = cfg.start, cfg.start + timedelta(days=cfg.days), unit
        self.events: list[dict[str, Any]] = []

    def add(self, when: datetime, kind: str, **extra: str | float) -> None:
        if self.start <= when < self.end:
            self.events.append({"ts": _fmt(when), "kind": kind, "unit": self.unit, **extra})

    def access(self, when: datetime, rid: str, direction: str, gate: dict[str, str]) -> None:
        if self.start <= when < self.end:
            self.events.append({"ts": _fmt(when), "kind": "access", "resident": rid, "direction": direction, **gate})


def _outings(rng: random.Random, out: _Emitter, rid: str, p: Persona, away: list[tuple[datetime, datetime]]) -> None:
    """Leaving: the door (and the gate for residents it recognises); coming back: gate, door, hall motion."""
    for leave, back in away:
        out.add(leave, "door", state="open")
        if p.gate_user:
            gate = {"gate": rng.choice(("north", "south")), "method": rng.choice(("face", "card"))}
            out.access(leave + timedelta(minutes=rng.uniform(2, 6)), rid, "out", gate)
            out.access(back, rid, "in", gate)
            back = back + timedelta(minutes=rng.uniform(2, 5))
        out.add(back, "door", state="open")
        out.add(back + timedelta(minutes=rng.uniform(0.5, 3)), "motion", sensor="hall-pir")


def _home(away: list[tuple[datetime, datetime]], start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    home: list[tuple[datetime, datetime]] = []
    t = start
    for leave, back in away:
        if leave > t:
            home.append((t, min(leave, end)))
        t = max(t, back + 9 * MIN)  # inside the flat: after the gate, the door and the first motion
    if t < end:
        home.append((t, end))
    return [(a, b) for a, b in home if b > a]


def _activity(rng: random.Random, out: _Emitter, span: tuple[datetime, datetime], p: Persona,
              days: list[_Day]) -> None:
    """Signals while at home: frequent when up and about, sparse during TV, none asleep / napping / in the bath
    except bathroom visits at night; the end of each quiet time is always seen.
    """
    a, b = span
    quiet = sorted(q for d in days for q in d.quiet)
    sparse = sorted(q for d in days for q in d.sparse)
    t = a + timedelta(minutes=rng.uniform(1, 5))
    while t < b:
        q = _inside(t, quiet)
        if q is not None:
            t = q[1] + timedelta(minutes=rng.uniform(0, 3))
            continue
        room = rng.choice(("living-pir", "kitchen-pir", "hall-pir", "bathroom-pir", "bedroom-pir"))
        out.add(t, "motion", sensor=room)
        if room in ("kitchen-pir", "bathroom-pir") and rng.random() < 0.25:
            out.add(t + MIN, "water", litres=round(rng.uniform(0.5, 9), 1))
        gap = rng.uniform(15, 50) if _inside(t, sparse) else rng.expovariate(1 / p.values["active_gap_min"])
        t += timedelta(minutes=max(0.3, gap))
    for d in days:
        for visit in d.visits:
            if a <= visit < b:
                out.add(visit, "motion", sensor="bathroom-pir")
                out.add(visit + 2 * MIN, "water", litres=6.0)
        for _, q_end in d.quiet:
            if a <= q_end < b:
                out.add(q_end, "motion", sensor="bedroom-pir")


def _bedtime(rng: random.Random, out: _Emitter, span: tuple[datetime, datetime], p: Persona,
             days: list[_Day], quiet: list[tuple[datetime, datetime]]) -> None:
    """The trace of going to bed, on a ``bedtime_trace_prob`` share of nights: bathroom and tap 5-15 min before
    bed, the bedroom PIR as the night begins, and the bedroom PIR 3-6 min after each bathroom visit at night.
    """
    a, b = span
    share = p.values["bedtime_trace_prob"]
    for d in days:
        if d.night is None or not a <= d.night[0] < b or rng.random() >= share:
            continue
        bed, wake = d.night
        wash = bed - timedelta(minutes=rng.uniform(5, 15))
        if wash >= a and _inside(wash, quiet) is None:
            out.add(wash, "motion", sensor="bathroom-pir")
            out.add(wash + MIN, "water", litres=round(rng.uniform(1, 6), 1))
        out.add(bed, "motion", sensor="bedroom-pir")  # the last sign: the quiet begins in bed
        for visit in d.visits:
            back = visit + timedelta(minutes=rng.uniform(3, 6))
            if a <= visit and back < min(b, wake):
                out.add(back, "motion", sensor="bedroom-pir")


def _visitors(rng: random.Random, out: _Emitter, span: tuple[datetime, datetime], p: Persona,
              quiet: list[tuple[datetime, datetime]]) -> None:
    """A visitor: the door while the resident is home and awake, and the resident moves right after."""
    a, b = span
    day = a.replace(hour=0, minute=0, second=0)
    while day < b:
        when = day + timedelta(hours=rng.uniform(10, 19))
        if (a + 10 * MIN < when < b - 20 * MIN and rng.random() < p.values["visitor_prob"]
                and not _inside(when, quiet)):
            out.add(when, "door", state="open")
            out.add(when + timedelta(minutes=rng.uniform(0.3, 3)), "motion", sensor="hall-pir")
        day += timedelta(days=1)


def _resident_events(rng: random.Random, route: random.Random, cfg: RoutineSimConfig, r: Resident, p: Persona,
                     hospital: tuple[datetime, datetime] | None, truth: RoutineTruth) -> list[dict[str, Any]]:
    end = cfg.start + timedelta(days=cfg.days)
    days = [_plan_day(rng, p, cfg.start + timedelta(days=d)) for d in range(-1, int(cfg.days) + 1)]
    planned = [s for d in days for s in d.away if hospital is None or not (s[0] < hospital[1] and s[1] > hospital[0])]
    away = sorted(planned + ([hospital] if hospital else []))
    out = _Emitter(cfg, r.unit)
    _outings(rng, out, r.resident_id, p, away)
    truth.home_spans[r.resident_id] = _home(away, cfg.start, end)
    quiet = sorted(q for d in days for q in d.quiet)
    for span in truth.home_spans[r.resident_id]:
        _activity(rng, out, span, p, days)
        _bedtime(route, out, span, p, days, quiet)
        _visitors(rng, out, span, p, quiet)
    return out.events


def simulate_routines(cfg: RoutineSimConfig) -> RoutineSimulation:
    """Deterministic for a given config (seed included). Events sorted by time."""
    rng = random.Random(cfg.seed)
    end = cfg.start + timedelta(days=cfg.days)
    residents: list[Resident] = []
    events: list[dict[str, Any]] = []
    truth = RoutineTruth()
    for i in range(cfg.residents):
        p = _persona(rng)
        route = _route_rng(cfg.seed, i)
        p.values.update({name: route.uniform(lo, hi) for name, (lo, hi) in BEDTIME_RANGES.items()})
        rid, building = f"e{cfg.seed:03d}{i:04d}", "ABCDEF"[i % 6]
        unit = f"{building}-{i // 6 % 30 + 1}{i % 4 + 1:02d}"
        hospital = None
        away_notes: tuple[tuple[datetime, datetime], ...] = ()
        if rng.random() < HOSPITAL_PROB:
            leave = cfg.start + timedelta(days=rng.uniform(3, max(4.0, cfg.days - 7)), hours=rng.uniform(0, 6))
            leave = leave.replace(hour=10)
            hospital = (leave, leave + timedelta(days=rng.uniform(2, 6)))
            noted = rng.random() < HOSPITAL_NOTED
            truth.hospital.append({"resident": rid, "from": _fmt(hospital[0]), "to": _fmt(hospital[1]),
                                   "noted": noted})
            if noted:
                away_notes = (hospital,)
        r = Resident(rid, unit, building=building, elderly=True, lives_alone=True, away=away_notes)
        residents.append(r)
        truth.personas[rid] = {**{k: round(x, 2) for k, x in p.values.items()}, "gate_user": float(p.gate_user)}
        mine = _resident_events(rng, route, cfg, r, p, hospital, truth)
        if cfg.emergency:
            mine = _collapse(rng, cfg, rid, mine, truth)
        events.extend(mine)
    events.sort(key=lambda e: (e["ts"], e["kind"] != "access"))
    return RoutineSimulation(residents, events, truth, cfg.start, end)


def _collapse(rng: random.Random, cfg: RoutineSimConfig, rid: str, events: list[dict[str, Any]],
              truth: RoutineTruth) -> list[dict[str, Any]]:
    """A fall at a random at-home instant after the learning period: nothing is heard from the flat after it."""
    after = cfg.start + timedelta(days=cfg.emergency_after_days)
    spans = [(max(a, after), b) for a, b in truth.home_spans[rid] if b > after + timedelta(hours=1)]
    if not spans:
        return events
    total = sum((b - a).total_seconds() for a, b in spans)
    pick = rng.uniform(0, total)
    for a, b in spans:
        length = (b - a).total_seconds()
        if pick <= length:
            when = a + timedelta(seconds=pick)
            break
        pick -= length
    truth.collapses[rid] = when
    stamp = _fmt(when)
    return [e for e in events if e["ts"] < stamp]
