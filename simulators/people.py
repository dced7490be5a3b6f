"""Who the simulated residents are: a fake Chinese name, an age, and who to phone (a relative, the building's grid
worker), so the demo's control room has someone to call.

Invented from a seed of its own, so the events and the ground truth of a simulation do not depend on the names.
Phone numbers look like mainland mobile numbers and are made up: they are demo data, never to be dialled.
"""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alerts.presence import Resident

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁"
ELDER_GIVEN = ("秀英", "桂英", "玉兰", "淑珍", "凤英", "秀兰", "桂兰", "玉珍", "建国", "国华", "志强", "德明",
               "永福", "振华", "文忠", "长林", "福生", "宝山", "淑华", "玉梅", "金花", "爱国", "惠芳", "明德")
WOMEN_GIVEN = ("丽", "静", "敏", "婷", "芳", "娜", "子涵", "欣怡", "晓燕", "海燕", "红梅", "雪梅")
MEN_GIVEN = ("伟", "强", "磊", "军", "勇", "杰", "涛", "斌", "浩然", "宇轩", "建军", "志刚")
YOUNGER_GIVEN = WOMEN_GIVEN + MEN_GIVEN
RELATIONS = ("daughter", "son", "daughter", "son", "niece", "nephew")  # children most often
CHILD = ("daughter", "son")  # who shares the resident's surname
PREFIXES = ("138", "139", "150", "151", "158", "186", "187", "135", "136", "177")
CSV_COLUMNS = ("name", "age", "contact_relation", "contact_name", "contact_phone", "grid_worker",
               "grid_worker_phone")


@dataclass(frozen=True)
class Contact:
    """Someone to phone for a resident: ``role`` is the relation or the job (``grid worker``)."""

    role: str
    name: str
    phone: str

    def as_json(self) -> dict[str, str]:
        """As the residents API stores contacts: role, name, phone."""
        return {"role": self.role, "name": self.name, "phone": self.phone}


@dataclass(frozen=True)
class Person:
    """A resident as people know them; the rules only ever see the pseudonymous id."""

    resident_id: str
    name: str
    age: int
    contacts: tuple[Contact, ...]  # who to phone first comes first


def _phone(rng: random.Random) -> str:
    return f"+86 {rng.choice(PREFIXES)} {rng.randrange(10_000):04d} {rng.randrange(10_000):04d}"


def _name(rng: random.Random, given: tuple[str, ...], surname: str | None = None) -> str:
    return (surname or rng.choice(SURNAMES)) + rng.choice(given)


def invent(residents: Iterable[Resident], seed: int) -> dict[str, Person]:
    """Names, ages and contacts for these residents, the same for the same seed; one grid worker per building."""
    rng = random.Random(f"people:{seed}")
    workers: dict[str, Contact] = {}
    out: dict[str, Person] = {}
    for r in residents:
        building = r.building or "?"
        if building not in workers:
            workers[building] = Contact("grid worker", _name(rng, YOUNGER_GIVEN), _phone(rng))
        surname = rng.choice(SURNAMES)
        age = rng.randint(68, 92) if r.elderly else rng.randint(24, 64)
        relation = rng.choice(RELATIONS)
        given = MEN_GIVEN if relation in ("son", "nephew") else WOMEN_GIVEN
        relative = Contact(relation, _name(rng, given, surname if relation in CHILD else None), _phone(rng))
        out[r.resident_id] = Person(r.resident_id, _name(rng, ELDER_GIVEN if r.elderly else YOUNGER_GIVEN, surname),
                                    age, (relative, workers[building]))
    return out


def contacts_by_id(people: Mapping[str, Person]) -> dict[str, list[object]]:
    """Contacts per resident id, as ``upsert_residents(..., contacts=...)`` takes them."""
    return {rid: [c.as_json() for c in p.contacts] for rid, p in people.items()}


def with_people(residents_csv: str, people: Mapping[str, Person]) -> str:
    """The importer's CSV (``alerts.resident_csv.residents_csv``) with the people columns added to every row:
    ``name, age, contact_relation, contact_name, contact_phone, grid_worker, grid_worker_phone``.
    """
    rows = list(csv.reader(io.StringIO(residents_csv)))
    if not rows:
        return residents_csv
    header, body = rows[0], rows[1:]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*header, *CSV_COLUMNS])
    at = header.index("resident_id")
    for row in body:
        person = people.get(row[at])
        if person is None:
            writer.writerow([*row, *("" for _ in CSV_COLUMNS)])
            continue
        relative, worker = person.contacts[0], person.contacts[-1]
        writer.writerow([*row, person.name, str(person.age), relative.role, relative.name, relative.phone,
                         worker.name, worker.phone])
    return buf.getvalue()
