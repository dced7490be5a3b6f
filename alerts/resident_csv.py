"""Residents from CSV: validation with line numbers, so an import either loads cleanly or says what is wrong.

Consent is explicit: every file has a ``consent`` column and every row says yes or no. A file without the column is
refused as a whole rather than read as "no consent": an old export loaded again would otherwise stop the welfare
rules for every resident at once, silently; refused, it changes nothing and says what to add.

The people columns are optional (``name, age, contact_relation, contact_name, contact_phone, grid_worker,
grid_worker_phone``): an estate may load pseudonymous ids only. A row that names contacts replaces the resident's
stored contacts with them; a row without any keeps what is stored.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from alerts.presence import Resident

REQUIRED = ("resident_id", "unit", "elderly", "lives_alone", "consent")
OPTIONAL = ("not_out_hours", "no_sign_hours", "building", "floor")
PEOPLE = ("name", "age", "contact_relation", "contact_name", "contact_phone", "grid_worker", "grid_worker_phone")
NAME_MAX = 100
AGE_MAX = 130
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}
_CONSENT_HINT = "consent (yes or no for each resident: only residents who agreed are watched)"
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_UNIT = re.compile(r"^(?P<building>[A-Za-z0-9]+)-(?P<floor>\d{1,3}?)(?P<room>\d{2})$")
# a number someone can dial: an optional +, digits with spaces, dashes or brackets between (6 to 15 digits, E.164)
_PHONE = re.compile(r"^\+?[0-9(][0-9 ()-]*[0-9]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class CsvProblem:
    """One problem in an import, with the line it is on (the header is line 1)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass(frozen=True)
class ResidentRow:
    """One imported resident with the consent the file states for them."""

    resident: Resident
    consent: bool
    name: str | None = None
    age: int | None = None
    contacts: tuple[dict[str, str], ...] | None = None  # None: the row names none, keep the stored ones


class ResidentCsvError(ValueError):
    """An import refused as a whole; ``problems`` lists every problem found, not just the first."""

    def __init__(self, problems: list[CsvProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems[:20]))
        self.problems = problems


def _bool(value: str, name: str, line: int, problems: list[CsvProblem]) -> bool:
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text not in _FALSE:
        problems.append(CsvProblem(line, f"{name} must be true/false, got {value!r}"))
    return False


def _consent(value: str, line: int, problems: list[CsvProblem]) -> bool:
    """Yes or no, said explicitly: an empty cell is a problem, never a default either way."""
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text and text in _FALSE:
        return False
    problems.append(CsvProblem(line, f"consent must be yes or no, got {value!r}"))
    return False


def _hours(value: str | None, default: float, name: str, line: int, problems: list[CsvProblem]) -> float:
    if value is None or not value.strip():
        return default
    try:
        hours = float(value)
    except ValueError:
        problems.append(CsvProblem(line, f"{name} must be a number of hours, got {value!r}"))
        return default
    if not 0 < hours <= 24 * 30:
        problems.append(CsvProblem(line, f"{name} must be between 0 and 720 hours, got {hours:g}"))
    return hours


def _text(value: str | None, name: str, line: int, problems: list[CsvProblem]) -> str | None:
    """A person's name or a relation: empty is None; too long or with control characters is a problem."""
    text = (value or "").strip()
    if not text:
        return None
    if len(text) > NAME_MAX or _CONTROL.search(text):
        problems.append(CsvProblem(line, f"{name} must be at most {NAME_MAX} printable characters"))
        return None
    return text


def _age(value: str | None, line: int, problems: list[CsvProblem]) -> int | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        age = int(text)
    except ValueError:
        problems.append(CsvProblem(line, f"age must be a whole number of years, got {text!r}"))
        return None
    if not 0 <= age <= AGE_MAX:
        problems.append(CsvProblem(line, f"age must be between 0 and {AGE_MAX}, got {age}"))
        return None
    return age


def _phone(value: str | None, name: str, line: int, problems: list[CsvProblem]) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    digits = sum(ch.isdigit() for ch in text)
    if not _PHONE.match(text) or not 6 <= digits <= 15:
        problems.append(CsvProblem(line, f"{name} must be a phone number (6 to 15 digits, optional +), got {text!r}"))
        return None
    return text


# the two contacts a row may name, who to phone first first: (role column or fixed role, name column, phone column)
_CONTACT_COLUMNS = (("contact_relation", "contact_name", "contact_phone"),
                    (None, "grid_worker", "grid_worker_phone"))


