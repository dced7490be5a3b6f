"""Sign-in, the caller, and console users."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.models.base import ApiModel
from api.security import Role


class LoginIn(BaseModel):
    """Either a username and password, or a bearer token (the admin token, an API token) to open a session with."""

    username: str | None = Field(default=None, max_length=64)
    password: str | None = Field(default=None, max_length=256)
    token: str | None = Field(default=None, max_length=256)


class Me(ApiModel):
    """Who the caller is; a cookie session also gets the CSRF token its unsafe requests must echo."""

    name: str
    role: Role
    via: Literal["session", "token"]
    csrf_token: str | None = None


class UserIn(BaseModel):
    """A new console user."""

    username: str = Field(pattern=r"^[A-Za-z0-9_.@-]{1,64}$")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    display_name: str | None = Field(default=None, max_length=120)


class UserPatch(BaseModel):
    """Changes to a console user; left-out fields stay as they are."""

    role: Role | None = None
    password: str | None = Field(default=None, min_length=8, max_length=256)
    disabled: bool | None = None
    display_name: str | None = Field(default=None, max_length=120)


class User(ApiModel):
    """A console user as the admin list shows it (never the password hash)."""

    username: str
    display_name: str | None
    role: Role
    created_at: datetime
    updated_at: datetime
    disabled: bool


class UserCreated(ApiModel):
    """The user just added."""

    username: str
    role: Role


class UserChanged(ApiModel):
    """The user just changed."""

    username: str


class TokenIn(BaseModel):
    """A bearer token to issue for one integrator (a display wall, a building-management system, a script)."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.@ -]{1,64}$", description="who holds it")
    role: Role
    expires_days: float | None = Field(default=None, gt=0, le=3650, description="unset = until revoked")


class TokenIssued(ApiModel):
    """The token just issued; ``token`` is shown this once and never stored (only its hash is)."""

    id: int
    name: str
    role: Role
    token: str
    expires_at: datetime | None


class TokenInfo(ApiModel):
    """An issued token as the admin list shows it (never the token itself)."""

    id: int
    name: str
    role: Role
    created_at: datetime
    created_by: str | None
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None
