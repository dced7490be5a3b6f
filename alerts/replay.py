"""Offline replay: ``estatewatch replay EVENTS.jsonl --residents RESIDENTS.csv --json [--until ISO]``.

The clock runs on event time (naive timestamps are estate local time) and finally advances to ``--until`` (default:
the last event's time). The rules are the service's own (``alerts.memory_driver`` drives ``alerts.resident_step``:
``elderly_not_out``, ``no_sign_of_life`` and the learnt-routine ``no_activity``). One line per alert raised or
reminded; the engine's ``closed`` lists the alerts the residents' own signals closed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, tzinfo
from typing import cast
from zoneinfo import ZoneInfo

from alerts.inactivity.rule import ALERT_TYPE as NO_ACTIVITY
from alerts.memory_driver import RuleEngine
from alerts.presence import EventKind, PresenceEvent, Resident
from alerts.presence_rules import Firing, RuleConfig

KINDS = ("access", "door", "motion", "water")


class ReplayError(ValueError):
    """A line of the events file the replay cannot use; the message names the line."""


def parse_ts(value: object, tz: tzinfo) -> datetime:
    """ISO 8601; naive means estate local time."""
    if not isinstance(value, str):
        raise ReplayError(f"ts must be an ISO 8601 string, got {value!r}")
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return when.replace(tzinfo=tz) if when.tzinfo is None else when


def parse_event(raw: dict[str, object], tz: tzinfo) -> PresenceEvent:
    """One event of the replay format (docs/alerts.md).

    Raises:
        ReplayError: when a field is missing or has the wrong shape.
    """
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
    litres, state, sensor = raw.get("litres"), raw.get("state"), raw.get("sensor")
    return PresenceEvent(ts, cast(EventKind, kind), unit=str(raw["unit"]),
                         state=str(state) if state is not None else None,
                         sensor=str(sensor) if sensor is not None else None,
                         litres=float(litres) if isinstance(litres, int | float) else None)


def read_events(lines: Iterable[str], tz: tzinfo) -> Iterator[PresenceEvent]:
    """Events from JSON lines, checked to be in time order (the contract says they are)."""
    last: datetime | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ReplayError("each line must be a JSON object")
            ev = parse_event(raw, tz)
        except (ValueError, TypeError) as exc:
            raise ReplayError(f"line {number}: {exc}") from exc
        if last is not None and ev.ts < last:
            raise ReplayError(f"line {number}: events must be in time order ({ev.ts} after {last})")
        last = ev.ts
        yield ev


def alert_id_for(occurrence_key: str) -> str:
    """Replay ids are derived from the dedup key and the episode (``Firing.occurrence_key``), so a reminder
    repeats its alert's id, a later stretch of the same resident gets a new one, and reruns agree.
    """
    return "al_" + hashlib.sha256(occurrence_key.encode()).hexdigest()[:20]


def firing_json(f: Firing, tz: tzinfo) -> dict[str, object]:
    """One line of ``replay --json``: the alert a firing raises, with times in the estate zone."""

    def local(value: object) -> str | None:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.astimezone(tz).isoformat() if isinstance(value, datetime) else None

    out: dict[str, object] = {
        "type": f.type, "id": alert_id_for(f.occurrence_key), "resident": f.resident.resident_id,
        "unit": f.resident.unit, "raised_at": local(f.at), "due_at": local(f.due_at), "severity": f.severity,
        "reminder": f.reminder, "dedup_key": f.dedup_key, "episode": f.episode,
    }
    if f.type == "elderly_not_out":
        out["last_out_at"] = local(f.details.get("last_out_at"))
        out["home_since"] = local(f.details.get("home_since"))
        out["hours_at_home"] = f.details.get("hours_at_home")
    elif f.type == NO_ACTIVITY:
        out["silence_since"] = local(f.details.get("silence_since"))
        out["counted_from"] = local(f.details.get("counted_from"))
        for key in ("quiet_minutes", "threshold_minutes", "probability_normal", "cold_start", "usual_minutes",
                    "longest_minutes", "day_type", "hour"):
            out[key] = f.details.get(key)
    else:
        out["last_activity_at"] = local(f.details.get("last_activity_at"))
        out["quiet_hours"] = f.details.get("quiet_hours")
    out["explanation"] = f.details.get("explanation")
    return out


def replay(events: Iterable[PresenceEvent], residents: Iterable[Resident], *, until: datetime | None = None,
           cfg: RuleConfig | None = None, tz: tzinfo = UTC, routines: bool = True) -> tuple[list[Firing], RuleEngine]:
    """Run the rules over ``events`` and up to ``until`` (default: the last event); return firings in order.

    ``tz`` is the estate's zone: the learnt routine works in local hours and weekdays.
    """
    engine = RuleEngine(residents, cfg, tz=tz, routines=routines)
    fired: list[Firing] = []
    for ev in events:
        fired.extend(engine.on_event(ev))
    end = until if until is not None else engine.now
    if end is not None:
        fired.extend(engine.advance(end))
    return fired, engine


def zone(name: str) -> tzinfo:
    """The estate's time zone by IANA name."""
    return ZoneInfo(name)
