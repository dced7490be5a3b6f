"""The Chinese console: every key of the string table has a translation, no English key is visible in zh-CN on a
busy queue with an open alert (titles included), times are in EW_TIMEZONE with their label, and the choice follows
the user to another browser.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page

from alerts import actions
from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from api.routes.console import STATIC_DIR
from common.settings import Settings
from store.db import connect
from tests.console.browser import LiveServer, login

JS = STATIC_DIR / "js"
_T_CALL = re.compile(r"\bt\(\s*\"((?:[^\"\\]|\\.)*)\"")
_DATA_T = re.compile(r"<(\w+)[^>]*\bdata-t\b(?![-\w])[^>]*>([^<]+)<")
_DATA_T_ATTR = re.compile(r"data-t-(?:placeholder|title|aria-label)=\"([^\"]+)\"")

# Every visible text node's words, in a page that should be Chinese except for data and these fixed names.
_VISIBLE_TEXT = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.textContent.trim();
    const parent = node.parentElement;
    if (!text || !parent || parent.closest("script, style, template, option:not(:checked)")) continue;
    if (!parent.checkVisibility({ visibilityProperty: true }) || !parent.getClientRects().length) continue;
    out.push(text);
  }
  for (const node of document.querySelectorAll("[placeholder], [title], [aria-label]")) {
    if (!node.checkVisibility()) continue;
    for (const a of ["placeholder", "title", "aria-label"]) if (node.getAttribute(a)) out.push(node.getAttribute(a));
  }
  return out;
}"""


def _string_table() -> dict[str, str]:
    """ZH from i18n.js, read as the JSON-like object literal it is."""
    source = (JS / "i18n.js").read_text(encoding="utf-8")
    body = source[source.index("export const ZH = {") + len("export const ZH = "):source.index("\n};\n") + 2]
    body = re.sub(r"^\s*//.*$", "", body, flags=re.M)
    body = re.sub(r",(\s*})", r"\1", body)
    return dict(json.loads(body))


def _keys_used() -> set[str]:
    keys: set[str] = set()
    for path in JS.glob("*.js"):
        keys |= set(_T_CALL.findall(path.read_text(encoding="utf-8")))
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    keys |= {" ".join(text.split()) for _, text in _DATA_T.findall(html)}
    keys |= set(_DATA_T_ATTR.findall(html))
    return keys


def test_every_key_has_a_chinese_text() -> None:
    table = _string_table()
    used = _keys_used()
    assert len(used) > 150  # the scan finds the console's strings at all
    missing = sorted(used - set(table))
    assert not missing, f"keys with no Chinese text: {missing}"
    untranslated = sorted(k for k, v in table.items() if v == k or (re.search(r"[A-Za-z]{3,}", _no_braces(v))
                          and not re.search(r"[\u4e00-\u9fff]", v)))
    assert not untranslated, untranslated


def _no_braces(text: str) -> str:
    return re.sub(r"\{\w+\}", "", text)


def _key_patterns(table: dict[str, str]) -> list[re.Pattern[str]]:
    """Each English key as a pattern of the text it renders (placeholders match anything)."""
    out = []
    for key in table:
        if not re.search(r"[A-Za-z]{2,}", _no_braces(key)):
            continue  # "F{n}" and the like: no English word to leak
        parts = re.split(r"\{\w+\}", key)
        out.append(re.compile(".*".join(re.escape(p) for p in parts), re.S))
    return out


