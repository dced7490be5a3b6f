"""Validation of every inbound payload: a message is either ``Accepted`` (typed) or ``Rejected`` (with a reason).

Reasons are short machine-readable words (counted in /metrics, kept in dead letters); details say what was wrong
in words an integrator can act on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from common.settings import Settings
from common.topics import ID_PATTERN, Kind, Route, guess_kind, parse_topic

Name = Annotated[str, StringConstraints(pattern=ID_PATTERN)]
RawTs = int | float | str


class _Strict(BaseModel):
    """Strict parsing shared by every payload: no coercion, no NaN, unknown keys dropped, immutable once read."""

    model_config = ConfigDict(strict=True, allow_inf_nan=False, extra="ignore", frozen=True)


class TelemetryPayload(_Strict):
    """Numeric readings from one device at one instant; ``seq`` is the device's optional counter, kept with the row."""

    ts: RawTs
    seq: Annotated[int, Field(ge=0, lt=2**63)] | None = None
    metrics: Annotated[dict[Name, float], Field(min_length=1, max_length=64)]


class AccessPayload(_Strict):
    """A person passing an entrance, and how they were recognised."""

    ts: RawTs
    person: Name
    direction: Literal["in", "out"]
    method: Literal["face", "card", "code"]
    confidence: float | None = Field(None, ge=0, le=1)  # a face passage's certainty; terminals send none
    camera: Name | None = None  # the entrance camera that saw a face passage


class DoorPayload(_Strict):
    """A door contact changing state."""

    ts: RawTs
    state: Literal["open", "closed"]


class MotionPayload(_Strict):
    """A motion sensor firing; presence rules for residents living alone read these."""

    ts: RawTs
    sensor: Name


class WaterPayload(_Strict):
    """Water use in a unit: a sign of life for the routine rules of residents living alone."""

    ts: RawTs
    litres: Annotated[float, Field(ge=0, le=100_000)]


Payload = TelemetryPayload | AccessPayload | DoorPayload | MotionPayload | WaterPayload
_MODELS: dict[Kind, type[Payload]] = {
    Kind.TELEMETRY: TelemetryPayload,
    Kind.ACCESS: AccessPayload,
    Kind.DOOR: DoorPayload,
    Kind.MOTION: MotionPayload,
    Kind.WATER: WaterPayload,
}


@dataclass(frozen=True)
class Limits:
    """What the service accepts; from ``Settings``."""

    site: str
    max_json_bytes: int = 64 * 1024
    future_tolerance: timedelta = timedelta(minutes=5)
    past_tolerance: timedelta = timedelta(days=30)
    local_tz: tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits these settings ask for: every role that parses messages builds them here, the same way."""
        return cls(
            site=settings.site,
            max_json_bytes=settings.max_json_bytes,
            future_tolerance=timedelta(seconds=settings.future_tolerance_s),
            past_tolerance=timedelta(days=settings.past_tolerance_days),
            local_tz=ZoneInfo(settings.timezone),
        )


# Accepted and Rejected are built once per message on the MQTT thread: slotted, not frozen, because a frozen
# dataclass's __init__ costs several times more. Treat them as immutable all the same.
@dataclass(slots=True)
class Accepted:
    """A valid message. ``payload`` is None for device status, whose state is in ``status``.

    ``dedup_key`` is empty for telemetry, which is idempotent on its primary key (device, metric, ts) instead.
    """

    route: Route
    ts: datetime
    payload: Payload | None
    status: Literal["online", "offline"] | None
    dedup_key: str


@dataclass(slots=True)
class Rejected:
    """An invalid message: ``reason`` is the short word counted and stored, ``detail`` says what to fix."""

    kind: Kind
    reason: str
    detail: str


class TimestampError(ValueError):
    """A timestamp that cannot be read, carrying the rejection reason as well as the human detail."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def parse_ts(raw: RawTs, local_tz: tzinfo) -> datetime:
    """ISO 8601 (naive means estate local time) or epoch milliseconds, as an aware UTC datetime."""
    if isinstance(raw, str):
        try:
            value = datetime.fromisoformat(raw)
        except ValueError as exc:
            raise TimestampError("bad_timestamp", f"ts {raw!r} is not ISO 8601") from exc
        if value.tzinfo is None:
            value = value.replace(tzinfo=local_tz)
        return value.astimezone(UTC)
    if isinstance(raw, bool) or not 0 <= raw < 1e14:
        raise TimestampError("bad_timestamp", f"ts {raw!r} is not epoch milliseconds")
    return datetime.fromtimestamp(raw / 1000.0, UTC)


