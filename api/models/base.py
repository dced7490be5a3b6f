"""The base every response model shares: built from store rows by attribute, closed to unknown keys."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class ApiModel(BaseModel):
    """A response shape; ``from_attributes`` lets a route hand in a store dataclass as it is."""

    model_config = ConfigDict(from_attributes=True)
