"""The evidence clip (VP9 in MP4, written by OpenCV's bundled FFmpeg) really plays in Chromium."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import sync_playwright

from tests.console.browser import CHROMIUM, CHROMIUM_ARGS
from tests.vision.helpers import jpeg
from vision.detector import LitteringEvent
from vision.evidence import FrameRing, PendingEvidence, encode_mp4, write_evidence


@pytest.mark.browser
def test_mp4_clip_plays_in_chromium(tmp_path: Path) -> None:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    ring = FrameRing(20)
    for i in range(60):
        ring.append(i, jpeg(np.full((240, 320, 3), 4 * i, np.uint8)))
    ev = LitteringEvent("c", 20, 39, 1.0, 1.95, (100.0, 50.0), 5, 0.9, [(f, 100.0, 50.0 + f) for f in range(20, 40)])
    pending = PendingEvidence("e", ev, 79, tmp_path / "e")
    write_evidence(pending, ring, 20)
    assert encode_mp4(pending.directory) is not None
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(pending.directory.as_uri() + "/")
            page.set_content('<video id="v" muted src="clip.mp4"></video>')
            page.wait_for_function("document.getElementById('v').readyState >= 2", timeout=10_000)
            state = page.evaluate("""async () => {
                const v = document.getElementById('v');
                await v.play();
                await new Promise(r => setTimeout(r, 600));
                return {width: v.videoWidth, duration: v.duration, time: v.currentTime, error: v.error};
            }""")
        finally:
            browser.close()
    assert state["error"] is None
    assert state["width"] == 160
    assert state["duration"] == pytest.approx(3.0, abs=0.2)  # frames 0..59 at 20 fps, kept at 10 fps
    assert state["time"] > 0.2