def _contacts(row: Mapping[str, str], line: int, problems: list[CsvProblem]) -> tuple[dict[str, str], ...] | None:
    """Who to phone, the relative first and then the grid worker; None when the row names nobody. A contact
    without a phone number is a problem, not dropped: only a number makes them someone to call.
    """
    found: list[dict[str, str]] = []
    for role_col, name_col, phone_col in _CONTACT_COLUMNS:
        role = _text(row.get(role_col), role_col, line, problems) if role_col else "grid worker"
        who = _text(row.get(name_col), name_col, line, problems)
        phone = _phone(row.get(phone_col), phone_col, line, problems)
        phone_given = bool((row.get(phone_col) or "").strip())
        if not phone_given and who is None and (role_col is None or role is None):
            continue  # nobody named
        if phone is None:
            if not phone_given:  # a bad number has its own problem already
                problems.append(CsvProblem(line, f"{phone_col} is empty for {who or role!r}"))
            continue
        found.append({k: v for k, v in (("role", role), ("name", who), ("phone", phone)) if v is not None})
    return tuple(found) or None


def building_floor(unit: str) -> tuple[str | None, int | None]:
    """Building and floor from a unit id like ``A-1201`` (building A, floor 12); (None, None) otherwise."""
    match = _UNIT.match(unit)
    if match is None:
        return None, None
    return match["building"], int(match["floor"]) if match["floor"] else None


def _id_problem(rid: str) -> str | None:
    """Why ``rid`` cannot be a resident id, or None. ``unknown`` is the person of unmatched face passages: a
    resident of that name would be taken for every stranger at the gate.
    """
    if not _ID.match(rid):
        return f"resident_id {rid!r} is not a pseudonymous id"
    if rid.lower() == "unknown":
        return "resident_id 'unknown' is reserved for unrecognised gate passages"
    return None


def parse_import(text: str | Iterable[str]) -> list[ResidentRow]:
    """Residents with their consent from CSV text; raises ``ResidentCsvError`` listing every problem found."""
    reader = csv.DictReader(io.StringIO(text) if isinstance(text, str) else text)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [_CONSENT_HINT if c == "consent" else c for c in REQUIRED if c not in header]
    if missing:
        raise ResidentCsvError([CsvProblem(1, f"missing column(s): {', '.join(missing)}")])
    problems: list[CsvProblem] = []
    seen: set[str] = set()
    out: list[ResidentRow] = []
    for line, raw in enumerate(reader, start=2):
        row = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        rid, unit = row["resident_id"], row["unit"]
        if (wrong := _id_problem(rid)) is not None:
            problems.append(CsvProblem(line, wrong))
        if rid in seen:
            problems.append(CsvProblem(line, f"resident_id {rid!r} appears twice"))
        if not unit:
            problems.append(CsvProblem(line, "unit is empty"))
        seen.add(rid)
        building, floor = building_floor(unit)
        if row.get("building"):
            building = row["building"]
        if row.get("floor"):
            try:
                floor = int(row["floor"])
            except ValueError:
                problems.append(CsvProblem(line, f"floor must be an integer, got {row['floor']!r}"))
        resident = Resident(
            resident_id=rid, unit=unit, building=building, floor=floor,
            elderly=_bool(row["elderly"], "elderly", line, problems),
            lives_alone=_bool(row["lives_alone"], "lives_alone", line, problems),
            not_out_hours=_hours(row.get("not_out_hours"), 24.0, "not_out_hours", line, problems),
            no_sign_hours=_hours(row.get("no_sign_hours"), 12.0, "no_sign_hours", line, problems),
        )
        out.append(ResidentRow(resident, _consent(row["consent"], line, problems),
                               name=_text(row.get("name"), "name", line, problems),
                               age=_age(row.get("age"), line, problems), contacts=_contacts(row, line, problems)))
    if problems:
        raise ResidentCsvError(problems)
    return out


def parse_residents(text: str | Iterable[str]) -> list[Resident]:
    """The residents of CSV text who consented: the ones the rules may watch (an offline replay, for one). The
    whole file is checked as for an import; raises ``ResidentCsvError`` listing every problem found.
    """
    return [row.resident for row in parse_import(text) if row.consent]


def residents_csv(residents: Iterable[Resident], consent: bool | Mapping[str, bool]) -> str:
    """The CSV the importer reads (used by the simulator and for exports); ``consent`` is stated by the caller,
    for everyone or per resident id (an id missing from the mapping is written as no consent).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*REQUIRED, "not_out_hours"])
    for r in residents:
        agreed = consent if isinstance(consent, bool) else consent.get(r.resident_id, False)
        writer.writerow([r.resident_id, r.unit, str(r.elderly).lower(), str(r.lives_alone).lower(),
                         "yes" if agreed else "no", f"{r.not_out_hours:g}"])
    return buf.getvalue()
