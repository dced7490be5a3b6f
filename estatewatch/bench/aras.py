"""ARAS smart-home recordings (Bogazici University, houses A and B, 30 days each) as EstateWatch events.

The recordings carry no licence for redistribution (research use, cite Alemdar et al., PervasiveHealth 2013), so
nothing of them is committed. ``materialise`` copies a house's 30 day files into the cache (``EW_ARAS_CACHE``,
default ``var/cache/aras/<house>/``) from a local mirror of the public repository that carries them
(``EW_ARAS_MIRROR``, default ``/work/.mirror``; ``git show COMMIT:PATH``), or with ``EW_ARAS_CLONE=1`` from a
``git clone`` of it, read at the pinned commit.

Format: one file per day, 86,400 lines (one a second from 00:00:00), 20 binary sensor columns and the activity of
resident 1 and 2. The two houses have different sensor layouts (the dataset's README_a.txt / README_b.txt, in
``LAYOUTS``). Mapping, per house: any change of the house door contact (A: Co1, column 12; B: co3, column 3) -> flat
door; the tap (A: Di1, B: di2) and water closet (A: Di2; B has none) switching on -> water; every other change of a
sensor, on or off -> motion, at most one motion sign per 30 s, each sign named by the column and edge of the first
sensor that switched (``c7 on``: the routine's last-sign counts, ``alerts.inactivity.place``). Every ARAS sensor is
a state sensor that a person moves (a contact opened or closed, a pressure mat or force sensor sat on or left, a
photocell uncovered or covered, a distance or sonar sensor approached or left), so its switching off is as much a
sign of life as its switching on (unlike a PIR motion sensor, whose OFF is a timeout). House A's temperature column
(Te1, column 19) is dropped. At home: any second in which not both residents are labelled "Going Out" (activity 2).
Both houses have two residents, so they are evaluated as households (report only). The files carry no dates: day 1
is placed on a Monday (``NOMINAL_START``), so which days count as weekends is nominal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from alerts.presence import PresenceEvent
from estatewatch.bench.casas import CasasError, CasasHome, copy_pinned, load_each

REPO = "ronsm/ARAS-SKMulti-Model-Generator"
COMMIT = "e6bb6a257367f4cc1579ad99b353319bad8900eb"
HOUSES = {"A": "datasets/aras/a/days", "B": "datasets/aras/b/days"}
DAYS = 30
COLUMNS = 22
GOING_OUT = 2


@dataclass(frozen=True)
class Layout:
    """Which 0-based sensor columns of a house are its entrance door, its water sensors and what is no sign."""

    door: int
    water: tuple[int, ...]
    dropped: tuple[int, ...]


# From the dataset's own README_a.txt / README_b.txt (1-based columns there): A Co1 = 12 house door, Di1 = 17 tap,
# Di2 = 18 water closet, Te1 = 19 temperature; B co3 = 3 house door, di2 = 7 tap, no water closet, no temperature.
LAYOUTS = {"A": Layout(door=11, water=(16, 17), dropped=(18,)), "B": Layout(door=2, water=(6,), dropped=())}
MOTION_EVERY_S = 30
NOMINAL_START = datetime(2013, 1, 7)  # a Monday; the recordings carry no dates
TZ = ZoneInfo("Europe/Istanbul")
SOURCE = {"dataset": "ARAS", "repo": REPO, "commit": COMMIT,
          "licence": "ARAS terms: research use, cite Alemdar et al. 2013; not redistributed",
          "tz": "Europe/Istanbul"}


def cache_dir(explicit: Path | None = None) -> Path:
    """Where fetched recordings live (never committed)."""
    return explicit or Path(os.environ.get("EW_ARAS_CACHE", "var/cache/aras"))


def materialise(house: str, cache: Path) -> list[Path]:
    """The 30 cached day files of ``house``; copied in from a mirror or a clone when missing. Raises CasasError."""
    if house not in HOUSES:
        raise CasasError(f"unknown ARAS house {house!r}")
    folder = cache / house
    targets = [folder / f"DAY_{day}.csv" for day in range(1, DAYS + 1)]
    if all(t.is_file() and t.stat().st_size > 0 for t in targets):
        return targets
    copy_pinned(f"ARAS {house}", "ARAS", REPO, COMMIT, {t: f"{HOUSES[house]}/{t.name}" for t in targets},
                cache / "_clone")
    return targets


def read_day(text: str, name: str = "day") -> npt.NDArray[np.int16]:
    """One day file as an 86,400 x 22 array. Raises CasasError when it is not in the ARAS format."""
    try:
        values = np.array(text.split(), dtype=np.int16)
    except ValueError as exc:
        raise CasasError(f"{name}: not integer columns ({exc})") from exc
    if values.size != 86_400 * COLUMNS:
        raise CasasError(f"{name}: expected 86400 lines of {COLUMNS} columns, got {values.size} values")
    return values.reshape(86_400, COLUMNS)


def to_events(days: list[npt.NDArray[np.int16]], unit: str, start: datetime,
              layout: Layout) -> tuple[list[PresenceEvent], list[tuple[datetime, datetime]]]:
    """(signs of life as events, at-home spans) of consecutive days of one house, in local time ``start`` on."""
    data = np.concatenate(days)
    sensors = data[:, :20].astype(np.int8)
    change = np.diff(sensors, axis=0, prepend=sensors[:1])
    t0 = start.replace(tzinfo=TZ)
    door = layout.door
    water = list(layout.water)
    door_s = np.nonzero(change[:, door])[0]
    water_s = np.nonzero((change[:, water] > 0).any(axis=1))[0] if water else np.zeros(0, dtype=np.intp)
    others = [c for c in range(20) if c != door and c not in layout.dropped]
    moved = (change[:, others] != 0).any(axis=1)
    moved[water_s] = False  # a tap turned on is already a water sign
    rows: list[tuple[int, int, str]] = [(int(s), 0, "door") for s in door_s]
    rows += [(int(s), 1, _sign_name(change[s], water)) for s in water_s.tolist()]
    last = -MOTION_EVERY_S
    for s in np.nonzero(moved)[0].tolist():
        if s - last >= MOTION_EVERY_S:
            rows.append((s, 2, _sign_name(change[s], others)))
            last = s
    rows.sort()
    events: list[PresenceEvent] = []
    for s, order, name in rows:
        ts = t0 + timedelta(seconds=s)
        if order == 0:
            state = "open" if change[s, door] > 0 else "closed"
            events.append(PresenceEvent(ts, "door", unit=unit, state=state))
        elif order == 1:
            events.append(PresenceEvent(ts, "water", unit=unit, litres=1.0, sensor=name))
        else:
            events.append(PresenceEvent(ts, "motion", unit=unit, sensor=name))
    home = ~((data[:, 20] == GOING_OUT) & (data[:, 21] == GOING_OUT))
    edges = np.flatnonzero(np.diff(np.concatenate(([0], home.astype(np.int8), [0]))))
    spans = [(t0 + timedelta(seconds=int(a)), t0 + timedelta(seconds=int(b)))
             for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return events, spans


def _sign_name(row: np.ndarray, columns: list[int]) -> str:
    """Which sensor (1-based column) switched, and which way: the first of ``columns`` that changed in ``row``."""
    for c in columns:
        if row[c] != 0:
            return f"c{c + 1} {'on' if row[c] > 0 else 'off'}"
    return "c?"


def load_house(house: str, cache: Path | None = None) -> CasasHome:
    """One house, materialised into the cache when needed, parsed and mapped."""
    paths = materialise(house, cache_dir(cache))
    days = [read_day(p.read_text(encoding="ascii", errors="replace"), p.name) for p in paths]
    name = f"aras_{house.lower()}"
    events, spans = to_events(days, name, NOMINAL_START, LAYOUTS[house])
    if not events:
        raise CasasError(f"ARAS {house}: no signs of life")
    start = NOMINAL_START.replace(tzinfo=TZ)
    return CasasHome(name, TZ, events, spans, start, float(len(days)), {**SOURCE, "path": HOUSES[house]})


def load_available(cache: Path | None = None) -> tuple[list[CasasHome], list[dict[str, str]]]:
    """Every ARAS house that can be had here, and for the others why not."""
    return load_each(HOUSES, load_house, cache, label="ARAS ")
