"""The van Kasteren loader on lines written here in the dataset's layout (the real files are fetched, never
committed)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from estatewatch.bench.casas import CasasError
from estatewatch.bench.kasteren import LAYOUTS, TZ, home_spans, materialise, read_intervals, to_events

SENSORS = "\n".join([
    "24-Jul-2009 08:00:00\t24-Jul-2009 08:00:01\t28\t",  # kitchen PIR: its end is a timeout, no sign
    "24-Jul-2009 08:05:00\t24-Jul-2009 08:05:30\t3\t",  # fridge opened, closed 30 s later: two signs
    "24-Jul-2009 08:10:00\t24-Jul-2009 08:10:20\t6\t",  # toilet flush: water
    "24-Jul-2009 08:20:00\t24-Jul-2009 08:20:05\t7\t",  # front door open, closed
    "24-Jul-2009 08:21:00\t24-Jul-2009 08:21:02\t23\t",  # an id the name table does not list: start only
    "24-Jul-2009 12:00:00\t24-Jul-2009 12:00:04\t7\t",  # back through the front door
    "24-Jul-2009 12:00:30\t24-Jul-2009 12:00:31\t28\t",
]) + "\r\n"
ACTIVITIES = "24-Jul-2009 08:19:00\t24-Jul-2009 12:00:10\t1\r\n24-Jul-2009 08:09:00\t24-Jul-2009 08:11:00\t4\r\n"


def _at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2009, 7, 24, hour, minute, second, tzinfo=TZ)


def test_edges_are_signs_except_where_they_are_timeouts() -> None:
    events = to_events(read_intervals(SENSORS, "houseB-ss.txt"), "kasteren_b", LAYOUTS["B"])
    assert [(e.ts, e.kind, e.state) for e in events] == [
        (_at(8, 0), "motion", None),
        (_at(8, 5), "motion", None), (_at(8, 5, 30), "motion", None),
        (_at(8, 10), "water", None), (_at(8, 10, 20), "motion", None),
        (_at(8, 20), "door", "open"), (_at(8, 20, 5), "door", "closed"),
        (_at(8, 21), "motion", None),
        (_at(12, 0), "door", "open"), (_at(12, 0, 4), "door", "closed"),
        (_at(12, 0, 30), "motion", None),
    ]
    assert all(e.unit == "kasteren_b" for e in events)


def test_at_home_outside_the_leave_house_labels() -> None:
    events = to_events(read_intervals(SENSORS, "s"), "k", LAYOUTS["B"])
    spans = home_spans(events, read_intervals(ACTIVITIES, "a"))
    # before the first label (08:09) the door-then-silence heuristic, then the labels (out 08:19-12:00:10); the
    # recording is used up to the end of the labels
    assert spans == [(_at(8, 0), _at(8, 19))]


def test_bad_lines_say_where() -> None:
    with pytest.raises(CasasError, match="line 2"):
        read_intervals("24-Jul-2009 08:00:00\t24-Jul-2009 08:00:01\t28\nnot a line\n", "houseB-ss.txt")
    with pytest.raises(CasasError, match="line 1"):
        read_intervals("31-Foo-2009 08:00:00\t24-Jul-2009 08:00:01\t28\n", "houseB-ss.txt")
    with pytest.raises(CasasError, match="ends before"):
        read_intervals("24-Jul-2009 08:00:02\t24-Jul-2009 08:00:01\t28\n", "houseB-ss.txt")


def test_house_a_is_never_read_and_a_missing_copy_is_explained(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EW_KASTEREN_MIRROR", str(tmp_path / "no-mirror"))
    monkeypatch.delenv("EW_KASTEREN_CLONE", raising=False)
    with pytest.raises(CasasError, match="independent evaluation"):
        materialise("A", tmp_path / "cache")
    with pytest.raises(CasasError, match="not cached"):
        materialise("C", tmp_path / "cache")
    folder = tmp_path / "cache" / "C"
    folder.mkdir(parents=True)
    for kind in ("ss", "as"):
        (folder / f"houseC-{kind}.txt").write_text(ACTIVITIES, encoding="ascii")
    assert materialise("C", tmp_path / "cache") == (folder / "houseC-ss.txt", folder / "houseC-as.txt")
