"""The console in headless Chromium against the real app, PostgreSQL and Mosquitto: alerts arrive live without a
reload, an operator acknowledges and resolves from the keyboard and sees the littering evidence, a viewer only
looks. Waits are on selectors, never sleeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
from playwright.sync_api import Page
from psycopg.types.json import Jsonb

from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from common.settings import Settings
from store.db import connect
from tests.console.browser import LiveServer, login
from tests.console.evidence import record_littering, write_littering_evidence
from vision.paths import latest_frame_path


def _raise(settings: Settings, draft: AlertDraft, now: datetime | None = None) -> str:
    """Raise an alert the way every source does: through the alerts area's intake, in one transaction."""
    with connect(settings.require_database_url()) as conn:
        alert_id = raise_alert(conn, draft, now=now)
        conn.commit()
    return alert_id


def _camera_with_a_frame(settings: Settings, camera: str) -> None:
    """A camera the vision service has seen, with floor lines, and its latest frame where the service keeps it."""

    frame = np.full((240, 320, 3), 140, np.uint8)
    ok, jpeg = cv2.imencode(".jpg", frame)
    assert ok
    path = latest_frame_path(settings.data_dir, camera)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(jpeg.tobytes())
    config = {"id": camera, "building": "5", "floor_lines": [220.0, 160.0, 100.0, 40.0]}
    with connect(settings.require_database_url()) as conn:
        conn.execute("INSERT INTO cameras (camera_id, site, name, building, config, width, height, fps, last_frame_at)"
                     " VALUES (%s, %s, %s, '5', %s, 320, 240, 12.5, now())",
                     (camera, settings.site, camera, Jsonb(config)))
        conn.commit()


@dataclass(frozen=True)
class StoredAlert:
    """An alert as the database holds it after the console acted on it."""

    status: str
    resolution: str | None
    history: list[tuple[str, str]]


def _alert_row(settings: Settings, alert_id: str) -> StoredAlert:
    with connect(settings.require_database_url()) as conn:
        row = conn.execute("SELECT status, resolution FROM alerts WHERE id = %s", (alert_id,)).fetchone()
        kinds = conn.execute("SELECT kind, actor FROM alert_history WHERE alert_id = %s ORDER BY id",
                             (alert_id,)).fetchall()
    assert row is not None
    return StoredAlert(row["status"], row["resolution"], [(k["kind"], k["actor"]) for k in kinds])


@pytest.mark.browser
def test_operator_handles_a_live_littering_alert(live_server: LiveServer, users: dict[str, str],
                                                 console_page: Page) -> None:
    page, settings = console_page, live_server.settings
    _raise(settings, AlertDraft(type="temperature", severity="minor", dedup_key="temp:b2", title="Warm riser cupboard",
                                site=settings.site, occurred_at=datetime.now(UTC), subject={"building": "2"}))
    login(page, live_server.url, users["operator"])
    page.wait_for_selector("#queue li")

    event_id, alert_id = record_littering(settings, camera="tower3-south", building="3", floor=14)

    # it appears without a reload, above the older, less severe one
    page.wait_for_selector(f'#queue li[data-id="{alert_id}"].fresh')
    assert page.locator("#queue li").first.get_attribute("data-id") == alert_id
    assert page.locator(f'#queue li[data-id="{alert_id}"] .sla').inner_text().startswith("ack ")
    write_littering_evidence(settings, event_id=event_id, camera="tower3-south", floor=14)  # follows by seconds

    page.keyboard.press("j")  # select the top alert and open it
    page.wait_for_selector("#detail-title:text('Object thrown from floor 14 (tower3-south)')")
    page.wait_for_function("() => document.querySelector('#detail img.snapshot')?.naturalWidth > 0")
    page.wait_for_function("() => document.querySelector('#detail video.clip')?.readyState >= 1")  # clip playable
    page.click("#detail img.snapshot")  # the snapshot opens full size
    page.wait_for_function("() => document.querySelector('#image-full').naturalWidth > 0")
    page.keyboard.press("Escape")

    page.keyboard.press("a")
    page.wait_for_selector(f'#queue li[data-id="{alert_id}"][data-status="acknowledged"]')
    page.wait_for_selector("#detail-status:text('acknowledged')")

    page.keyboard.press("c")
    page.fill("#text-form textarea", "Security guard sent to tower 3")
    page.click("#text-ok")
    page.wait_for_selector("#detail .timeline li[data-kind=commented]")

    page.keyboard.press("r")
    page.wait_for_selector("#resolve-dialog[open]")
    page.keyboard.press("2")  # false alarm
    page.click("#resolve-ok")
    page.wait_for_selector(f'#queue li[data-id="{alert_id}"]', state="detached")  # gone from the active queue
    page.wait_for_selector("#detail-status:text('resolved')")

    stored = _alert_row(settings, alert_id)
    assert (stored.status, stored.resolution) == ("resolved", "false_positive")
    assert ("acknowledged", "oscar") in stored.history
    assert ("resolved", "oscar") in stored.history


