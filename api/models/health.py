"""Liveness and readiness answers."""

from __future__ import annotations

from typing import Literal

from api.models.base import ApiModel


class Health(ApiModel):
    """The process is up."""

    status: Literal["ok"] = "ok"


class Readiness(ApiModel):
    """Whether the database answers and the broker connection is up, with each check's result."""

    ready: bool
    checks: dict[str, str]
