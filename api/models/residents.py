"""Residents as the API returns them: pseudonymous ids, rule settings and presence with the reason for it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, JsonValue

from api.models.alerts import Alert, Timestamp
from api.models.base import ApiModel

Presence = Literal["home", "out", "unknown"]


class ResidentSignal(ApiModel):
    """The last signal of one kind: when, and what it was."""

    at: Timestamp
    detail: str


class ResidentAway(ApiModel):
    """An away or hospital period during which the rules pause."""

    starts_at: Timestamp = Field(alias="from")
    ends_at: Timestamp = Field(alias="to")


class ResidentStatus(ApiModel):
    """What the console shows of a resident: who (name and age, for operators and admins), settings, presence,
    hours since last out, last signals and why.
    """

    resident_id: str
    name: str | None = Field(default=None, description="as entered; personal data: null for viewers")
    age: int | None = Field(default=None, description="in years, as entered; personal data: null for viewers")
    unit: str
    building: str | None
    floor: int | None
    elderly: bool
    lives_alone: bool
    not_out_hours: float
    no_sign_hours: float
    presence: Presence
    since: Timestamp | None
    last_out_at: Timestamp | None
    hours_since_last_out: float | None
    hours_at_home: float | None
    last_activity_at: Timestamp | None
    explanation: str | None = Field(description="why the state is what it is; null for viewers, like the times")
    last_signals: dict[str, ResidentSignal] = Field(description="by kind: access, door, motion, water")
    away: list[ResidentAway]


class ResidentPage(ApiModel):
    """A page of residents in id order; pass ``next_after`` as ``after`` for the next page (null: no more)."""

    residents: list[ResidentStatus]
    next_after: str | None


class ResidentDetail(ResidentStatus):
    """A resident with their 20 newest alerts."""

    alerts: list[Alert]


class ImportResult(ApiModel):
    """How many residents a CSV import loaded or updated."""

    imported: int


class AwayCreated(ApiModel):
    """The away period just stored."""

    id: int
    resident_id: str
    starts_at: Timestamp = Field(alias="from")
    ends_at: Timestamp = Field(alias="to")
    reason: Literal["away", "hospital", "other"]


class InactivitySettingsView(ApiModel):
    """Effective settings of the ``no_activity`` rule (docs/inactivity.md has what each one does)."""

    enabled: bool
    sensitivity: float = Field(description="nominal tail budget per resident-day: higher = earlier, more alarms")
    learning_window_days: float
    cold_start_days: float
    cold_day_hours: float
    cold_night_hours: float
    min_hours: float
    max_hours: float
    record_margin: float
    record_margin_max_min: float
    quiet_start_hour: float | None
    quiet_end_hour: float | None


class EstateInactivity(ApiModel):
    """The estate's settings: the rules file's defaults with the stored estate row over them."""

    settings: InactivitySettingsView
    stored: dict[str, JsonValue] = Field(description="what the estate row sets (the rest are the defaults)")


class RoutineHour(ApiModel):
    """One hour of a resident's learnt day: what is usual and after how long a silence begun then raises."""

    hour: int = Field(ge=0, le=23)
    usual_min: float = Field(description="90 % of quiet spells begun in this hour end within this")
    threshold_min: float = Field(description="a silence begun in this hour raises no_activity after this")
    longest_min: float | None = Field(description="longest quiet spell begun in this hour, in the learning window")
    spells: float = Field(description="forgetting-weighted quiet spells seen in this hour")


class ResidentRoutine(ApiModel):
    """A resident's learnt day (weekdays and weekends, by hour) with their effective settings; personal data."""

    resident_id: str
    watched: bool = Field(description="no_activity runs for this resident (elderly, living alone, enabled)")
    cold_start: bool
    history_days: float
    spells_per_day: float
    learning_window_days: float
    silence_since: Timestamp | None
    weekdays: list[RoutineHour]
    weekends: list[RoutineHour]
    settings: InactivitySettingsView
    overrides: dict[str, JsonValue] = Field(description="the resident's own settings over the estate's")
