"""The demo's residents can be reached: a name, an age, a relative and the building's grid worker, written into the
CSV the demo imports without changing what the importer reads.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import cast

from alerts.resident_csv import parse_import
from simulators.people import CSV_COLUMNS, contacts_by_id
from simulators.residents import SimConfig, simulate

HAN = re.compile(r"^[\u4e00-\u9fff]{2,3}$")
PHONE = re.compile(r"^\+86 1\d{2} \d{4} \d{4}$")


def test_every_resident_has_a_name_an_age_and_who_to_phone() -> None:
    sim = simulate(SimConfig(residents=30, days=2, seed=4))
    assert set(sim.people) == {r.resident_id for r in sim.residents}
    workers: dict[str, set[str]] = {}
    for r in sim.residents:
        person = sim.people[r.resident_id]
        assert HAN.match(person.name), person.name
        assert (68 <= person.age <= 92) if r.elderly else (24 <= person.age <= 64)
        relative, worker = person.contacts
        assert relative.role in {"daughter", "son", "niece", "nephew"}
        assert HAN.match(relative.name)
        assert PHONE.match(relative.phone)
        if relative.role in {"daughter", "son"}:
            assert relative.name[0] == person.name[0], "children share the resident's surname"
        assert worker.role == "grid worker"
        assert PHONE.match(worker.phone)
        workers.setdefault(r.building or "?", set()).add(worker.name)
    assert all(len(names) == 1 for names in workers.values()), "one grid worker per building"
    again = simulate(SimConfig(residents=30, days=2, seed=4))
    assert again.people == sim.people  # deterministic
    assert again.events == sim.events
    first = next(iter(contacts_by_id(sim.people).values()))
    assert [set(cast(dict[str, str], c)) for c in first] == [{"role", "name", "phone"}] * 2  # what operators see


def test_the_import_csv_carries_the_people_and_still_imports(tmp_path: Path) -> None:
    sim = simulate(SimConfig(residents=12, days=1, seed=3))
    text = sim.write(tmp_path)["residents"].read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [c for c in CSV_COLUMNS if c not in rows[0]] == []
    for row in rows:
        person = sim.people[row["resident_id"]]
        assert (row["name"], int(row["age"]), row["contact_phone"]) == (person.name, person.age,
                                                                         person.contacts[0].phone)
    imported = parse_import(text)
    assert [(i.resident.resident_id, i.resident.elderly, i.consent) for i in imported] == [
        (r.resident_id, r.elderly, True) for r in sim.residents]
