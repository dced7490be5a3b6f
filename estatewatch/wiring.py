"""Glue between parts that must not know each other.

Vision hands every detected fall to an ``AlertSink``; ``raise_littering_alert`` is that sink. It lives in the wiring
layer so that vision never imports alerts, and it is a module-level function so a vision worker process can unpickle
it by name. ``broker_accounts`` builds the broker account registry (CLI, API) from the settings, and
``ApiBrokerAccounts`` puts it into the admin API's terms.
"""

from __future__ import annotations

import contextlib
import shlex
from collections.abc import Iterator, Sequence

from alerts.drafts import littering_draft
from alerts.intake import raise_alert
from api.broker_port import (
    AccountConflictError,
    AccountNotFoundError,
    AccountRejectedError,
    AccountView,
    BrokerUnavailableError,
    IssuedAccount,
)
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
from store.db import Conn
from vision.records import LitteringNotice


def raise_littering_alert(conn: Conn, notice: LitteringNotice) -> str:
    """Raise the littering alert of a notice in the caller's transaction and return its id."""
    draft = littering_draft(site=notice.site, camera=notice.camera, event_id=notice.event_id,
                            building=notice.building, floor=notice.floor, occurred_at=notice.occurred_at,
                            details=notice.details, evidence=notice.evidence)
    return raise_alert(conn, draft)


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
