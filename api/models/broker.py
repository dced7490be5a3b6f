"""Broker accounts as the admin API returns them: never a hash, and the secret only once, when it is made."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.models.base import ApiModel

AccountKind = Literal["sensor", "camera", "gate", "unit", "ingest", "vision", "alerts", "api", "simulator",
                      "integrator"]
UnitLeaf = Literal["door", "motion", "water"]


class TopicGrant(ApiModel):
    """One topic the account may use (``read`` or ``write``); the broker refuses every other."""

    access: Literal["read", "write"]
    topic: str


class BrokerAccount(ApiModel):
    """An issued account: who it is and what it may publish or read."""

    username: str
    kind: AccountKind
    site: str
    unit: str | None
    leaves: list[UnitLeaf]
    issued_at: str
    topics: list[TopicGrant]


class BrokerAccountList(ApiModel):
    """Every account of the site, by username."""

    accounts: list[BrokerAccount]


class BrokerAccountIssued(ApiModel):
    """A new or rotated account with its password, shown this once; the registry keeps only a hash."""

    account: BrokerAccount
    password: str
    mqtt_url: str = Field(description="mqtt://user:password@host:port with the broker host as a placeholder")


class BrokerAccountBody(BaseModel):
    """An account to issue: a device (its id; a unit device also its unit and leaves) or a service role."""

    kind: AccountKind
    device_id: str | None = Field(default=None, max_length=64, description="devices only: the id in its topics")
    unit: str | None = Field(default=None, max_length=64, description="unit devices only")
    leaves: list[UnitLeaf] = Field(default_factory=list, description="unit devices only: what it reports")
