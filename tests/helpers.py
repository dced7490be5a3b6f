"""Small helpers the tests share: wait for a condition, count rows, try broker credentials, take the database away."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql as pgsql

from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from common.mqtt import BoundedPublisher
from common.settings import MqttTarget, Settings
from store.db import connect

ADMIN_TOKEN = "test-admin-token-0123456789"
"""The admin bearer token of the test settings (tests/conftest.py)."""
ReplayFiles = Callable[[list[dict[str, str]], list[str]], tuple[Path, Path]]
"""The ``replay_files`` fixture (tests/alerts/conftest.py): (events, resident CSV rows) -> (events file, CSV file)."""


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def scalar(db_url: str, sql: str, params: tuple[object, ...] = ()) -> object:
    """The first column of the first row of a query written in the test."""
    with connect(db_url) as conn:
        row = conn.execute(sql.encode(), params).fetchone()
    assert row is not None
    return next(iter(row.values()))


def number(db_url: str, sql: str, params: tuple[object, ...] = ()) -> int:
    """``scalar`` for a count or another integer column, typed so that tests can compare it."""
    value = scalar(db_url, sql, params)
    assert isinstance(value, int), f"expected an integer, got {value!r}"
    return value


@dataclass(frozen=True)
class DatabaseSwitch:
    """Takes one test's database away from every client and gives it back (fixture ``database_switch``)."""

    server_url: str
    dbname: str

    def __call__(self, *, usable: bool) -> None:
        """Allow or refuse new connections; refusing also ends the open ones, so no client keeps working."""
        with psycopg.connect(self.server_url, autocommit=True) as admin:
            admin.execute(pgsql.SQL("ALTER DATABASE {} WITH ALLOW_CONNECTIONS {}").format(
                pgsql.Identifier(self.dbname), pgsql.SQL("true" if usable else "false")))
            if not usable:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                              (self.dbname,))


def can_login(target: MqttTarget, wait: float = 2.0) -> bool:
    """Whether the broker accepts these credentials (the client is closed either way)."""
    client = BoundedPublisher(target, max_inflight=1)
    try:
        client.start(wait=wait)
    except ConnectionError:
        return False
    else:
        return True
    finally:
        client.close(flush_timeout=0)


def raise_committed(settings: Settings, draft: AlertDraft) -> str:
    """Raise ``draft`` on the test database in a transaction of its own, committed, and return the alert's id."""
    with connect(settings.require_database_url()) as conn:
        alert_id = raise_alert(conn, draft)
        conn.commit()
    return alert_id
