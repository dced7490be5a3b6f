"""The ARAS loader on synthetic day files in the ARAS layout (the real files are fetched, never committed)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from estatewatch.bench.aras import DOOR, GOING_OUT, TAP, TEMPERATURE, TZ, read_day, to_events
from estatewatch.bench.casas import CasasError


def _day() -> np.ndarray:
    day = np.zeros((86_400, 22), dtype=np.int16)
    day[:, 20:] = 11  # both asleep / at home
    return day


def test_signs_of_life_doors_water_and_when_the_house_is_empty() -> None:
    day = _day()
    day[8 * 3600:8 * 3600 + 40, 15] = 1  # kitchen sonar on for 40 s, then again 10 s later: one sign per 30 s
    day[8 * 3600 + 50:8 * 3600 + 55, 15] = 1
    day[9 * 3600:9 * 3600 + 5, TAP] = 1
    day[:, TEMPERATURE] = np.arange(86_400) % 2  # temperature flicker: no sign of life
    day[10 * 3600:10 * 3600 + 3, DOOR] = 1  # the door opens and closes
    day[10 * 3600 + 3:14 * 3600, 20:] = GOING_OUT  # both out 10:00-14:00
    start = datetime(2013, 1, 7)
    events, spans = to_events([day, _day()], "aras_t", start)
    kinds = [(e.kind, e.ts - start.replace(tzinfo=TZ)) for e in events]
    assert kinds == [("motion", timedelta(hours=8)), ("motion", timedelta(hours=8, seconds=50)),
                     ("water", timedelta(hours=9)), ("door", timedelta(hours=10)),
                     ("door", timedelta(hours=10, seconds=3))]
    assert [e.state for e in events if e.kind == "door"] == ["open", "closed"]
    t0 = start.replace(tzinfo=TZ)
    assert spans == [(t0, t0 + timedelta(hours=10, seconds=3)), (t0 + timedelta(hours=14), t0 + timedelta(days=2))]


def test_a_file_that_is_not_an_aras_day_is_refused() -> None:
    with pytest.raises(CasasError, match="86400 lines"):
        read_day("0 0 1\n", "DAY_1.csv")
    with pytest.raises(CasasError, match="integer"):
        read_day("a b c\n", "DAY_1.csv")
