"""Van Kasteren's houses B and C (University of Amsterdam, 2008-2009) as EstateWatch events.

Two single-resident homes with binary sensors, described in T.L.M. van Kasteren, G. Englebienne, B.J.A. Kröse,
"Transferring Knowledge of Activity Recognition across Sensor Networks", Pervasive 2010: house B, a man living
alone in a flat (July-August 2009, 27 days recorded, 14 of them annotated), house C, a man living alone in a house
(November-December 2008, 18 days, all annotated). House A of the same series is kept for independent evaluation
and is never read here. The recordings are offered for research with citation, not for redistribution, so nothing
of them is committed: ``materialise`` copies the original text files (``houseX-ss.txt`` sensor intervals,
``houseX-as.txt`` activity intervals) into the cache (``EW_KASTEREN_CACHE``, default ``var/cache/kasteren/<house>/``)
from a local mirror of a public repository that carries them (``EW_KASTEREN_MIRROR``, default ``/work/.mirror``;
``git show COMMIT:PATH``) or, with ``EW_KASTEREN_CLONE=1``, from a ``git clone`` of it, read at the pinned commit.

Format: ``start<TAB>end<TAB>sensor id`` per line, local wall time (``21-Jul-2009 13:30:12``); a sensor is active
from start to end. Sensor ids and names: the repository's ``sensorMap{B,C}-ids.txt``, checked against the recording:
the front door (B 7, C 28) opens and closes within a minute of most "leave house" labels. Mapping: either edge of
the front door -> flat door; the start of a water sensor's activation (toilet flush, sink float) -> water; the start
of any other activation -> motion, and its end too for contact, pressure and mercury sensors (a person closes the
cupboard or leaves the bed) but not for PIRs (whose end is a timeout) nor for the few ids the name table does not
list (their kind is unknown). Each sign is named by its sensor and edge (``s12 on``, ``s12 off``: the routine's
last-sign counts, ``alerts.inactivity.place``). At home: outside the "leave house" labels within the annotated
period; before it (house B's first 3 days, kept as history), the recording minus door-then-silence gaps of 2 h or
more and outages of 24 h or more, as for CASAS homes without labels. The recording is used up to the end of the
labels: house B goes on for 10 days after them with silences of 16-51 h and no door event (outages or absences that
nothing tells apart), where there is no at-home truth.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from alerts.presence import PresenceEvent
from estatewatch.bench.casas import CasasError, CasasHome, copy_pinned, load_each
from estatewatch.bench.casas import home_spans as heuristic_spans

REPO = "agnesvanbelle/TL"
COMMIT = "22d0103a65b7478ddb285d3beffe91f9eb1a5975"
FOLDER = "source/source-code/data_conversion"
TZ = ZoneInfo("Europe/Amsterdam")
LEAVE_HOUSE = 1  # activity id of "leave house" in houseX-as.txt
SOURCE = {"dataset": "van Kasteren", "repo": REPO, "commit": COMMIT,
          "licence": "research use with citation (van Kasteren et al., Pervasive 2010); not redistributed",
          "tz": "Europe/Amsterdam"}


@dataclass(frozen=True)
class Layout:
    """A house's front door, water sensors, PIRs and the sensor ids its name table lists."""

    door: int
    water: frozenset[int]
    pir: frozenset[int]
    named: frozenset[int]


# From sensorMapB-ids.txt / sensorMapC-ids.txt of the repository (ids as in houseX-ss.txt).
LAYOUTS = {
    "B": Layout(door=7, water=frozenset({6, 21}), pir=frozenset({16, 19, 28}),
                named=frozenset({1, 3, 5, 6, 7, 9, 10, 12, 13, 14, 15, 16, 18, 19, 21, 26, 27, 28})),
    "C": Layout(door=28, water=frozenset({8, 10, 38}), pir=frozenset({35, 36}),
                named=frozenset({5, 6, 7, 8, 10, 15, 16, 18, 20, 21, 22, 23, 25, 27, 28, 29, 30, 35, 36, 38, 39})),
}
FILES = ("ss", "as")


def cache_dir(explicit: Path | None = None) -> Path:
    """Where fetched recordings live (never committed)."""
    return explicit or Path(os.environ.get("EW_KASTEREN_CACHE", "var/cache/kasteren"))


def materialise(house: str, cache: Path) -> tuple[Path, Path]:
    """The cached (sensor, activity) files of ``house``; copied in from a mirror or a clone when missing."""
    if house not in LAYOUTS:
        raise CasasError(f"unknown van Kasteren house {house!r} (house A is kept for independent evaluation)")
    folder = cache / house
    targets = tuple(folder / f"house{house}-{kind}.txt" for kind in FILES)
    if all(t.is_file() and t.stat().st_size > 0 for t in targets):
        return targets[0], targets[1]
    copy_pinned(f"van Kasteren {house}", "KASTEREN", REPO, COMMIT, {t: f"{FOLDER}/{t.name}" for t in targets},
                cache / "_clone")
    return targets[0], targets[1]


