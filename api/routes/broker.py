"""Per-device broker accounts (admin only): issue, list, rotate, revoke; each change reloads the broker.

The password is in the response of issue and rotate only, with ``Cache-Control: no-store``: EstateWatch keeps a hash.
Device accounts are registered as devices too (and unregistered on revoke), so ``EW_REQUIRE_REGISTERED_DEVICES``
accepts exactly them.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Request, Response, status

from api.broker_port import (
    AccountConflictError,
    AccountNotFoundError,
    AccountRejectedError,
    AccountView,
    BrokerAccountsPort,
    BrokerUnavailableError,
    IssuedAccount,
)
from api.deps import Admin, PoolDep, SettingsDep
from api.models.broker import BrokerAccount, BrokerAccountBody, BrokerAccountIssued, BrokerAccountList
from common.settings import Settings
from store.db import Pool
from store.devices import register
from store.registry import unregister

router = APIRouter(prefix="/api/v1/broker", tags=["broker"])
DEVICE_KINDS = frozenset({"sensor", "camera", "gate", "unit"})
NO_STORE = {"Cache-Control": "no-store"}


def get_accounts(request: Request) -> BrokerAccountsPort:
    """The registry the wiring handed to ``create_app``; 503 when this process was started without one."""
    accounts: BrokerAccountsPort | None = getattr(request.app.state, "broker_accounts", None)
    if accounts is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "broker accounts are not managed by this process")
    return accounts


AccountsDep = Annotated[BrokerAccountsPort, Depends(get_accounts)]


def _model(view: AccountView) -> BrokerAccount:
    return BrokerAccount.model_validate({
        "username": view.username, "kind": view.kind, "site": view.site, "unit": view.unit,
        "leaves": list(view.leaves), "issued_at": view.issued_at,
        "topics": [{"access": access, "topic": topic} for access, topic in view.topics]})


def _issued(issued: IssuedAccount, settings: Settings) -> BrokerAccountIssued:
    target = settings.mqtt
    user, secret = quote(issued.account.username, safe=""), quote(issued.password, safe="")
    scheme = "mqtts" if target.tls else "mqtt"
    return BrokerAccountIssued(account=_model(issued.account), password=issued.password,
                               mqtt_url=f"{scheme}://{user}:{secret}@{target.host}:{target.port}")


def _of_site(accounts: BrokerAccountsPort, username: str, site: str) -> None:
    if not any(a.username == username for a in accounts.list_accounts(site)):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no account {username!r} on site {site!r}")


@router.get("/accounts")
def list_accounts(_: Admin, accounts: AccountsDep, settings: SettingsDep) -> BrokerAccountList:
    """Every broker account of this site with the topics it may use (no secrets, no hashes)."""
    return BrokerAccountList(accounts=[_model(a) for a in accounts.list_accounts(settings.site)])


@router.post("/accounts", status_code=status.HTTP_201_CREATED,
             responses={409: {"description": "already issued"}, 503: {"description": "broker not reloaded"}})
def issue_account(_: Admin, body: BrokerAccountBody, accounts: AccountsDep, settings: SettingsDep, pool: PoolDep,
                  response: Response) -> BrokerAccountIssued:
    """Issue an account; the response holds its password, which is not shown again."""
    try:
        issued = accounts.issue(body.kind, settings.site, body.device_id, body.unit, body.leaves)
    except AccountConflictError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except AccountRejectedError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc)) from exc
    except BrokerUnavailableError as exc:  # written but not live: rotating it later hands out a usable secret
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, f"{exc}; rotate the account once the broker is "
                            "reachable") from exc
    if body.kind in DEVICE_KINDS and body.device_id is not None:
        with pool.connection() as conn, conn.transaction():
            register(conn, settings.site, [(body.device_id, body.kind, None)],
                     {body.device_id: body.unit} if body.unit else None)
    response.headers.update(NO_STORE)
    return _issued(issued, settings)


@router.post("/accounts/{username}/rotate",
             responses={404: {"description": "no such account"}, 503: {"description": "broker not reloaded"}})
def rotate_account(_: Admin, username: str, accounts: AccountsDep, settings: SettingsDep,
                   response: Response) -> BrokerAccountIssued:
    """A new password for an account; the old one stops working at once. Shown this once."""
    _of_site(accounts, username, settings.site)
    try:
        issued = accounts.rotate(username)
    except AccountNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except BrokerUnavailableError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    response.headers.update(NO_STORE)
    return _issued(issued, settings)


@router.delete("/accounts/{username}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response,
               responses={404: {"description": "no such account"}, 503: {"description": "broker not reloaded"}})
def revoke_account(_: Admin, username: str, accounts: AccountsDep, settings: SettingsDep,
                   pool: PoolDep) -> Response:
    """Remove an account and unregister its device; the broker refuses it and drops its connections."""
    _of_site(accounts, username, settings.site)
    try:
        accounts.revoke(username)
    except AccountNotFoundError as exc:
        raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from exc
    except BrokerUnavailableError as exc:  # out of the files already: out of the registered devices too
        _unregister(pool, settings.site, username)
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc)) from exc
    _unregister(pool, settings.site, username)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _unregister(pool: Pool, site: str, username: str) -> None:
    """A device account's username is its device id (a service's is never a device): every role refuses it next."""
    with pool.connection() as conn, conn.transaction():
        unregister(conn, site, [username])
