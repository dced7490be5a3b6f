"""Small helpers for ingest tests: wait for a condition, count rows, publish with a real client."""

from __future__ import annotations

import time
from collections.abc import Callable

from store.db import connect

ADMIN_TOKEN = "test-admin-token-0123456789"
"""The admin bearer token of the test settings (tests/conftest.py)."""


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
