"""Dispatch in headless Chromium against the real app: an operator sends an alert to a grid worker from the detail
pane (clocks ticking, QR code shown), the responder works it on the on-site page in Chinese on a phone-sized
screen, and the next operator is shown the unread handover note at sign-in.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.sync_api import Browser, Page

from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from alerts.responder_seed import seed_demo_responders
from common.settings import Settings
from store import handover
from store.db import connect
from tests.console.browser import LiveServer, login


def _littering(settings: Settings) -> str:
    with connect(settings.require_database_url()) as conn:
        alert_id = raise_alert(conn, AlertDraft(
            type="littering", severity="major", dedup_key="littering:tower3-south", title="Object thrown from floor 14",
            site=settings.site, occurred_at=datetime.now(UTC),
            subject={"camera": "tower3-south", "building": "3", "floor": 14}))
        seed_demo_responders(conn, settings.site)
        conn.commit()
    return alert_id


@pytest.mark.browser
def test_dispatch_from_the_detail_and_work_it_on_the_onsite_page(live_server: LiveServer, users: dict[str, str],
                                                                 console_page: Page, chromium: Browser) -> None:
    page, settings = console_page, live_server.settings
    alert_id = _littering(settings)
    login(page, live_server.url, users["operator"])
    page.click(f'#queue li[data-id="{alert_id}"]')
    page.wait_for_selector("#dispatch-box #dispatch-send")
    assert page.input_value("#dispatch-complexity") == "general"  # the alert's SLA class
    page.select_option("#dispatch-who", "p:grid-wang")
    page.select_option("#dispatch-complexity", "simple")
    page.click("#dispatch-send")
    order = page.wait_for_selector('#dispatch-box li.work-order[data-status="assigned"]')
    assert order is not None
    assert "王丽 Wang Li" in order.inner_text()
    assert "+86 138 0000 0102" in order.inner_text()
    qr = page.wait_for_selector("#dispatch-box img.wo-qr")
    assert qr is not None
    page.wait_for_function("() => document.querySelector('#dispatch-box img.wo-qr').naturalWidth > 0")
    clock = '#dispatch-box li[data-stage="on_site"]'
    first = page.inner_text(clock)
    assert first.startswith(("On site: due in 4m", "On site: due in 5m"))
    page.wait_for_function(f"(t) => document.querySelector('{clock}').textContent !== t", arg=first)  # it ticks
    url = page.get_attribute("#dispatch-box a.wo-url", "href")
    order_id = order.get_attribute("data-id")
    page.click("#work-orders-button")  # the estate's open work orders, each linking to its alert
    page.wait_for_selector(f'#work-orders-dialog[open] li.wo-row[data-id="{order_id}"][data-alert="{alert_id}"]')
    page.click("#work-orders-dialog button.primary")
    assert url is not None
    assert "/onsite/" in url

    phone = chromium.new_context(viewport={"width": 390, "height": 780}, locale="zh-CN")
    errors: list[str] = []
    try:
        mobile = phone.new_page()
        mobile.on("pageerror", lambda exc: errors.append(str(exc)))
        mobile.goto(url)
        mobile.wait_for_selector("#onsite-title")
        assert mobile.inner_text("#onsite-title") == "14层高空抛物（tower3-south）"
        assert mobile.inner_text("#onsite-heading") == "工单"
        mobile.click("#arrived")
        mobile.wait_for_selector('#onsite-status[data-status="on_site"]')
        mobile.wait_for_selector('#onsite-stages li[data-stage="on_site"][data-state="met"]')
        mobile.fill("#note-solved", "已清理，已提醒住户")
        mobile.click("#send-solved")
        mobile.wait_for_selector('#onsite-status[data-status="solved"]')
        assert mobile.inner_text("#onsite-message") == "谢谢：告警已关闭。"
        mobile.click("#onsite-language")
        assert mobile.inner_text("#onsite-heading") == "Work order"
    finally:
        phone.close()
    assert not errors, errors

    page.wait_for_selector('#detail-status[data-status="resolved"]')  # the console follows the alert's stream
    page.wait_for_selector('#dispatch-box li.work-order[data-status="solved"]')
    assert "已清理，已提醒住户" in page.inner_text("#dispatch-box")


@pytest.mark.browser
def test_the_next_shift_sees_unread_handover_notes_at_sign_in(live_server: LiveServer, users: dict[str, str],
                                                              console_page: Page) -> None:
    page, settings = console_page, live_server.settings
    with connect(settings.require_database_url()) as conn:
        handover.add_note(conn, settings.site, "night-shift", "Gate 2 barrier sticks; security informed",
                          datetime.now(UTC))
        conn.commit()
    login(page, live_server.url, users["operator"])
    page.wait_for_selector("#handover-dialog[open] li:has-text('Gate 2 barrier sticks')")
    page.click("#handover-list button.handover-read")
    page.wait_for_selector("#handover-list li:text('No unread handover notes.')")
    page.fill("#handover-text", "All quiet; tower 5 smoke test at 10:00")
    page.click("#handover-save")
    page.wait_for_selector("#handover-dialog", state="hidden")
    with connect(settings.require_database_url()) as conn:
        mine = handover.notes_for(conn, settings.site, "night-shift", datetime(2000, 1, 1, tzinfo=UTC),
                                  unread_only=True, limit=10)
    assert [n.body for n in mine] == ["All quiet; tower 5 smoke test at 10:00"]
