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


ID_CHARS = r"[A-Za-z0-9_:-][A-Za-z0-9_.:-]{0,63}"
"""Every id of the protocol (site, device, camera, gate, unit, person, metric): 1-64 safe characters, never starting
with a dot, so ``.``, ``..`` and hidden names cannot reach a path built from an id."""
ID_PATTERN = rf"^{ID_CHARS}$"
_ID_RE = re.compile(ID_PATTERN)
_ID = ID_CHARS
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


def valid_id(value: str) -> bool:
    """Whether ``value`` is a protocol id (the one pattern every role checks ids with)."""
    return _ID_RE.match(value) is not None


def guess_kind(topic: str) -> Kind:
    """Best guess of the kind of an unparseable topic, for counting rejections by kind."""
    return _LEAF_HINT.get(topic.rsplit("/", 1)[-1], Kind.UNKNOWN)


def telemetry(site: str, device: str) -> str:
    """Where a sensor publishes its readings."""
    return f"estate/{site}/sensor/{device}/telemetry"


def sensor_leaf(site: str, device: str, leaf: str) -> str:
    """A topic under a sensor other than ``telemetry``: not part of the protocol, so ingest rejects it by topic."""
    return f"estate/{site}/sensor/{device}/{leaf}"


def branch(site: str, name: str) -> str:
    """The filter for a whole branch of one site (``sensor``, ``access``, ``unit``, ``device``, ...)."""
    return f"estate/{site}/{name}/#"


def frame(site: str, camera: str) -> str:
    """Where a camera publishes its JPEG frames."""
    return f"estate/{site}/camera/{camera}/frame"


def access(site: str, gate: str) -> str:
    """Where an entrance publishes who passed it."""
    return f"estate/{site}/access/{gate}/event"


def unit(site: str, unit_id: str, leaf: str) -> str:
    """Where a flat's sensors publish; ``leaf`` names the kind (door, motion, water)."""
    return f"estate/{site}/unit/{unit_id}/{leaf}"


def status(site: str, device: str) -> str:
    """Where a device's retained online/offline status (and its last will) lives."""
    return f"estate/{site}/device/{device}/status"


def alerts(site: str) -> str:
    """Where alert changes are published for subscribers outside the control room."""
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
