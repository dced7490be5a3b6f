"""The CASAS text format as EstateWatch events (on lines written here, not on CASAS data)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from estatewatch.bench.casas import CasasError, home_spans, materialise, parse

TZ = ZoneInfo("America/Los_Angeles")
LINES = [
    "2010-11-04 08:00:00.000001\tM003\tON\tMeal_Preparation begin",
    "2010-11-04 08:00:05.5\tM003\tOFF",
    "2010-11-04 08:10:00\tT002\t21.5",
    "2010-11-04 08:20:00.1 D001 OPEN Leave_Home begin",
    "2010-11-04 08:21:00.1 D001 CLOSE Leave_Home end",
    "2010-11-04 11:00:00.1 D001 OPEN Enter_Home begin",
    "2010-11-04 11:00:30.1 M010 ON",
    "",
]


def test_signs_of_life_are_mapped_and_readings_dropped() -> None:
    events, marks = parse(LINES, "aruba", TZ)
    assert [(e.kind, e.state) for e in events] == [("motion", None), ("door", "open"), ("door", "closed"),
                                                   ("door", "open"), ("motion", None)]
    assert events[0].ts.tzinfo is TZ
    assert events[0].unit == "aruba"
    assert [m[1] for m in marks] == ["leave", "enter"]
    spans = home_spans(events, marks)
    assert [(a.strftime("%H:%M"), b.strftime("%H:%M")) for a, b in spans] == [("08:00", "08:21"), ("11:00", "11:00")]


def test_without_annotations_a_door_then_silence_is_an_outing() -> None:
    plain = [" ".join(line.split()[:4]) for line in LINES if line]
    events, marks = parse(plain, "h", TZ)
    assert marks == []
    spans = home_spans(events, marks)
    assert len(spans) == 2
    assert spans[0][1].strftime("%H:%M") == "08:21"
    assert spans[1][0].strftime("%H:%M") == "11:00"


def test_bad_lines_say_where() -> None:
    with pytest.raises(CasasError, match="line 2"):
        parse(["2010-11-04 08:00:00 M003 ON", "garbage"], "h", TZ)
    with pytest.raises(CasasError, match="line 1: bad time"):
        parse(["2010-13-04 08:00:00 M003 ON"], "h", TZ)


def test_materialise_explains_what_is_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EW_CASAS_MIRROR", str(tmp_path / "no-mirror"))
    monkeypatch.delenv("EW_CASAS_CLONE", raising=False)
    with pytest.raises(CasasError, match="not cached"):
        materialise("milan", tmp_path / "cache")
    with pytest.raises(CasasError, match="unknown CASAS home"):
        materialise("atlantis", tmp_path / "cache")
    cached = tmp_path / "cache" / "milan" / "data"
    cached.parent.mkdir(parents=True)
    cached.write_text(LINES[0] + "\n", encoding="utf-8")
    assert materialise("milan", tmp_path / "cache") == cached
