"""Screenshots of a running console for docs/console.md: the estate map, the camera wall and the Elders view, in
English and Chinese (``demo_counts --screenshots DIR`` takes them during its measured run).

Each view is captured once its own content is drawn (a selector per view) and every visible picture has loaded,
so a loaded machine gives a late screenshot rather than an empty one.
"""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
# (route, file name part, what must be on the page first)
VIEWS = (("overview", "map", "#estate-map svg g.tower"),
         ("cameras", "cameras", "#cameras figure.camera img:not([hidden])"),
         ("elders", "elders", "#elders tbody tr"))
LANGUAGES = ("en", "zh-CN")
_PICTURES_LOADED = "() => [...document.images].every((img) => img.hidden || !img.src || img.complete)"


def _sign_in(page: Page, url: str, token: str) -> None:
    page.goto(url + "/")
    page.click("#login-form details summary")
    page.fill("#login-form [name=token]", token)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#live.on")


def take(url: str, token: str, out_dir: Path) -> list[Path]:
    """Sign in with ``token`` and save ``console-{view}-{language}.png`` (1920x1080) for every view and language;
    the account's language is English again afterwards.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                                    "--no-first-run", "--disable-sync"])
        try:
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            page.set_default_timeout(90_000)
            _sign_in(page, url.rstrip("/"), token)
            for lang in LANGUAGES:
                page.select_option("#language", lang)
                page.wait_for_function(f"() => document.documentElement.lang === '{lang}'")
                page.reload()  # every view drawn afresh in this language: no selector matches a stale drawing
                page.wait_for_selector("#live.on")
                for route, name, ready in VIEWS:
                    page.goto(f"{url.rstrip('/')}/#/{route}")
                    page.wait_for_selector(ready)
                    page.wait_for_function(_PICTURES_LOADED)
                    path = out_dir / f"console-{name}-{lang}.png"
                    page.screenshot(path=str(path))
                    written.append(path)
            page.select_option("#language", "en")
            page.wait_for_function("() => document.documentElement.lang === 'en'")
        finally:
            browser.close()
    return written
