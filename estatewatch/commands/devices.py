"""``estatewatch devices``: per-device and per-service broker accounts (issue, rotate, revoke, list, sync).

Secrets are printed once and kept nowhere: the registry holds a Mosquitto hash. Device accounts are also registered
in the ``devices`` table when issued and unregistered when revoked, so ``EW_REQUIRE_REGISTERED_DEVICES`` accepts
exactly the devices that can log in.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from estatewatch.broker_accounts import (
    DEVICE_KINDS,
    Account,
    AccountError,
    AccountRequest,
    BrokerAccounts,
    BrokerReloadError,
    Issued,
    Kind,
    service_username,
)
from estatewatch.commands import CliGroups

if TYPE_CHECKING:
    from common.settings import Settings

devices_app = typer.Typer(help="Broker accounts of devices, cameras and services (docs/security.md).",
                          no_args_is_help=True)
CSV_COLUMNS = ("kind", "id", "unit", "leaves")


def username_of(request: AccountRequest) -> str:
    """The username a request issues: the device id, or ``ew.<role>.<site>`` for a service."""
    return request.device_id if request.device_id is not None else service_username(request.kind, request.site)


def issue_or_rotate(accounts: BrokerAccounts, requests: Sequence[AccountRequest]) -> list[Issued]:
    """Fresh secrets for ``requests``: new accounts are issued, existing ones rotated (a simulator's restart)."""
    existing = {a.username for a in accounts.accounts()}
    rotate = [r for r in requests if username_of(r) in existing]
    issue = [r for r in requests if username_of(r) not in existing]
    issued = {i.account.username: i for i in accounts.issue_many(issue)} if issue else {}
    if rotate:
        issued.update({i.account.username: i for i in accounts.rotate_many([username_of(r) for r in rotate])})
    return [issued[username_of(r)] for r in requests]


def register_devices(settings: Settings, issued: Sequence[Issued]) -> int:
    """Register issued device accounts as devices (when a database is configured); returns how many."""
    rows = [(i.account.username, i.account.kind.value, None) for i in issued if i.account.kind in DEVICE_KINDS]
    # a unit device's events name its flat, so registration must know which flat it is in
    units = {i.account.username: i.account.unit for i in issued if i.account.unit is not None}
    if not rows or settings.database_url is None:
        return 0
    from store import devices
    from store.db import connect

    with connect(settings.database_url) as conn, conn.transaction():
        devices.register(conn, settings.site, rows, units)
    return len(rows)


def unregister_devices(settings: Settings, gone: Sequence[Account]) -> int:
    """Unregister the devices of revoked accounts (when a database is configured); returns how many were."""
    by_site: dict[str, list[str]] = {}
    for account in gone:
        if account.kind in DEVICE_KINDS:
            by_site.setdefault(account.site, []).append(account.username)
    if not by_site or settings.database_url is None:
        return 0
    from store.db import connect
    from store.registry import unregister

    with connect(settings.database_url) as conn, conn.transaction():
        return sum(unregister(conn, site, ids) for site, ids in by_site.items())


def read_csv(path: Path, site: str) -> list[AccountRequest]:
    """Requests from a CSV with columns kind,id,unit,leaves (leaves separated by ``|``); header required."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"kind", "id"} <= set(reader.fieldnames):
            raise typer.BadParameter(f"{path}: the header must name the columns {', '.join(CSV_COLUMNS)}")
        requests = []
        for line, row in enumerate(reader, start=2):
            try:
                kind = Kind(row["kind"].strip())
            except ValueError:
                raise typer.BadParameter(f"{path}:{line}: unknown kind {row['kind']!r}") from None
            leaves = tuple(x for x in (row.get("leaves") or "").split("|") if x)
            requests.append(AccountRequest(kind, site, row["id"].strip(), (row.get("unit") or "").strip() or None,
                                           leaves))
    return requests


def _print_issued(issued: Sequence[Issued], settings: Settings, as_json: bool) -> None:
    target = settings.mqtt if settings.mqtt_url else None
    rows = [{"username": i.account.username, "kind": i.account.kind.value, "password": i.password,
             **({"mqtt_url": i.mqtt_url(target.host, target.port, tls=target.tls)} if target else {})}
            for i in issued]
    if as_json:
        typer.echo(json.dumps(rows))
        return
    for row in rows:
        typer.echo("  ".join(f"{k}={v}" for k, v in row.items()))
    typer.echo("the passwords are shown this once; EstateWatch keeps only their hashes", err=True)


def _registry(settings: Settings) -> BrokerAccounts:
    from estatewatch.wiring import broker_accounts  # the wiring imports the domain: only when a command runs

    return broker_accounts(settings)


def _settings() -> Settings:
    from common.settings import get_settings

    return get_settings()


def _fail(exc: AccountError | BrokerReloadError) -> typer.Exit:
    typer.echo(f"error: {exc}", err=True)
    return typer.Exit(2 if isinstance(exc, AccountError) else 3)


@devices_app.command("issue")
def issue(
    kind: Annotated[Kind | None, typer.Option(help="sensor, camera, gate or unit (a device of a flat)")] = None,
    device_id: Annotated[str | None, typer.Option("--id", help="the device id its topics carry")] = None,
    unit: Annotated[str | None, typer.Option(help="unit devices: the flat id in their topics")] = None,
    leaf: Annotated[list[str] | None, typer.Option(help="unit devices: door, motion or water (repeatable)")] = None,
    from_csv: Annotated[Path | None, typer.Option(help="issue many: CSV with kind,id,unit,leaves")] = None,
    site: Annotated[str | None, typer.Option(help="estate id (default EW_SITE)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False,
) -> None:
    """Issue a device account (or a CSV of them), register the device, and print its password once."""
    settings = _settings()
    where = site or settings.site
    if from_csv is not None:
        requests = read_csv(from_csv, where)
    elif kind is None or device_id is None:
        raise typer.BadParameter("give --kind and --id, or --from-csv")
    elif kind not in DEVICE_KINDS:
        raise typer.BadParameter(f"{kind.value} is a service role: use `devices issue-service --role {kind.value}`")
    else:
        requests = [AccountRequest(kind, where, device_id, unit, tuple(leaf or ()))]
    try:
        issued = _registry(settings).issue_many(requests)
    except (AccountError, BrokerReloadError) as exc:
        raise _fail(exc) from exc
    register_devices(settings.model_copy(update={"site": where}), issued)
    _print_issued(issued, settings, as_json)


@devices_app.command("issue-service")
def issue_service(
    role: Annotated[Kind, typer.Option(help="ingest, vision, alerts, api, simulator or integrator")],
    site: Annotated[str | None, typer.Option(help="estate id (default EW_SITE)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False,
) -> None:
    """Issue the account of a service role (``ew.<role>.<site>``) and print its password once."""
    settings = _settings()
    if role in DEVICE_KINDS:
        raise typer.BadParameter(f"{role.value} is a device kind: use `devices issue --kind {role.value}`")
    try:
        issued = _registry(settings).issue(role, site or settings.site)
    except (AccountError, BrokerReloadError) as exc:
        raise _fail(exc) from exc
    _print_issued([issued], settings, as_json)


@devices_app.command("ensure-services")
def ensure_services(
    password_env: Annotated[list[str], typer.Option(
        help="ROLE=VARIABLE: the role's account gets the password in that environment variable (repeatable)")],
    site: Annotated[str | None, typer.Option(help="estate id (default EW_SITE)")] = None,
) -> None:
    """Service accounts with passwords from the environment (a deployment's .env); idempotent, for every start."""
    import os

    settings = _settings()
    requests: list[tuple[AccountRequest, str]] = []
    for pair in password_env:
        role, _, variable = pair.partition("=")
        try:
            kind = Kind(role)
        except ValueError:
            raise typer.BadParameter(f"{pair!r}: unknown role {role!r}") from None
        if kind in DEVICE_KINDS or not variable:
            raise typer.BadParameter(f"{pair!r}: give a service role and a variable, e.g. ingest=MQTT_INGEST_PASSWORD")
        password = os.environ.get(variable)
        if not password:
            raise typer.BadParameter(f"{variable} is not set (the password of the {role} account)")
        requests.append((AccountRequest(kind, site or settings.site), password))
    try:
        done = _registry(settings).set_passwords(requests)
    except (AccountError, BrokerReloadError) as exc:
        raise _fail(exc) from exc
    typer.echo("service accounts in place: " + ", ".join(a.username for a in done))


@devices_app.command("rotate")
def rotate(username: str, as_json: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False) -> None:
    """A new password for an account; the old one stops working at the broker's reload."""
    settings = _settings()
    try:
        issued = _registry(settings).rotate(username)
    except (AccountError, BrokerReloadError) as exc:
        raise _fail(exc) from exc
    _print_issued([issued], settings, as_json)


@devices_app.command("revoke")
def revoke(username: str) -> None:
    """Remove an account and unregister its device: the broker refuses it and drops its connections, and every
    role refuses the device's id from its next registry reload, whatever account its messages come through.
    """
    settings = _settings()
    accounts = _registry(settings)
    account = next((a for a in accounts.accounts() if a.username == username), None)
    try:
        gone = accounts.revoke(username)
    except AccountError as exc:
        raise _fail(exc) from exc
    except BrokerReloadError as exc:  # the account is out of the files already: out of the devices too
        if account is not None:
            unregister_devices(settings, [account])
        raise _fail(exc) from exc
    unregistered = unregister_devices(settings, [gone])
    typer.echo(f"revoked {gone.username} ({gone.kind.value})" + (", unregistered" if unregistered else ""))


@devices_app.command("list")
def list_accounts(
    site: Annotated[str | None, typer.Option(help="only this estate")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print a JSON list")] = False,
) -> None:
    """Every account with its kind and topics (never a secret or a hash)."""
    accounts = _registry(_settings()).accounts(site)
    if as_json:
        typer.echo(json.dumps([{**a.public(), "topics": a.topics()} for a in accounts]))
        return
    for a in accounts:
        grants = ", ".join(f"{access} {topic}" for access, topic in a.topics()) or "-"
        typer.echo(f"{a.username}  {a.kind.value}  site={a.site}  issued={a.issued_at}  {grants}")


@devices_app.command("sync")
def sync() -> None:
    """Rewrite the broker's passwd and acl from the registry and reload it (after a restore or a broker move)."""
    accounts = _registry(_settings())
    try:
        accounts.sync()
    except BrokerReloadError as exc:
        raise _fail(exc) from exc
    typer.echo(f"wrote {accounts.password_file} and {accounts.acl_file}")


def register(groups: CliGroups) -> None:
    """Add the ``devices`` group to the CLI."""
    groups.app.add_typer(devices_app, name="devices")
