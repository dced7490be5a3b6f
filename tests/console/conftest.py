"""Fixtures of the console's tests: the real app under uvicorn (real PostgreSQL and Mosquitto from the suite's
conftest), users of each role and device alerts to act on; the headless Chromium pages (``console_page``) come from
the suite's conftest.
Shared helpers live in ``tests.console.browser``; tests import from there, never from this file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from alerts.drafts import AlertDraft
from api.security import create_user
from common.settings import Settings
from store.db import connect
from tests.console.browser import PASSWORD, ROLE_USERS, LiveServer, serve
from tests.helpers import raise_committed


@pytest.fixture
def live_server(settings: Settings) -> Iterator[LiveServer]:
    """The real app served over HTTP in a background thread, as a browser sees it."""
    with serve(settings) as server:
        yield server


@pytest.fixture
def users(settings: Settings) -> dict[str, str]:
    """One console user per role, all with ``PASSWORD``; maps role to user name."""
    with connect(settings.require_database_url()) as conn:
        for role, name in ROLE_USERS.items():
            create_user(conn, name, PASSWORD, role)
        conn.commit()
    return dict(ROLE_USERS)


@pytest.fixture
def device_alert(settings: Settings) -> Callable[[str, str, str], str]:
    """Raises a major device alert ``(type, device, building)`` on this test's site and returns its id."""
    def raise_one(type_: str, device: str, building: str) -> str:
        draft = AlertDraft(type=type_, severity="major", dedup_key=device, title=f"{type_} {device}",
                           site=settings.site, occurred_at=datetime.now(UTC),
                           subject={"building": building, "device": device})
        return raise_committed(settings, draft)
    return raise_one
