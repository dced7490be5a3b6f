"""Simulated residents: daily routines as access / door / motion / water events, with ground truth.

Households: elderly living alone (with gate face/card access, or "door-only" homes where the gates do not
recognise them), elderly living with family, other residents. Routines: nights with bathroom visits, mornings,
outings, visitors at the door, hospital stays, and streaks of days without going out.

Ground truth is the list of at-home stretches of every elderly resident living alone: from their return (gate in,
or the flat door in door-only homes) to the moment they open the door to leave. The first stretch starts at the
first signal from the flat: before it, nothing could know they were home.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Required, TypedDict

from alerts.presence import Resident
from alerts.resident_csv import residents_csv
from common import topics
from simulators.people import Person, invent, with_people

HOUR = timedelta(hours=1)
MIN = timedelta(minutes=1)


class SimEvent(TypedDict, total=False):
    """One line of EVENTS.jsonl (the replay contract): ``ts`` and ``kind`` always, the rest as the kind needs."""

    ts: Required[str]  # naive ISO: estate local time
    kind: Required[str]  # access, door, motion or water
    unit: str
    sensor: str
    state: str
    litres: float
    resident: str
    direction: str
    gate: str
    method: str


class Stretch(TypedDict):
    """An at-home stretch of a watched resident; ``end`` is None while they are still home."""

    resident: str
    start: str
    end: str | None


HospitalStay = TypedDict("HospitalStay", {"resident": str, "from": str, "to": str})
"""A simulated hospital stay: no alert may fire while the resident is away (``from`` is a keyword, hence the form)."""


class ExpectedAlert(TypedDict):
    """An elderly_not_out alert the truth says must be raised, and when it falls due."""

    resident: str
    start: str
    due: str


@dataclass(frozen=True)
class SimConfig:
    """The shape of a simulated estate: size, duration, seed and how often each kind of day happens."""

    residents: int = 20
    days: float = 10.0
    seed: int = 1
    start: datetime = datetime(2026, 3, 2)  # naive: estate local time, as in the replay contract
    # The defaults are the demo's estate: elderly people with habits (a morning errand at their usual hour, most
    # days an afternoon walk) who rarely stay in a whole day, so a day that lasts 48 s on the demo's fast clock
    # raises a handful of elderly alerts an hour, not a flood (docs/alerts.md, "Demo rate"). The rule tests ask for
    # the old irregular days (``habits=False``, outing 0.75, streaks 0.12) to exercise many long stretches.
    outing_prob: float = 0.998  # chance a normal day has outings
    streak_prob: float = 0.001  # chance a day starts a 1-3 day streak without going out
    habits: bool = True  # elderly leave at their own usual hours (else: any time between 8 and 11)
    night_visit_prob: float = 0.5  # chance of a bathroom visit in a night at home (the irregular days: 0.8)
    hospital_prob: float = 0.1  # chance a resident has one 2-4 day hospital stay
    visitor_prob: float = 0.3  # chance of a visitor at the door on a day at home
    awake_gap_min: tuple[float, float] = (3.0, 25.0)  # minutes between in-home signals while awake
    door_only_share: float = 0.3  # elderly living alone whose gates do not recognise them


@dataclass
class Truth:
    """At-home stretches of the residents the elderly_not_out rule watches, and what was simulated."""

    stretches: list[Stretch] = field(default_factory=list)  # end None: still home
    hospital: list[HospitalStay] = field(default_factory=list)
    watched: list[str] = field(default_factory=list)  # elderly living alone
    door_only: list[str] = field(default_factory=list)

    def expected_not_out(self, until: datetime, hours: float = 24.0) -> list[ExpectedAlert]:
        """Stretches still at home ``hours`` after they began (and before ``until``): each must raise one alert."""
        out: list[ExpectedAlert] = []
        for s in self.stretches:
            start, end = datetime.fromisoformat(s["start"]), s["end"]
            due = start + timedelta(hours=hours)
            if due <= until and (end is None or datetime.fromisoformat(end) > due):
                out.append({"resident": s["resident"], "start": s["start"], "due": due.isoformat()})
        return out


@dataclass
class Simulation:
    """A simulated estate: its residents, their time-ordered events and the ground truth to score rules against."""

    residents: list[Resident]
    events: list[SimEvent]
    truth: Truth
    end: datetime
    people: dict[str, Person] = field(default_factory=dict)  # names, ages, who to phone (simulators.people)

    def write(self, folder: Path) -> dict[str, Path]:
        """EVENTS.jsonl, RESIDENTS.csv (with the people columns: name, age, contacts) and truth.json in ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = {"events": folder / "events.jsonl", "residents": folder / "residents.csv",
                 "truth": folder / "truth.json"}
        with paths["events"].open("w", encoding="utf-8") as fh:
            for ev in self.events:
                fh.write(json.dumps(ev, separators=(",", ":")) + "\n")
        paths["residents"].write_text(self.residents_csv(self.residents), encoding="utf-8")
        truth = {"end": self.end.isoformat(), "stretches": self.truth.stretches, "hospital": self.truth.hospital,
                 "watched": self.truth.watched, "door_only": self.truth.door_only,
                 "expected_not_out": self.truth.expected_not_out(self.end)}
        paths["truth"].write_text(json.dumps(truth, indent=1), encoding="utf-8")
        return paths

    def residents_csv(self, residents: list[Resident]) -> str:
        """The import CSV of ``residents`` (these, or their time-scaled copies) with each one's name, age and
        contacts; every simulated resident consents.
        """
        return with_people(residents_csv(residents, consent=True), self.people)


