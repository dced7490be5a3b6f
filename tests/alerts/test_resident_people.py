"""Residents who can be reached: the import reads name, age and who to phone (a relative, the grid worker) from the
optional people columns, checks them with line numbers, and stores them in PostgreSQL; contacts a row names replace
the stored ones, a row without any keeps them. The demo's own path (simulate, then import) ends with names and
contacts in the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from alerts.resident_csv import ResidentCsvError, parse_import
from alerts.resident_records import import_residents
from estatewatch.cli import app
from store.db import Conn, connect
from store.residents import load_people

HEAD = "resident_id,unit,elderly,lives_alone,consent"
PEOPLE = "name,age,contact_relation,contact_name,contact_phone,grid_worker,grid_worker_phone"
MOTHER = "r1,A-1201,yes,yes,yes,王秀英,82,daughter,李丽,+86 138 1234 5678,张伟,+86 139 0000 1111"


def _stored(conn: Conn, rid: str) -> dict[str, Any]:
    row = conn.execute("SELECT name, age, contacts FROM residents WHERE resident_id = %s", (rid,)).fetchone()
    assert row is not None
    return dict(row)


def test_the_people_columns_become_name_age_and_contacts_in_order() -> None:
    rows = parse_import(f"{HEAD},{PEOPLE}\n{MOTHER}\nr2,A-1202,no,no,yes,,,,,,,\n")
    first, second = rows
    assert (first.name, first.age) == ("王秀英", 82)
    assert first.contacts == ({"role": "daughter", "name": "李丽", "phone": "+86 138 1234 5678"},
                              {"role": "grid worker", "name": "张伟", "phone": "+86 139 0000 1111"})
    assert (second.name, second.age, second.contacts) == (None, None, None)  # empty cells: nothing given


def test_a_file_without_the_people_columns_still_imports() -> None:
    (row,) = parse_import(f"{HEAD}\nr1,A-1201,yes,yes,yes\n")
    assert (row.resident.resident_id, row.consent, row.name, row.age, row.contacts) == ("r1", True, None, None, None)


def test_a_worker_without_a_relative_is_the_only_contact() -> None:
    (row,) = parse_import(f"{HEAD},grid_worker,grid_worker_phone\nr1,A-1201,yes,yes,yes,张伟,(021) 5555-0101\n")
    assert row.contacts == ({"role": "grid worker", "name": "张伟", "phone": "(021) 5555-0101"},)


@pytest.mark.parametrize(("cells", "expected"), [
    ("王秀英,eighty,,,,,", "line 2: age must be a whole number of years, got 'eighty'"),
    ("王秀英,131,,,,,", "line 2: age must be between 0 and 130, got 131"),
    ("王秀英,-1,,,,,", "line 2: age must be between 0 and 130, got -1"),
    ("王秀英,80,daughter,李丽,call me,,", "line 2: contact_phone must be a phone number"),
    ("王秀英,80,daughter,李丽,123,,", "line 2: contact_phone must be a phone number"),
    ("王秀英,80,daughter,李丽,,,", "line 2: contact_phone is empty for '李丽'"),
    ("王秀英,80,daughter,,,,", "line 2: contact_phone is empty for 'daughter'"),
    ("王秀英,80,,,,张伟,", "line 2: grid_worker_phone is empty for '张伟'"),
    ("王秀英,80,,,,张伟,+86 139 0000 1111 2222 3333", "line 2: grid_worker_phone must be a phone number"),
    ("王" * 101 + ",80,,,,,", "line 2: name must be at most 100 printable characters"),
])
def test_bad_people_cells_are_refused_with_their_line(cells: str, expected: str) -> None:
    with pytest.raises(ResidentCsvError) as caught:
        parse_import(f"{HEAD},{PEOPLE}\nr1,A-1201,yes,yes,yes,{cells}\n")
    assert str(caught.value.problems[0]).startswith(expected), caught.value.problems


def test_every_bad_row_is_listed_not_just_the_first() -> None:
    with pytest.raises(ResidentCsvError) as caught:
        parse_import(f"{HEAD},name,age\nr1,A-1201,yes,yes,yes,王秀英,200\nr2,A-1202,yes,yes,yes,李建国,x\n")
    assert [p.line for p in caught.value.problems] == [2, 3]


def test_an_import_stores_names_and_contacts_and_replaces_them_only_when_given(db_url: str) -> None:
    with connect(db_url) as conn:
        import_residents(conn, "estate7", parse_import(f"{HEAD},{PEOPLE}\n{MOTHER}\n"))
        stored = _stored(conn, "r1")
        assert (stored["name"], stored["age"]) == ("王秀英", 82)
        assert [c["role"] for c in stored["contacts"]] == ["daughter", "grid worker"]
        assert stored["contacts"][0]["phone"] == "+86 138 1234 5678"
        # an old export without the people columns: name, age and contacts stay as they were
        import_residents(conn, "estate7", parse_import(f"{HEAD},not_out_hours\nr1,A-1201,yes,yes,yes,30\n"))
        assert _stored(conn, "r1") == stored
        # a new file naming a different relative: the contacts are replaced, not appended
        import_residents(conn, "estate7", parse_import(
            f"{HEAD},{PEOPLE}\nr1,A-1201,yes,yes,yes,王秀英,83,son,李强,13700000000,,\n"))
        again = _stored(conn, "r1")
        assert again["age"] == 83
        assert again["contacts"] == [{"role": "son", "name": "李强", "phone": "13700000000"}]
        assert load_people(conn, ["r1", "nobody"]) == {"r1": ("王秀英", 83)}


def test_the_demo_path_imports_names_and_contacts(db_url: str, tmp_path: Path) -> None:
    env = {"EW_DATABASE_URL": db_url, "EW_SITE": "estate7"}
    made = CliRunner().invoke(app, ["simulate", "residents", "--out", str(tmp_path), "--residents", "6",
                                    "--days", "1", "--seed", "5"])
    assert made.exit_code == 0, made.output
    loaded = CliRunner().invoke(app, ["residents", "import", str(tmp_path / "residents.fast.csv")], env=env)
    assert loaded.exit_code == 0, loaded.output
    with connect(db_url) as conn:
        rows = conn.execute("SELECT resident_id, name, age, contacts FROM residents WHERE site = 'estate7'").fetchall()
    assert len(rows) == 6
    for row in rows:
        assert row["name"], row
        assert 18 <= row["age"] <= 100
        roles = [c["role"] for c in row["contacts"]]
        assert len(roles) == 2, row
        assert roles[-1] == "grid worker", row
        assert all(c["name"] and c["phone"].startswith("+86 ") for c in row["contacts"])
