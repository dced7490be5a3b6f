"""Dependencies shared by the routers, as ``Annotated`` aliases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.security import Principal, Role, principal_for_token
from common.settings import Settings
from store.db import Pool

_bearer = HTTPBearer(auto_error=False)


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


def get_pool(request: Request) -> Pool:
    """The database pool the lifespan opened."""
    pool: Pool = request.app.state.pool
    return pool


SettingsDep = Annotated[Settings, Depends(get_settings)]
PoolDep = Annotated[Pool, Depends(get_pool)]


def get_principal(
    request: Request,
    settings: SettingsDep,
    pool: PoolDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, from a bearer token or (for the console) a session cookie."""
    if credentials is not None:
        admin = settings.admin_token.get_secret_value() if settings.admin_token else None
        principal = principal_for_token(credentials.credentials, admin, pool)
        if principal is not None:
            return principal
    resolver: Callable[[Request], Principal | None] | None = getattr(request.app.state, "session_resolver", None)
    if resolver is not None:
        principal = resolver(request)
        if principal is not None:
            return principal
    raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or invalid credentials",
                        headers={"WWW-Authenticate": "Bearer"})


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through callers with at least ``role``."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"needs the {role} role")
        return principal

    return check


Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]