@dataclass
class _Member:
    resident: Resident
    gate_user: bool
    outings: list[tuple[datetime, datetime]] = field(default_factory=list)  # (leave door, return)


def _fmt(when: datetime) -> str:
    return when.isoformat(timespec="seconds")


def _habit_outings(rng: random.Random, base: datetime, morning: float,
                   afternoon: float | None) -> list[tuple[datetime, datetime]]:
    """One ordinary day of a person of habits: the morning errand near its usual hour, maybe the afternoon walk."""
    leave = base + timedelta(hours=morning + rng.uniform(-1 / 3, 1 / 3))
    out = [(leave, leave + timedelta(minutes=rng.uniform(45, 120)))]
    if afternoon is not None and rng.random() < 0.8:
        walk = base + timedelta(hours=afternoon + rng.uniform(-0.5, 0.5))
        out.append((walk, walk + timedelta(minutes=rng.uniform(30, 90))))
    return out


def _plan_outings(rng: random.Random, cfg: SimConfig, elderly: bool) -> list[tuple[datetime, datetime]]:
    """(leave, return) pairs: outings on ordinary days, streaks at home, maybe one hospital stay."""
    outings: list[tuple[datetime, datetime]] = []
    habits = cfg.habits and elderly
    morning = rng.uniform(7.0, 9.5) if habits else 0.0
    afternoon = rng.uniform(14.5, 17.0) if habits and rng.random() < 0.85 else None
    days = int(cfg.days + 1)
    streak_until = -1
    hospital_day = rng.randrange(1, max(2, days - 2)) if rng.random() < cfg.hospital_prob else -1
    day = 0
    while day < days:
        base = cfg.start + timedelta(days=day)
        if day == hospital_day:
            leave = base + timedelta(hours=rng.uniform(9, 16))
            back = leave + timedelta(days=rng.uniform(2, 4))
            if habits:  # discharged in the daytime, then back to their habits the next morning
                back = back.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(hours=rng.uniform(10, 16))
            outings.append((leave, back))
            day = (back - cfg.start).days + 1
            continue
        if day > streak_until and rng.random() < cfg.streak_prob:
            streak_until = day + rng.randint(1, 3) - 1
        goes_out = day > streak_until and rng.random() < cfg.outing_prob
        if goes_out and habits:
            outings.extend(_habit_outings(rng, base, morning, afternoon))
        elif goes_out:
            t = base + timedelta(hours=rng.uniform(8, 11))
            for _ in range(rng.randint(1, 2)):
                back = t + timedelta(minutes=rng.uniform(30, 180 if elderly else 600))
                outings.append((t, back))
                t = back + timedelta(hours=rng.uniform(1, 4))
                if t.hour >= 18 or t.date() != base.date():
                    break
        day += 1
    return outings


def _home_intervals(outings: list[tuple[datetime, datetime]], start: datetime, end: datetime,
                    ) -> list[tuple[datetime, datetime]]:
    spans, t = [], start
    for leave, back in outings:
        if leave > t:
            spans.append((t, min(leave, end)))
        t = max(t, back)
    if t < end:
        spans.append((t, end))
    return [(a, b) for a, b in spans if a < end]


