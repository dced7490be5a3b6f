"""Offline replay: ``estatewatch replay EVENTS.jsonl --residents RESIDENTS.csv --json [--until ISO]``.

The clock runs on event time (naive timestamps are estate local time) and finally advances to ``--until`` (default:
the last event's time). The rules are the service's own (``alerts.engine`` drives ``alerts.rules``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from alerts.engine import RuleEngine
from alerts.presence import PresenceEvent, Resident
from alerts.rules import Firing, RuleConfig

KINDS = ("access", "door", "motion", "water")


class ReplayError(ValueError):
    pass


def parse_ts(value: object, tz: tzinfo) -> datetime:
    """ISO 8601; naive means estate local time."""
    if not isinstance(value, str):
        raise ReplayError(f"ts must be an ISO 8601 string, got {value!r}")
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when.replace(tzinfo=tz) if when.tzinfo is None else when


def parse_event(raw: dict[str, Any], tz: tzinfo) -> PresenceEvent:
    kind = raw.get("kind")
    if kind not in KINDS:
        raise ReplayError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    ts = parse_ts(raw.get("ts"), tz)
    if kind == "access":
        if not raw.get("resident") or raw.get("direction") not in ("in", "out"):
            raise ReplayError("access events need resident and direction in/out")
        return PresenceEvent(ts, "access", resident=str(raw["resident"]), direction=str(raw["direction"]),
                             gate=str(raw.get("gate") or ""), method=str(raw.get("method") or ""))
    if not raw.get("unit"):
        raise ReplayError(f"{kind} events need a unit")
    litres = raw.get("litres")
    return PresenceEvent(ts, kind, unit=str(raw["unit"]), state=raw.get("state"), sensor=raw.get("sensor"),
                         litres=float(litres) if isinstance(litres, int | float) else None)


def read_events(lines: Iterable[str], tz: tzinfo) -> Iterator[PresenceEvent]:
    """Events from JSON lines, checked to be in time order (the contract says they are)."""
    last: datetime | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            ev = parse_event(json.loads(line), tz)
        except (ValueError, TypeError) as exc:
            raise ReplayError(f"line {number}: {exc}") from exc
        if last is not None and ev.ts < last:
            raise ReplayError(f"line {number}: events must be in time order ({ev.ts} after {last})")
        last = ev.ts
        yield ev


def alert_id_for(dedup_key: str) -> str:
    """Replay ids are derived from the dedup key, so a reminder repeats its alert's id and reruns agree."""
    return "al_" + hashlib.sha256(dedup_key.encode()).hexdigest()[:20]


def firing_json(f: Firing, tz: tzinfo) -> dict[str, Any]:
    def local(value: datetime | str | None) -> str | None:
        if value is None:
            return None
        when = datetime.fromisoformat(value) if isinstance(value, str) else value
        return when.astimezone(tz).isoformat()

    out: dict[str, Any] = {
        "type": f.type, "id": alert_id_for(f.dedup_key), "resident": f.resident.resident_id, "unit": f.resident.unit,
        "raised_at": local(f.at), "due_at": local(f.due_at), "severity": f.severity, "reminder": f.reminder,
        "dedup_key": f.dedup_key,
    }
    if f.type == "elderly_not_out":
        out["last_out_at"] = local(f.details.get("last_out_at"))
        out["home_since"] = local(f.details.get("home_since"))
        out["hours_at_home"] = f.details.get("hours_at_home")
    else:
        out["last_activity_at"] = local(f.details.get("last_activity_at"))
        out["quiet_hours"] = f.details.get("quiet_hours")
    out["explanation"] = f.details.get("explanation")
    return out


def replay(events: Iterable[PresenceEvent], residents: Iterable[Resident], *, until: datetime | None = None,
           cfg: RuleConfig | None = None) -> tuple[list[Firing], RuleEngine]:
    """Run the rules over ``events`` and up to ``until`` (default: the last event); return firings in order."""
    engine = RuleEngine(residents, cfg)
    fired: list[Firing] = []
    for ev in events:
        fired.extend(engine.on_event(ev))
    end = until if until is not None else engine.now
    if end is not None:
        fired.extend(engine.advance(end))
    return fired, engine


def zone(name: str) -> tzinfo:
    return ZoneInfo(name)