def read_intervals(text: str, name: str) -> list[tuple[datetime, datetime, int]]:
    """``start<TAB>end<TAB>id`` lines as (start, end, id), local time. Bad lines raise CasasError with their number."""
    out: list[tuple[datetime, datetime, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        parts = [p.strip() for p in line.split("\t") if p.strip()]
        if not parts:
            continue
        if len(parts) < 3:
            raise CasasError(f"{name} line {number}: expected 'start<TAB>end<TAB>id', got {line.strip()[:80]!r}")
        try:
            start = datetime.strptime(parts[0], "%d-%b-%Y %H:%M:%S").replace(tzinfo=TZ)
            end = datetime.strptime(parts[1], "%d-%b-%Y %H:%M:%S").replace(tzinfo=TZ)
            ident = int(parts[2])
        except ValueError as exc:
            raise CasasError(f"{name} line {number}: {exc}") from exc
        if end < start:
            raise CasasError(f"{name} line {number}: ends before it starts")
        out.append((start, end, ident))
    return out


def to_events(sensors: list[tuple[datetime, datetime, int]], unit: str, layout: Layout) -> list[PresenceEvent]:
    """Signs of life of one house in time order (see the module's mapping)."""
    rows: list[tuple[datetime, int, PresenceEvent]] = []
    for start, end, ident in sensors:
        if ident == layout.door:
            rows.append((start, 0, PresenceEvent(start, "door", unit=unit, state="open")))
            rows.append((end, 0, PresenceEvent(end, "door", unit=unit, state="closed")))
        elif ident in layout.water:
            rows.append((start, 1, PresenceEvent(start, "water", unit=unit, litres=1.0, sensor=f"s{ident} on")))
            rows.append((end, 2, PresenceEvent(end, "motion", unit=unit, sensor=f"s{ident} off")))
        else:
            rows.append((start, 2, PresenceEvent(start, "motion", unit=unit, sensor=f"s{ident} on")))
            if ident in layout.named and ident not in layout.pir:
                rows.append((end, 2, PresenceEvent(end, "motion", unit=unit, sensor=f"s{ident} off")))
    rows.sort(key=lambda r: (r[0], r[1]))
    return [r[2] for r in rows]


def home_spans(events: list[PresenceEvent],
               activities: list[tuple[datetime, datetime, int]]) -> list[tuple[datetime, datetime]]:
    """At home, up to the end of the labels: outside "leave house" inside them, before them (house B's first days)
    the recording minus door-then-silence gaps and outages (``casas.home_spans``).
    """
    if not events or not activities:
        return heuristic_spans(events, [])
    lo = min(a for a, _, _ in activities)
    hi = max(b for _, b, _ in activities)
    spans = heuristic_spans([e for e in events if e.ts <= lo], [])
    if spans:
        spans[-1] = (spans[-1][0], lo)  # at home from the last sign before the labels to their start
    t = max(lo, events[0].ts)
    for a, b, ident in sorted(activities):
        if ident == LEAVE_HOUSE:
            if a > t:
                spans.append((t, a))
            t = max(t, b)
    if hi > t:
        spans.append((t, hi))
    merged: list[tuple[datetime, datetime]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        elif b > a:
            merged.append((a, b))
    return merged


def load_house(house: str, cache: Path | None = None) -> CasasHome:
    """One house, materialised into the cache when needed, parsed and mapped."""
    ss, acts = materialise(house, cache_dir(cache))
    sensors = read_intervals(ss.read_text(encoding="latin-1"), ss.name)
    activities = read_intervals(acts.read_text(encoding="latin-1"), acts.name)
    name = f"kasteren_{house.lower()}"
    events = to_events(sensors, name, LAYOUTS[house])
    if activities:  # no at-home truth after the labels end (house B: 10 more days with gaps of 16-51 h)
        labelled_until = max(b for _, b, _ in activities)
        events = [e for e in events if e.ts <= labelled_until]
    if not events:
        raise CasasError(f"van Kasteren {house}: no signs of life")
    start = events[0].ts
    days = (events[-1].ts - start) / timedelta(days=1)
    return CasasHome(name, TZ, events, home_spans(events, activities), start, days,
                     {**SOURCE, "path": f"{FOLDER}/house{house}-ss.txt"})


def load_available(cache: Path | None = None) -> tuple[list[CasasHome], list[dict[str, str]]]:
    """Every van Kasteren house (B, C) that can be had here, and for the others why not."""
    return load_each(LAYOUTS, load_house, cache, label="van Kasteren ")