def _seed(settings: Settings) -> dict[str, str]:
    now = datetime.now(UTC)
    with connect(settings.require_database_url()) as conn:
        def draft(type_: str, key: str, title: str, subject: dict[str, object], minutes: int = 0) -> str:
            at = now - timedelta(minutes=minutes)
            return raise_alert(conn, AlertDraft(type=type_, severity="major", dedup_key=key, title=title,
                                                site=settings.site, occurred_at=at, subject=subject), now=at)

        ids = {
            "littering": draft("littering", "lit-1", "Object thrown from floor 14 (tower3-south)",
                               {"camera": "tower3-south", "building": "3", "floor": 14}),
            "smoke": draft("smoke", "smoke-1", "Smoke: smoke-5-0801", {"device": "smoke-5-0801", "building": "5"}),
            "elder": draft("elderly_not_out", "eld-1", "Resident r-0801 (5-0801) has not gone out for 24 h",
                           {"resident": "r-0801", "unit": "5-0801", "building": "5", "floor": 8}, minutes=20),
            "offline": draft("device_offline", "off-1", "Device offline: cam-7", {"device": "cam-7", "building": "7"},
                             minutes=40),
            "temp": draft("temperature", "temp-1", "Temperature too high: t-2", {"device": "t-2", "building": "2"}),
        }
        actions.comment(conn, ids["smoke"], "oscar", "保安已前往", now)
        conn.commit()
    return ids


@pytest.mark.browser
def test_zh_cn_console_shows_no_english(live_server: LiveServer, users: dict[str, str], console_page: Page) -> None:
    page, settings = console_page, live_server.settings
    ids = _seed(settings)
    login(page, live_server.url, users["operator"])
    page.wait_for_selector(f'#queue li[data-id="{ids["littering"]}"]')
    page.select_option("#language", "zh-CN")
    page.wait_for_selector("html[lang=zh-CN]")
    page.click(f'#queue li[data-id="{ids["smoke"]}"]')
    page.wait_for_selector("#detail .timeline li[data-kind=commented]")
    page.wait_for_selector("#pinned-lane:not([hidden])")

    assert page.inner_text(f'#queue li[data-id="{ids["littering"]}"] .title') == "14层高空抛物（tower3-south）"
    assert page.inner_text("#detail-title") == "烟雾报警：smoke-5-0801"
    texts: list[str] = page.evaluate(_VISIBLE_TEXT)
    table = _string_table()
    leaks = sorted({text for text in texts for pattern in _key_patterns(table) if pattern.fullmatch(text)})
    assert not leaks, f"English strings in the zh-CN console: {leaks}"

    # and no English word at all once data (ids, devices, units, user names) and fixed names are taken out
    data = {"EstateWatch", "English", "UTC", "oscar", "fps", *ids.values(),
            "tower3-south", "smoke-5-0801", "r-0801", "5-0801", "cam-7", "t-2"}
    leftovers = []
    for text in texts:
        rest = text
        for token in sorted(data, key=len, reverse=True):
            rest = rest.replace(token, " ")
        if re.search(r"[A-Za-z]{2,}", rest):
            leftovers.append(text)
    assert not leftovers, f"untranslated text in the zh-CN console: {leftovers}"

    # the clock shows the estate's zone once the settings are in (EW_TIMEZONE is Asia/Shanghai here)
    page.wait_for_function("() => /\\(UTC\\+8\\)/.test(document.querySelector('#clock').textContent)")
    clock = page.inner_text("#clock")
    assert re.fullmatch(r"\d{2}:\d{2}:\d{2} \(UTC\+8\)", clock), clock  # EW_TIMEZONE is Asia/Shanghai here
    shanghai_hour = (datetime.now(UTC) + timedelta(hours=8)).hour
    assert int(clock[:2]) in {shanghai_hour, (shanghai_hour + 1) % 24}
    raised = page.inner_text("#detail dl.facts")
    assert "(UTC+8)" in raised


@pytest.mark.browser
def test_the_language_follows_the_user(live_server: LiveServer, users: dict[str, str], console_page: Page,
                                       chromium: Browser) -> None:
    login(console_page, live_server.url, users["operator"])
    console_page.select_option("#language", "zh-CN")
    console_page.wait_for_selector("#tabs a[data-view=elders]:text('独居老人')")
    console_page.wait_for_function("() => fetch('/api/v1/console/preferences').then(r => r.json())"
                                   ".then(p => p.language === 'zh-CN')")
    other = chromium.new_context(viewport={"width": 1200, "height": 800})  # another desk: no localStorage
    try:
        page = other.new_page()
        login(page, live_server.url, users["operator"])
        page.wait_for_selector("html[lang=zh-CN]")
        assert page.inner_text("#logout") == "退出"
    finally:
        other.close()
