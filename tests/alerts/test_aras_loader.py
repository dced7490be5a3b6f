"""The ARAS loader on synthetic day files in the ARAS layout (the real files are fetched, never committed)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from estatewatch.bench.aras import GOING_OUT, LAYOUTS, TZ, read_day, to_events
from estatewatch.bench.casas import CasasError


def _day() -> np.ndarray:
    day = np.zeros((86_400, 22), dtype=np.int16)
    day[:, 20:] = 11  # both asleep / at home
    return day


def test_signs_of_life_doors_water_and_when_the_house_is_empty() -> None:
    a = LAYOUTS["A"]
    day = _day()
    day[8 * 3600:8 * 3600 + 40, 15] = 1  # kitchen sonar on for 40 s (its off is a sign too), again 10 s later
    day[8 * 3600 + 50:8 * 3600 + 55, 15] = 1  # at most one motion sign per 30 s
    day[9 * 3600:9 * 3600 + 5, a.water[0]] = 1  # tap on: water; off 5 s later: inside the 30 s of that sign
    day[:, a.dropped[0]] = np.arange(86_400) % 2  # temperature flicker: no sign of life
    day[10 * 3600:10 * 3600 + 3, a.door] = 1  # the door opens and closes
    day[10 * 3600 + 3:14 * 3600, 20:] = GOING_OUT  # both out 10:00-14:00
    start = datetime(2013, 1, 7)
    events, spans = to_events([day, _day()], "aras_t", start, a)
    kinds = [(e.kind, e.ts - start.replace(tzinfo=TZ)) for e in events]
    assert kinds == [("motion", timedelta(hours=8)), ("motion", timedelta(hours=8, seconds=40)),
                     ("water", timedelta(hours=9)), ("motion", timedelta(hours=9, seconds=5)),
                     ("door", timedelta(hours=10)), ("door", timedelta(hours=10, seconds=3))]
    assert [e.state for e in events if e.kind == "door"] == ["open", "closed"]
    t0 = start.replace(tzinfo=TZ)
    assert spans == [(t0, t0 + timedelta(hours=10, seconds=3)), (t0 + timedelta(hours=14), t0 + timedelta(days=2))]


def test_each_house_has_its_own_layout() -> None:
    """House B's column 3 is its door and column 12 a kitchen drawer; in house A column 12 is the door."""
    day = _day()
    day[3600:3605, 2] = 1  # B: co3, house door (A: IR TV receiver)
    day[7200:7205, 11] = 1  # B: ph2, kitchen drawer (A: Co1, house door)
    day[9000:9005, 18] = 1  # B: so2, kitchen sonar (A: Te1, temperature, dropped)
    start = datetime(2013, 1, 7)
    by_house = {h: [(e.kind, int((e.ts - start.replace(tzinfo=TZ)).total_seconds()))
                    for e in to_events([day], "t", start, LAYOUTS[h])[0]] for h in ("A", "B")}
    assert by_house["B"] == [("door", 3600), ("door", 3605), ("motion", 7200), ("motion", 9000)]
    assert by_house["A"] == [("motion", 3600), ("door", 7200), ("door", 7205)]  # one motion sign per 30 s


def test_a_file_that_is_not_an_aras_day_is_refused() -> None:
    with pytest.raises(CasasError, match="86400 lines"):
        read_day("0 0 1\n", "DAY_1.csv")
    with pytest.raises(CasasError, match="integer"):
        read_day("a b c\n", "DAY_1.csv")