def dedup_key(topic: str, payload: bytes) -> str:
    """Same topic and bytes = same message: a QoS 1 redelivery is stored once."""
    return hashlib.blake2b(topic.encode() + b"\0" + payload, digest_size=12).hexdigest()


_ROUTES: dict[str, Route | None] = {}
_ROUTES_MAX = 100_000  # distinct topics remembered; an estate has a few thousand devices


def _route(topic: str) -> Route | None:
    """``parse_topic`` with a cache: the same few thousand device topics arrive over and over."""
    try:
        return _ROUTES[topic]
    except KeyError:
        pass
    route = parse_topic(topic)
    if len(_ROUTES) >= _ROUTES_MAX:  # a flood of junk topics must not grow memory without bound
        _ROUTES.clear()
    _ROUTES[topic] = route
    return route


def parse(topic: str, payload: bytes, now: datetime, limits: Limits) -> Accepted | Rejected:
    """Validate one JSON or status message of the protocol (frames are validated by the vision worker)."""
    route = _route(topic)
    if route is None:
        return Rejected(guess_kind(topic), "unknown_topic", f"topic {topic[:200]!r} is not part of the protocol")
    if route.site != limits.site:
        return Rejected(route.kind, "wrong_site", f"site {route.site!r} is not this estate ({limits.site!r})")
    if len(payload) > limits.max_json_bytes:
        return Rejected(route.kind, "oversized", f"{len(payload)} bytes > limit {limits.max_json_bytes}")
    if route.kind is Kind.STATUS:
        return _parse_status(route, topic, payload, now)
    model = _MODELS.get(route.kind)
    if model is None:
        return Rejected(route.kind, "unexpected_kind", f"{route.kind} messages are not handled by ingest")
    try:
        parsed: Payload = model.model_validate_json(payload)
    except ValidationError as exc:
        return _rejection_from(route.kind, exc)
    try:
        ts = parse_ts(parsed.ts, limits.local_tz)
    except TimestampError as exc:
        return Rejected(route.kind, exc.reason, str(exc))
    if ts > now + limits.future_tolerance:
        detail = f"ts {ts.isoformat()} is ahead of server time {now.isoformat()}"
        return Rejected(route.kind, "future_timestamp", detail)
    if ts < now - limits.past_tolerance:
        return Rejected(route.kind, "stale_timestamp", f"ts {ts.isoformat()} is older than the accepted window")
    # Telemetry rows are idempotent on (device, metric, ts): hashing them would be wasted work.
    key = "" if route.kind is Kind.TELEMETRY else dedup_key(topic, payload)
    return Accepted(route, ts, parsed, None, key)


def _parse_status(route: Route, topic: str, payload: bytes, now: datetime) -> Accepted | Rejected:
    text = payload.strip().decode("utf-8", "replace").strip('"').lower()
    if text not in ("online", "offline"):
        return Rejected(route.kind, "schema", f"status must be 'online' or 'offline', got {text[:40]!r}")
    state: Literal["online", "offline"] = "online" if text == "online" else "offline"
    # A retained status is replayed on every subscribe; the writer records an event only when the state changes.
    return Accepted(route, now, None, state, dedup_key(topic, payload + now.isoformat().encode()))


def _rejection_from(kind: Kind, exc: ValidationError) -> Rejected:
    errors = exc.errors(include_url=False)
    first = errors[0] if errors else {"type": "unknown", "loc": (), "msg": str(exc)}
    where = ".".join(str(p) for p in first["loc"]) or "payload"
    detail = f"{where}: {first['msg']}" + (f" (+{len(errors) - 1} more)" if len(errors) > 1 else "")
    etype = first["type"]
    if etype == "json_invalid":
        reason = "not_json"
    elif etype == "finite_number":
        reason = "non_finite"
    elif etype in ("model_type", "model_attributes_type"):
        reason = "not_object"
    else:
        reason = "schema"
    return Rejected(kind, reason, detail)
