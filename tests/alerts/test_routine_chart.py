"""The Elders view's routine chart (``api/static/js/routine_chart.js``) in headless Chromium, drawn from what the
real API serves for a resident whose routine the service's driver learnt.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import sync_playwright

from alerts.db_driver import Processor
from alerts.presence import PresenceEvent, Resident
from alerts.resident_records import upsert_residents
from common.settings import Settings
from store.db import connect
from tests.console.browser import CHROMIUM, CHROMIUM_ARGS, serve
from tests.helpers import ADMIN_TOKEN

DRAW = """async (token) => {
  const { routineChart, longestSpell, settingsText } = await import("/static/js/routine_chart.js");
  const answer = await fetch("/api/v1/residents/r1/routine", { headers: { Authorization: `Bearer ${token}` } });
  const routine = await answer.json();
  const box = document.createElement("div");
  document.body.append(box);
  const chart = routineChart(box, routine);
  return {
    lines: [...chart.querySelectorAll("polyline")]
      .map((p) => [p.dataset.line, p.getAttribute("points").split(" ").length]),
    dots: chart.querySelectorAll("[data-longest]").length,
    mark: chart.querySelector("[data-mark=longest] title")?.textContent ?? null,
    longest: longestSpell(routine),
    settings: settingsText(routine),
  };
}"""


def test_the_chart_draws_usual_and_threshold_lines_by_hour_and_marks_the_longest_spell(settings: Settings) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    with connect(settings.require_database_url()) as conn, conn.transaction():
        upsert_residents(conn, settings.site, [Resident("r1", "A-1201", elderly=True, lives_alone=True)],
                         consent=True)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=16)
    events = [PresenceEvent(start + timedelta(days=d, hours=h, minutes=5 * (h % 4)), "motion", unit="A-1201",
                            sensor="pir") for d in range(16) for h in (*range(7, 13), *range(15, 22))]
    with connect(settings.require_database_url()) as conn, conn.transaction():
        Processor(settings.site, tz=UTC).on_presence_events(conn, events, events[-1].ts)

    with serve(settings) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server.url + "/")
            drawn = page.evaluate(DRAW, ADMIN_TOKEN)
        finally:
            browser.close()
    assert not errors
    assert sorted(drawn["lines"]) == [["weekdays-threshold_min", 24], ["weekdays-usual_min", 24],
                                      ["weekends-threshold_min", 24], ["weekends-usual_min", 24]]
    assert drawn["dots"] >= 4, "every hour with a learnt spell has its longest spell drawn"
    longest = drawn["longest"]
    assert longest["hour"] == 21, "the night, begun at 21:xx, is the longest quiet spell"
    assert longest["minutes"] > 9 * 60
    assert drawn["mark"].startswith("longest quiet spell in 30 days: ")
    assert "sensitivity 0.35" in drawn["settings"]
    assert "days learnt" in drawn["settings"]
