"""The Elders view names the resident for those who phone: an operator sees the name and age beside the id, in
English and in Chinese; a viewer sees the pseudonymous id only (the API sends no name to a viewer).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from alerts.resident_csv import parse_import
from alerts.resident_records import import_residents
from common.settings import Settings
from store.db import connect
from tests.console.browser import LiveServer, login

CSV = ("resident_id,unit,elderly,lives_alone,consent,name,age,contact_relation,contact_name,contact_phone\n"
       "r-0802,5-0802,yes,yes,yes,王秀英,82,daughter,李丽,+86 138 1234 5678\n")
ROW = '#elders tr[data-resident="r-0802"]'


def _import(settings: Settings) -> None:
    with connect(settings.require_database_url()) as conn, conn.transaction():
        import_residents(conn, settings.site, parse_import(CSV))


@pytest.mark.browser
def test_an_operator_sees_name_and_age_in_both_languages(live_server: LiveServer, users: dict[str, str],
                                                         console_page: Page) -> None:
    page = console_page
    _import(live_server.settings)
    login(page, live_server.url, users["operator"])
    page.keyboard.press("2")  # elders
    page.wait_for_selector(f"{ROW} .resident-name")
    assert page.inner_text(f"{ROW} .resident-name") == "王秀英, 82 years"
    assert "r-0802" in page.inner_text(f"{ROW} td >> nth=0")  # the id stays, to match the alerts
    assert "+86 138 1234 5678" in page.inner_text(ROW)
    page.select_option("#language", "zh-CN")
    page.wait_for_function(f"() => document.querySelector('{ROW} .resident-name')?.textContent === '王秀英, 82岁'")


@pytest.mark.browser
def test_a_viewer_sees_the_id_only(live_server: LiveServer, users: dict[str, str], console_page: Page) -> None:
    page = console_page
    _import(live_server.settings)
    login(page, live_server.url, users["viewer"])
    page.keyboard.press("2")  # elders
    page.wait_for_selector(ROW)
    assert page.locator(f"{ROW} .resident-name").count() == 0
    text = page.inner_text(ROW)
    assert "r-0802" in text
    for secret in ("王秀英", "82", "李丽", "+86 138"):
        assert secret not in text