def _awake(when: datetime, wake: float, sleep: float) -> bool:
    hour = (when - when.replace(hour=0, minute=0, second=0, microsecond=0)).total_seconds() / 3600
    return wake <= hour < sleep


def _activity(rng: random.Random, cfg: SimConfig, unit: str, span: tuple[datetime, datetime], wake: float,
              sleep: float) -> Iterator[SimEvent]:
    """In-home motion and water while someone is home: frequent by day, a bathroom visit or two at night."""
    t, end = span
    t += timedelta(minutes=rng.uniform(6, 9))  # after the return door and the settling-in signal
    night_visit_done: set[object] = set()
    while t < end:
        if _awake(t, wake, sleep):
            sensor = rng.choice(("living-pir", "kitchen-pir", "hall-pir"))
            yield {"ts": _fmt(t), "kind": "motion", "unit": unit, "sensor": sensor}
            if rng.random() < 0.08:
                yield {"ts": _fmt(t + MIN), "kind": "water", "unit": unit, "litres": round(rng.uniform(0.5, 8), 1)}
            t += timedelta(minutes=rng.uniform(*cfg.awake_gap_min))
            continue
        night = (t - timedelta(hours=12)).date()
        if night not in night_visit_done and rng.random() < cfg.night_visit_prob:
            night_visit_done.add(night)
            visit = t + timedelta(hours=rng.uniform(1, 4))
            if visit < end and not _awake(visit, wake, sleep):
                yield {"ts": _fmt(visit), "kind": "motion", "unit": unit, "sensor": "bathroom-pir"}
                yield {"ts": _fmt(visit + 2 * MIN), "kind": "water", "unit": unit, "litres": 6.0}
                t = visit + 5 * MIN
                continue
        night_visit_done.add(night)
        # jump to wake-up time
        wake_at = t.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(hours=wake, seconds=1)
        if wake_at <= t:
            wake_at += timedelta(days=1)
        t = wake_at


def simulate(cfg: SimConfig) -> Simulation:
    """Deterministic for a given config (seed included)."""
    rng = random.Random(cfg.seed)
    end = cfg.start + timedelta(days=cfg.days)
    residents: list[Resident] = []
    events: list[SimEvent] = []
    truth = Truth()
    made, unit_no = 0, 0
    while made < cfg.residents:
        unit_no += 1
        building = "ABCDEF"[unit_no % 6]
        unit = f"{building}-{(unit_no // 6) % 30 + 1}{unit_no % 4 + 1:02d}"
        kind = rng.choices(("elderly_alone", "elderly_family", "other_alone", "family"), (5, 2, 1, 2))[0]
        size = 1 if kind.endswith("alone") else min(rng.randint(2, 3), cfg.residents - made)
        members: list[_Member] = []
        for i in range(size):
            made += 1
            elderly = kind.startswith("elderly") and i < 2 if size > 1 else kind.startswith("elderly")
            r = Resident(f"r{made:05d}", unit, building=building, elderly=elderly, lives_alone=size == 1)
            residents.append(r)
            door_only = kind == "elderly_alone" and rng.random() < cfg.door_only_share
            members.append(_Member(r, gate_user=not door_only,
                                   outings=_plan_outings(rng, cfg, elderly)))
        events.extend(_unit_events(rng, cfg, unit, members, end, truth))
    events.sort(key=lambda e: (e["ts"], e["kind"] != "access"))
    return Simulation(residents, events, truth, end, invent(residents, cfg.seed))


