"""The console's aggregates: the estate map, device health, alert counts, sparklines, filters, the Elders panel."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from api.models.base import ApiModel
from api.models.residents import ResidentStatus

Severity = Literal["info", "minor", "major", "critical"]
Colour = Literal["red", "yellow", "blue"]


class BuildingStatus(ApiModel):
    """A building on the estate map: unresolved alerts, offline devices, and the colour they give it."""

    building: str
    open: int
    acknowledged: int
    breached: int
    serious: int
    offline_devices: int
    colour: Colour
    worst_severity: Severity | None


class OfflineDevice(ApiModel):
    """A device whose last will said it went offline."""

    device_id: str
    kind: str
    last_seen: datetime | None
    status_changed: datetime | None
    building: str | None


class AlertTotals(ApiModel):
    """The queue's totals: open, acknowledged, breached (unresolved), and raised in the last five minutes."""

    open: int
    acknowledged: int
    breached: int
    last_5_min: int


class Overview(ApiModel):
    """Buildings with their colour, devices per status, the offline devices and the queue's totals."""

    buildings: list[BuildingStatus]
    devices: dict[str, int] = Field(description="devices per status (online, offline, unknown)")
    offline_devices: list[OfflineDevice]
    alerts: AlertTotals


class CountBucket(ApiModel):
    """Alerts raised in one bucket, per type (every type of the answer, zeros included)."""

    start: datetime
    counts: dict[str, int]


class AlertCounts(ApiModel):
    """Alerts per hour or day by type, oldest bucket first, empty buckets kept (for bar charts)."""

    bucket: Literal["hour", "day"]
    types: list[str]
    series: list[CountBucket]


class Sparkline(ApiModel):
    """One device's metric averaged into buckets: ``points`` are (bucket start, average), oldest first."""

    device_id: str
    metric: str
    points: list[tuple[datetime, float]]
    last: float


class Facets(ApiModel):
    """The values the queue's filter menus offer."""

    types: list[str]
    buildings: list[str]


class Contact(ApiModel):
    """Someone to call for a resident; contacts are kept as entered, so other keys may come along."""

    model_config = ConfigDict(extra="allow")

    role: str | None = None
    name: str | None = None
    phone: str | None = None


class Elder(ResidentStatus):
    """An elderly resident as the Elders panel shows them: the resident's status plus contacts, the away period in
    force and the count of open alerts.

    What a caller gets depends on their role (``redacted`` is true when something was withheld): a viewer sees the
    presence state and the count of open alerts only, never the name or age, contacts, away or hospital reasons,
    the times behind the presence (since, last out, hours at home), the signals or the explanation; an operator
    also sees all of those, with each contact's role, name and phone only; an admin sees contacts as they were
    entered.
    """

    explanation: str | None  # null for viewers
    contacts: list[Contact]
    away_reason: str | None
    open_alerts: int
    redacted: bool = Field(default=False, description="true when the caller's role withheld personal details")