@pytest.mark.browser
def test_viewer_watches_sla_flood_and_estate_but_cannot_act(live_server: LiveServer, users: dict[str, str],
                                                           console_page: Page) -> None:
    page, settings = console_page, live_server.settings
    long_ago = datetime.now(UTC) - timedelta(minutes=30)  # its 5-minute acknowledge deadline is long past
    smoke = AlertDraft(type="smoke", severity="critical", dedup_key="smoke:5-0801", title="Smoke in 5-0801",
                       site=settings.site, occurred_at=long_ago, subject={"building": "5", "floor": 8})
    late = _raise(settings, smoke, now=long_ago)

    page.goto(live_server.url + "/")
    page.fill("#login-form [name=username]", users["viewer"])
    page.fill("#login-form [name=password]", "not the password")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#login-error:text('Wrong user name or password.')")
    login(page, live_server.url, users["viewer"])

    row = f'#queue li[data-id="{late}"]'
    page.wait_for_selector(f"{row}[data-sla=late] .sla-late")
    page.keyboard.press("j")
    page.wait_for_selector("#detail button[data-action=ack][disabled]")
    page.keyboard.press("a")  # a viewer's shortcut does nothing
    assert page.locator("#tabs a[data-view=users]").is_hidden()

    for n in range(12):  # a burst of new alerts raises the flood banner
        _raise(settings, AlertDraft(type="device_offline", severity="minor", dedup_key=f"offline:cam{n}",
                                    title=f"Camera {n} offline", site=settings.site, occurred_at=datetime.now(UTC),
                                    subject={"device": f"cam{n}", "building": "7"}))
    page.wait_for_selector("#flood:not([hidden])")
    # the same cause (type + building) collapses into one row with a count; opening it shows every alert
    page.wait_for_selector('#queue li[data-group-size="12"]')
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 2")
    assert page.locator("#queue li").first.get_attribute("data-id") == late  # smoke stays on top
    page.click('#queue li[data-group-size="12"] button[data-toggle]')
    page.wait_for_function("() => document.querySelectorAll('#queue li').length === 13")

    with connect(settings.require_database_url()) as conn:
        conn.execute("INSERT INTO residents (resident_id, site, unit, building, floor, elderly, lives_alone, contacts,"
                     " consent) VALUES ('r-5801', %s, '5-0801', '5', 8, true, true, %s, true)",
                     (settings.site, '[{"role": "daughter", "phone": "138-0000-0001"}]'))
        conn.commit()
    page.keyboard.press("2")  # elders
    page.wait_for_selector('#elders tr[data-resident="r-5801"]')
    assert "138-0000-0001" not in page.inner_text('#elders tr[data-resident="r-5801"]')  # a viewer sees no phone
    assert page.locator('#elders tr[data-resident="r-5801"] button[data-action=hospital]').is_disabled()

    _camera_with_a_frame(settings, "tower5-north")
    page.keyboard.press("3")  # cameras
    tile = '#cameras figure[data-camera="tower5-north"]'
    page.wait_for_function(f"() => document.querySelector('{tile} img')?.naturalWidth > 0")
    page.click(f"{tile} img")  # calibration overlay drawn over the latest frame
    page.wait_for_function(f"() => document.querySelector('{tile} img').src.includes('calibration.jpg')"
                           f" && document.querySelector('{tile} img').complete"
                           f" && document.querySelector('{tile} img').naturalWidth > 0")

    page.keyboard.press("4")  # estate overview
    page.wait_for_selector('#buildings .building[data-building="5"][data-colour=red]')
    page.wait_for_selector("#chart-hour svg rect")
    assert _alert_row(settings, late).status == "open"


_MODEL_CHECK = """async () => {
  const { compareAlerts, slaState, FloodMeter } = await import('/static/js/model.js');
  const now = Date.parse('2026-01-01T12:00:00Z');
  const at = (min) => new Date(now + min * 60000).toISOString();
  const alert = (id, status, severity, createdMin, ackDueMin, resolveDueMin = 180, type = 'temperature') => ({
    id, type, status, severity, created_at: at(createdMin),
    acknowledged_at: status === 'open' ? null : at(createdMin + 1),
    sla: { ack_due_at: at(ackDueMin), resolve_due_at: at(resolveDueMin), ack_breached: false, resolve_breached: false },
  });
  const queue = [
    alert('acked-critical', 'acknowledged', 'critical', -10, -5),
    alert('open-minor-old', 'open', 'minor', -30, 10),
    alert('open-major-due-later', 'open', 'major', -1, 4),
    alert('open-major-due-first', 'open', 'major', -20, 2),
    alert('resolved', 'resolved', 'critical', -60, -55),
    alert('escalated-offline', 'open', 'critical', -40, -35, 180, 'device_offline'),
    alert('smoke-minor', 'open', 'minor', 0, 5, 180, 'smoke'),
  ].sort(compareAlerts).map((a) => a.id);
  const flood = new FloodMeter(3, 60000);
  [0, 1000, 2000].forEach((t) => flood.add(now + t));
  return {
    queue,
    ok: slaState(alert('a', 'open', 'major', -1, 4), now).state,
    near: slaState(alert('b', 'open', 'major', -4, 1), now).state,
    late: slaState(alert('c', 'open', 'major', -6, -1), now).state,
    fixLate: slaState(alert('d', 'acknowledged', 'major', -200, -195, -20), now).state,
    done: slaState(alert('e', 'resolved', 'major', -6, -1), now).state,
    flooding: flood.flooding(now + 3000),
    calmLater: flood.flooding(now + 70000),
  };
}"""


@pytest.mark.browser
def test_queue_order_and_sla_states_in_the_page(live_server: LiveServer, console_page: Page) -> None:
    """The ordering and SLA rules as the browser runs them: life-safety type, then severity, then the nearest
    deadline; device alerts last even when escalated to critical.
    """
    console_page.goto(live_server.url + "/")
    result = console_page.evaluate(_MODEL_CHECK)
    assert result["queue"] == ["smoke-minor", "acked-critical", "open-major-due-first", "open-major-due-later",
                               "open-minor-old", "escalated-offline", "resolved"]
    assert [result[k] for k in ("ok", "near", "late", "fixLate", "done")] == ["ok", "near", "late", "late", "done"]
    assert (result["flooding"], result["calmLater"]) == (True, False)
