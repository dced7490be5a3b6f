"""What the admin API needs from the broker account registry, so that the API never imports the wiring layer.

The wiring hands ``create_app`` an object with these methods; it translates its own errors into the ones here,
which the routes map to HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


class AccountRejectedError(ValueError):
    """A bad request: the id, unit or leaves do not fit the kind (HTTP 422)."""


class AccountConflictError(AccountRejectedError):
    """The username is issued already: rotate or revoke it (HTTP 409)."""


class AccountNotFoundError(LookupError):
    """No account by that username (HTTP 404)."""


class BrokerUnavailableError(RuntimeError):
    """The files were written but the broker could not be reloaded (HTTP 503)."""


@dataclass(frozen=True)
class AccountView:
    """An account without its hash."""

    username: str
    kind: str
    site: str
    issued_at: str
    unit: str | None = None
    leaves: tuple[str, ...] = ()
    topics: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class IssuedAccount:
    """An account and its new secret, which exists nowhere else."""

    account: AccountView
    password: str = field(repr=False)


class BrokerAccountsPort(Protocol):
    """Issue, rotate, revoke and list the site's broker accounts."""

    def list_accounts(self, site: str) -> list[AccountView]:
        """Every account of ``site``, by username."""
        ...

    def issue(self, kind: str, site: str, device_id: str | None, unit: str | None,
              leaves: Sequence[str]) -> IssuedAccount:
        """A new account with a fresh secret, the broker reloaded."""
        ...

    def rotate(self, username: str) -> IssuedAccount:
        """A new secret for an existing account; the old one stops working."""
        ...

    def revoke(self, username: str) -> AccountView:
        """Remove an account; the broker drops its connections."""
        ...
