"""Topic names of the MQTT protocol (docs/protocol.md), parsed and built in one place."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """What a message is, by its topic."""

    TELEMETRY = "telemetry"
    FRAME = "frame"
    ACCESS = "access"
    DOOR = "door"
    MOTION = "motion"
    WATER = "water"
    STATUS = "status"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Route:
    """A parsed topic: the site, what kind of message, and the id of the thing that sent it."""

    kind: Kind
    site: str
    entity: str


_ID = r"[A-Za-z0-9_.:-]{1,64}"
_PATTERNS: tuple[tuple[re.Pattern[str], Kind], ...] = tuple(
    (re.compile(rf"^estate/({_ID})/{middle}/({_ID})/{leaf}$"), kind)
    for middle, leaf, kind in (
        ("sensor", "telemetry", Kind.TELEMETRY),
        ("camera", "frame", Kind.FRAME),
        ("access", "event", Kind.ACCESS),
        ("unit", "door", Kind.DOOR),
        ("unit", "motion", Kind.MOTION),
        ("unit", "water", Kind.WATER),
        ("device", "status", Kind.STATUS),
    )
)
_LEAF_HINT = {"telemetry": Kind.TELEMETRY, "frame": Kind.FRAME, "event": Kind.ACCESS, "door": Kind.DOOR,
              "motion": Kind.MOTION, "water": Kind.WATER, "status": Kind.STATUS}


def parse_topic(topic: str) -> Route | None:
    """The route of a protocol topic, or None when the topic is not part of the protocol."""
    for pattern, kind in _PATTERNS:
        match = pattern.match(topic)
        if match is not None:
            return Route(kind, match[1], match[2])
    return None


def guess_kind(topic: str) -> Kind:
    """Best guess of the kind of an unparseable topic, for counting rejections by kind."""
    return _LEAF_HINT.get(topic.rsplit("/", 1)[-1], Kind.UNKNOWN)


def telemetry(site: str, device: str) -> str:
    return f"estate/{site}/sensor/{device}/telemetry"


def frame(site: str, camera: str) -> str:
    return f"estate/{site}/camera/{camera}/frame"


def access(site: str, gate: str) -> str:
    return f"estate/{site}/access/{gate}/event"


def unit(site: str, unit_id: str, leaf: str) -> str:
    return f"estate/{site}/unit/{unit_id}/{leaf}"


def status(site: str, device: str) -> str:
    return f"estate/{site}/device/{device}/status"


def alerts(site: str) -> str:
    return f"estate/{site}/alerts"


def subscriptions(site: str, kinds: tuple[Kind, ...]) -> list[str]:
    """Topic filters for the given kinds of one site."""
    filters = {
        Kind.TELEMETRY: telemetry(site, "+"),
        Kind.FRAME: frame(site, "+"),
        Kind.ACCESS: access(site, "+"),
        Kind.DOOR: unit(site, "+", "door"),
        Kind.MOTION: unit(site, "+", "motion"),
        Kind.WATER: unit(site, "+", "water"),
        Kind.STATUS: status(site, "+"),
    }
    return [filters[k] for k in kinds]


EVENT_KINDS = (Kind.ACCESS, Kind.DOOR, Kind.MOTION, Kind.WATER, Kind.STATUS)
