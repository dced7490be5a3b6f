"""Residents from CSV: validation with line numbers, so an import either loads cleanly or says what is wrong."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass

from alerts.presence import Resident

REQUIRED = ("resident_id", "unit", "elderly", "lives_alone")
OPTIONAL = ("not_out_hours", "no_sign_hours", "building", "floor")
_TRUE = {"1", "true", "yes", "y", "t"}
_FALSE = {"0", "false", "no", "n", "f", ""}
_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
_UNIT = re.compile(r"^(?P<building>[A-Za-z0-9]+)-(?P<floor>\d{1,3}?)(?P<room>\d{2})$")


@dataclass(frozen=True)
class CsvProblem:
    """One problem in an import, with the line it is on (the header is line 1)."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


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


def parse_residents(text: str | Iterable[str]) -> list[Resident]:
    """Residents from CSV text; raises ``ResidentCsvError`` listing every problem found."""
    reader = csv.DictReader(io.StringIO(text) if isinstance(text, str) else text)
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ResidentCsvError([CsvProblem(1, f"missing column(s): {', '.join(missing)}")])
    problems: list[CsvProblem] = []
    seen: set[str] = set()
    out: list[Resident] = []
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
        out.append(Resident(
            resident_id=rid, unit=unit, building=building, floor=floor,
            elderly=_bool(row["elderly"], "elderly", line, problems),
            lives_alone=_bool(row["lives_alone"], "lives_alone", line, problems),
            not_out_hours=_hours(row.get("not_out_hours"), 24.0, "not_out_hours", line, problems),
            no_sign_hours=_hours(row.get("no_sign_hours"), 12.0, "no_sign_hours", line, problems),
        ))
    if problems:
        raise ResidentCsvError(problems)
    return out


def residents_csv(residents: Iterable[Resident]) -> str:
    """The CSV the importer reads (used by the simulator and for exports)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([*REQUIRED, "not_out_hours"])
    for r in residents:
        writer.writerow([r.resident_id, r.unit, str(r.elderly).lower(), str(r.lives_alone).lower(),
                         f"{r.not_out_hours:g}"])
    return buf.getvalue()
