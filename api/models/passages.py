"""Response shapes of a resident's gate passages: times, gates, directions, methods, confidences; no face data."""

from __future__ import annotations

from datetime import datetime

from api.models.base import ApiModel


class Passage(ApiModel):
    """One access event: ``method`` is face, card or code; ``confidence`` only for face passages."""

    ts: datetime
    gate: str
    direction: str | None = None
    method: str | None = None
    confidence: float | None = None
    camera: str | None = None


class ResidentPassages(ApiModel):
    """A resident's recent passages and, for an elderly-not-out alert, what the gates saw since the last one.

    ``last_recognised`` is the resident's latest passage at any time; ``unknown_since`` are the face passages
    nobody was matched to after it (any gate of the estate): one of them may be the resident, unrecognised.
    """

    resident_id: str
    since: datetime
    passages: list[Passage]
    last_recognised: Passage | None = None
    unknown_since: list[Passage]
