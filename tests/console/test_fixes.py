"""Details that misled operators: the detail pane's SLA countdown ticks; after a choice in a filter menu, ``a``
acknowledges the selected alert instead of picking another option; the Users table says when it is empty and its
user-name pattern compiles in Chromium (``pattern`` uses the ``v`` flag).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from common.settings import Settings
from store.db import connect
from tests.console.browser import DeviceAlert, LiveServer, login
from tests.helpers import ADMIN_TOKEN


def _status(settings: Settings, alert_id: str) -> str:
    with connect(settings.require_database_url()) as conn:
        row = conn.execute("SELECT status FROM alerts WHERE id = %s", (alert_id,)).fetchone()
    assert row is not None
    return str(row["status"])


@pytest.mark.browser
def test_detail_countdown_ticks(live_server: LiveServer, users: dict[str, str], console_page: Page,
                                device_alert: DeviceAlert) -> None:
    page = console_page
    alert_id = device_alert("temperature", "temp-1", "2")
    login(page, live_server.url, users["operator"])
    page.click(f'#queue li[data-id="{alert_id}"]')
    page.wait_for_selector("#detail-sla")
    first = page.inner_text("#detail-sla")
    assert first.startswith("ack in ")
    page.wait_for_function("(first) => document.querySelector('#detail-sla').textContent !== first", arg=first)
    page.wait_for_function("(first) => document.querySelector('#detail-sla').textContent !== first",
                           arg=page.inner_text("#detail-sla"))  # and again: it keeps moving


@pytest.mark.browser
def test_a_after_a_filter_menu_acknowledges(live_server: LiveServer, users: dict[str, str],
                                            console_page: Page, device_alert: DeviceAlert) -> None:
    page, settings = console_page, live_server.settings
    wanted = device_alert("water_leak", "leak-1", "4")
    other = device_alert("temperature", "temp-2", "5")
    login(page, live_server.url, users["operator"])
    page.wait_for_selector(f'#queue li[data-id="{other}"]')
    page.wait_for_selector('#filter-type option[value="water_leak"]', state="attached")
    page.focus("#filter-type")  # as a mouse or Tab does
    page.select_option("#filter-type", "water_leak")
    page.wait_for_selector(f'#queue li[data-id="{other}"]', state="detached")
    page.keyboard.press("j")
    page.wait_for_selector(f'#queue li[data-id="{wanted}"].selected')
    page.focus("#filter-status")
    page.select_option("#filter-status", "open")
    page.keyboard.press("a")
    page.wait_for_selector("#detail-status[data-status=acknowledged]")
    assert page.eval_on_selector("#filter-status", "s => s.value") == "open"  # the menu did not take the key
    assert page.eval_on_selector("#filter-type", "s => s.value") == "water_leak"
    assert (_status(settings, wanted), _status(settings, other)) == ("acknowledged", "open")


@pytest.mark.browser
def test_users_table_empty_state_and_a_pattern_that_compiles(live_server: LiveServer, console_page: Page) -> None:
    page = console_page
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if "pattern" in message.text else None)
    page.goto(live_server.url + "/")
    page.click("#login-form summary")
    page.fill("#login-form [name=token]", ADMIN_TOKEN)  # the admin token: no user exists yet
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#shell:not([hidden])")
    page.keyboard.press("5")
    page.wait_for_selector("#users tbody tr.empty-row td:text('No console users yet')")
    field = "#user-form [name=username]"
    page.fill(field, "bad name!")
    assert page.eval_on_selector(field, "i => i.validity.patternMismatch") is True
    page.fill(field, "ops.night-1@tower_3")
    assert page.eval_on_selector(field, "i => i.validity.valid") is True
    assert not problems, problems  # Chromium logs an invalid pattern and ignores it