def _unit_events(rng: random.Random, cfg: SimConfig, unit: str, members: list[_Member], end: datetime,
                 truth: Truth) -> list[SimEvent]:
    events: list[SimEvent] = []
    wake, sleep = rng.uniform(6, 7.5), rng.uniform(21, 22.5)
    for m in members:
        rid = m.resident.resident_id
        for leave, back in m.outings:
            if leave >= end:
                break
            events.append({"ts": _fmt(leave), "kind": "door", "unit": unit, "state": "open"})
            if m.gate_user:
                events.append({"ts": _fmt(leave + timedelta(minutes=rng.uniform(2, 6))), "kind": "access",
                               "resident": rid, "direction": "out", "gate": rng.choice(("north", "south")),
                               "method": rng.choice(("face", "card"))})
            if back - leave > timedelta(days=1.5):
                truth.hospital.append({"resident": rid, "from": _fmt(leave), "to": _fmt(back)})
            if back >= end:
                continue
            door_at = back
            if m.gate_user:
                events.append({"ts": _fmt(back), "kind": "access", "resident": rid, "direction": "in",
                               "gate": rng.choice(("north", "south")), "method": rng.choice(("face", "card"))})
                door_at = back + timedelta(minutes=rng.uniform(2, 5))
            events.append({"ts": _fmt(door_at), "kind": "door", "unit": unit, "state": "open"})
            # settling in: whoever comes home moves about at once, even at night
            events.append({"ts": _fmt(door_at + timedelta(minutes=rng.uniform(1, 5))), "kind": "motion",
                           "unit": unit, "sensor": "hall-pir"})
    # in-home activity while anyone is home (first member's rhythm for the household)
    union = _union([_home_intervals(m.outings, cfg.start, end) for m in members])
    for span in union:
        events.extend(_activity(rng, cfg, unit, span, wake, sleep))
    if len(members) == 1:
        _visitors_and_truth(rng, cfg, members[0], union, events, wake, sleep, end, truth)
    return events


def _union(lists: list[list[tuple[datetime, datetime]]]) -> list[tuple[datetime, datetime]]:
    spans = sorted(s for lst in lists for s in lst)
    merged: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def _visitors_and_truth(rng: random.Random, cfg: SimConfig, m: _Member, spans: list[tuple[datetime, datetime]],
                        events: list[SimEvent], wake: float, sleep: float, end: datetime,
                        truth: Truth) -> None:
    unit = m.resident.unit
    for a, b in spans:  # visitors: a door event while home, the resident moves right after
        day = a.replace(hour=0, minute=0, second=0)
        while day < b:
            when = day + timedelta(hours=rng.uniform(wake + 1, sleep - 1))
            if a + 10 * MIN < when < b - 20 * MIN and rng.random() < cfg.visitor_prob:
                events.append({"ts": _fmt(when), "kind": "door", "unit": unit, "state": "open"})
                events.append({"ts": _fmt(when + timedelta(minutes=rng.uniform(0.5, 4))), "kind": "motion",
                               "unit": unit, "sensor": "hall-pir"})
            day += timedelta(days=1)
    r = m.resident
    if not (r.elderly and r.lives_alone):
        return
    truth.watched.append(r.resident_id)
    if not m.gate_user:
        truth.door_only.append(r.resident_id)
    for i, (a, b) in enumerate(spans):
        start = a
        if i == 0 and a == cfg.start:  # the first stretch starts at the first signal from the flat
            first = min((e["ts"] for e in events if e["kind"] != "access"), default=None)
            if first is None:
                continue
            start = datetime.fromisoformat(first)
        truth.stretches.append({"resident": r.resident_id, "start": _fmt(start),
                                "end": None if b >= end else _fmt(b)})


def time_scaled(residents: list[Resident], speed: float) -> list[Resident]:
    """Residents whose rule hours run ``speed`` times faster, for a live demo on the fast clock."""
    return [replace(r, not_out_hours=r.not_out_hours / speed, no_sign_hours=r.no_sign_hours / speed)
            for r in residents]


def mqtt_messages(sim: Simulation, site: str, tz: tzinfo,
                  stamp_at: Callable[[datetime], datetime] | None = None) -> Iterator[tuple[datetime, str, bytes]]:
    """(stamped time, topic, payload) per event in the integrator protocol (``estate/{site}/...``).

    ``stamp_at`` maps simulated time to the time written in the payload (the fast clock of a live demo).
    """
    for ev in sim.events:
        ts = datetime.fromisoformat(ev["ts"]).replace(tzinfo=tz)
        if stamp_at is not None:
            ts = stamp_at(ts)
        stamp = ts.isoformat()
        if ev["kind"] == "access":
            topic = topics.access(site, ev["gate"])
            body: dict[str, str | float] = {"ts": stamp, "person": ev["resident"], "direction": ev["direction"],
                                    "method": ev["method"]}
        elif ev["kind"] == "door":
            topic, body = topics.unit(site, ev["unit"], "door"), {"ts": stamp, "state": ev["state"]}
        elif ev["kind"] == "motion":
            topic, body = topics.unit(site, ev["unit"], "motion"), {"ts": stamp, "sensor": ev["sensor"]}
        else:
            topic, body = topics.unit(site, ev["unit"], "water"), {"ts": stamp, "litres": ev["litres"]}
        yield ts, topic, json.dumps(body).encode()
