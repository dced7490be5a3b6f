"""Small helpers for ingest tests: wait for a condition, count rows, publish with a real client."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from store.db import connect


def wait_until(condition: Callable[[], bool], timeout: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def scalar(db_url: str, sql: str, params: tuple[Any, ...] = ()) -> Any:
    with connect(db_url) as conn:
        row = conn.execute(sql.encode(), params).fetchone()
    assert row is not None
    return next(iter(row.values()))
