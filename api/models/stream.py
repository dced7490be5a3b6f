"""What the live alert stream carries in each Server-Sent Event's ``data``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from api.models.base import ApiModel


class AlertChange(ApiModel):
    """The data of an ``alert`` event: which alert changed and how; the console fetches the alert itself."""

    id: str
    change: str
    status: Literal["open", "acknowledged", "resolved"]
    type: str
    severity: Literal["info", "minor", "major", "critical"]
    site: str


class StreamHello(ApiModel):
    """The data of the ``hello`` event that opens a stream: the process life its event ids belong to."""

    boot: str


class StreamReset(ApiModel):
    """The data of a ``reset`` event: the client must reload the list (a gap, an overflow, a reconnect)."""

    reason: str


STREAM_EVENTS: dict[str, type[BaseModel]] = {"hello": StreamHello, "alert": AlertChange, "reset": StreamReset}
"""Each event name of the alert stream and the model of its ``data``."""
