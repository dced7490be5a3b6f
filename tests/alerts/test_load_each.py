"""``casas.load_each``: the one loop the CASAS, ARAS and van Kasteren loaders share, reporting what is missing."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from alerts.presence import PresenceEvent
from estatewatch.bench import casas, kasteren
from estatewatch.bench.casas import CasasError, CasasHome, load_each

CASAS_LINES = "2010-11-04 08:00:00.1 M003 ON\n2010-11-04 08:20:00.1 D001 OPEN\n2010-11-04 09:00:00.1 M004 ON\n"
KASTEREN_SENSORS = "24-Jul-2009 08:00:00\t24-Jul-2009 08:00:05\t3\n24-Jul-2009 09:00:00\t24-Jul-2009 09:00:04\t7\n"
KASTEREN_ACTIVITIES = "24-Jul-2009 08:30:00\t24-Jul-2009 08:40:00\t4\n"


def _home(name: str) -> CasasHome:
    at = datetime(2024, 1, 1, tzinfo=UTC)
    return CasasHome(name, UTC, [PresenceEvent(at, "motion", unit=name)], [(at, at)], at, 0.0, {})


def test_what_fails_to_load_is_reported_with_its_label_and_reason(tmp_path: Path) -> None:
    def load(name: str, cache: Path | None) -> CasasHome:
        assert cache == tmp_path
        if name == "gone":
            raise CasasError("not cached here")
        if name == "unreadable":
            raise PermissionError("no access")
        return _home(name)

    homes, missing = load_each(["one", "gone", "unreadable", "two"], load, tmp_path, label="Set ")
    assert [h.name for h in homes] == ["one", "two"]
    assert missing == [{"home": "Set gone", "reason": "not cached here"},
                       {"home": "Set unreadable", "reason": "no access"}]


def test_a_fault_that_is_not_about_the_data_is_not_swallowed() -> None:
    def load(name: str, cache: Path | None) -> CasasHome:
        raise KeyError(name)

    with pytest.raises(KeyError):
        load_each(["x"], load)


def test_casas_homes_without_a_copy_are_listed_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EW_CASAS_MIRROR", str(tmp_path / "no-mirror"))
    monkeypatch.delenv("EW_CASAS_CLONE", raising=False)
    cached = tmp_path / "milan" / "data"
    cached.parent.mkdir(parents=True)
    cached.write_text(CASAS_LINES, encoding="utf-8")
    homes, missing = casas.load_available(tmp_path)
    assert [h.name for h in homes] == ["milan"]
    assert [m["home"] for m in missing] == ["cairo", "aruba"]
    assert all("not cached" in m["reason"] for m in missing)


def test_van_kasteren_houses_are_labelled_with_the_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EW_KASTEREN_MIRROR", str(tmp_path / "no-mirror"))
    monkeypatch.delenv("EW_KASTEREN_CLONE", raising=False)
    folder = tmp_path / "C"
    folder.mkdir()
    (folder / "houseC-ss.txt").write_text(KASTEREN_SENSORS, encoding="ascii")
    (folder / "houseC-as.txt").write_text(KASTEREN_ACTIVITIES, encoding="ascii")
    homes, missing = kasteren.load_available(tmp_path)
    assert [h.name for h in homes] == ["kasteren_c"]
    assert [m["home"] for m in missing] == ["van Kasteren B"]
