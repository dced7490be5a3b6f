"""Glue between parts that must not know each other.

Vision hands every detected fall to an ``AlertSink``; ``LitteringAlerts`` is that sink. It lives in the wiring
layer so that vision never imports alerts, and it is a plain frozen dataclass so a vision worker process can unpickle
it. The service that builds it hands it the estate plan of its own settings (``littering_sink``), so the unit
behind a window comes from the plan the service runs with, never from the process environment (the demo hands its
plan to the services in-process). ``camera_status_alert`` is the vision service's camera sink: a camera silent past
its limit raises ``device_offline`` like a sensor, and it resolves by itself when frames return.
``broker_accounts`` builds the broker account registry (CLI, API) from the settings, and ``ApiBrokerAccounts``
puts it into the admin API's terms.
"""

from __future__ import annotations

import contextlib
import logging
import shlex
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from alerts.actions import resolve
from alerts.drafts import littering_draft, sensor_draft
from alerts.intake import raise_alert
from alerts.sensor_rules import SensorFiring
from api.broker_port import (
    AccountConflictError,
    AccountNotFoundError,
    AccountRejectedError,
    AccountView,
    BrokerUnavailableError,
    IssuedAccount,
)
from api.estate_plan import PlanError, Tower, build_layout, load_plan, unit_name
from common.settings import Settings
from estatewatch.broker_accounts import (
    Account,
    AccountError,
    AccountExistsError,
    BrokerAccounts,
    BrokerReloadError,
    CommandReloader,
    Kind,
    Reloader,
    SignalReloader,
    UnknownAccountError,
)
from store import alerts as alert_rows
from store.db import Conn
from vision.records import LitteringNotice
from vision.silence import CameraStatus

log = logging.getLogger(__name__)


def plan_towers(estate_file: Path | None) -> dict[str, Tower]:
    """The towers of an estate file by id (a bad file names no unit, it stops no alert)."""
    try:
        return {t.id: t for t in build_layout(load_plan(estate_file), {}, {}).towers}
    except PlanError:
        log.exception("estate file unreadable: littering alerts name no unit")
        return {}


@dataclass(frozen=True)
class LitteringAlerts:
    """The littering alert sink of one vision service, with the towers of the estate plan it runs with.

    Picklable (it crosses to the vision worker processes with their configuration), and read once when the service
    is built, so every worker names units from the same plan.
    """

    towers: Mapping[str, Tower] = field(default_factory=dict)

    def __call__(self, conn: Conn, notice: LitteringNotice) -> str:
        """Raise the littering alert of a notice in the caller's transaction and return its id.

        The unit behind the window comes from ``towers`` when the notice's tower says how its units are numbered;
        otherwise (no plan, a tower the plan does not number) the alert names floor and column only.
        """
        unit = None
        if notice.floor is not None and notice.window_column is not None:
            unit = unit_name(self.towers.get(notice.building or ""), notice.floor, notice.window_column)
        draft = littering_draft(site=notice.site, camera=notice.camera, event_id=notice.event_id,
                                building=notice.building, floor=notice.floor, occurred_at=notice.occurred_at,
                                details=notice.details, evidence=notice.evidence,
                                window_column=notice.window_column, unit=unit)
        return raise_alert(conn, draft)


def littering_sink(settings: Settings) -> LitteringAlerts:
    """The littering alert sink for a service running with ``settings``: units from its ``estate_file``."""
    return LitteringAlerts(plan_towers(settings.estate_file))


def camera_status_alert(conn: Conn, status: CameraStatus) -> str | None:
    """A silent camera's ``device_offline`` alert (its id), or the resolve of it when frames are back (None)."""
    key = f"device_offline:{status.camera}"
    if status.online:
        alert_id = alert_rows.active_id(conn, status.site, key)
        if alert_id is not None:
            resolve(conn, alert_id, "other", "system", status.at,
                    note=f"camera frames back after {status.silent_s:.0f} s")
        return None
    firing = SensorFiring("device_offline", "minor", status.camera, status.at, "Device offline",
                          {"cause": f"no frame for {status.silent_s:.0f} s",
                           "last_seen": status.last_frame_at.isoformat() if status.last_frame_at else None})
    subject = {"camera": status.camera, **({"building": status.building} if status.building else {})}
    return raise_alert(conn, sensor_draft(firing, status.site, subject), now=status.at)


def broker_reloader(settings: Settings) -> Reloader | None:
    """How to reload the broker after an account change: a command, a pid file, or nothing (files only)."""
    if settings.broker_reload_command:
        return CommandReloader(tuple(shlex.split(settings.broker_reload_command)))
    if settings.broker_pid_file is not None:
        return SignalReloader(pid_file=settings.broker_pid_file)
    return None


def broker_accounts(settings: Settings) -> BrokerAccounts:
    """The broker account registry of these settings, with the reloader and file owner they name."""
    owner = None
    if settings.broker_file_owner:
        uid, gid = settings.broker_file_owner.split(":")
        owner = (int(uid), int(gid))
    return BrokerAccounts(settings.broker_auth_path, reloader=broker_reloader(settings), owner=owner)


class ApiBrokerAccounts:
    """The admin API's view of a ``BrokerAccounts``: the API's own types and errors, so it never imports this layer."""

    def __init__(self, accounts: BrokerAccounts) -> None:
        self.accounts = accounts

    def list_accounts(self, site: str) -> list[AccountView]:
        """Every account of ``site``, by username, without hashes."""
        return [_view(a) for a in self.accounts.accounts(site)]

    def issue(self, kind: str, site: str, device_id: str | None, unit: str | None,
              leaves: Sequence[str]) -> IssuedAccount:
        """Issue an account and reload the broker, in the API's terms."""
        with _as_api_errors():
            issued = self.accounts.issue(Kind(kind), site, device_id, unit=unit, leaves=leaves)
        return IssuedAccount(_view(issued.account), issued.password)

    def rotate(self, username: str) -> IssuedAccount:
        """A new secret for an account, in the API's terms."""
        with _as_api_errors():
            issued = self.accounts.rotate(username)
        return IssuedAccount(_view(issued.account), issued.password)

    def revoke(self, username: str) -> AccountView:
        """Remove an account, in the API's terms."""
        with _as_api_errors():
            return _view(self.accounts.revoke(username))


def _view(account: Account) -> AccountView:
    return AccountView(username=account.username, kind=account.kind.value, site=account.site,
                       issued_at=account.issued_at, unit=account.unit, leaves=account.leaves,
                       topics=tuple(account.topics()))


@contextlib.contextmanager
def _as_api_errors() -> Iterator[None]:
    try:
        yield
    except AccountExistsError as exc:
        raise AccountConflictError(str(exc)) from exc
    except UnknownAccountError as exc:
        raise AccountNotFoundError(str(exc)) from exc
    except AccountError as exc:
        raise AccountRejectedError(str(exc)) from exc
    except BrokerReloadError as exc:
        raise BrokerUnavailableError(str(exc)) from exc
