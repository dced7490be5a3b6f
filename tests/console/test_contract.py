"""The console reads exactly the shapes the API declares: each JavaScript module's reads of server data are checked
against the live app's OpenAPI document, and the checker itself is shown to catch a field no schema has.

Bindings say which variable of which module holds which response; the checker also fails on a module variable
that receives an API answer (or walks over bound data) without a binding, so new reads cannot go unchecked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from api.app import create_app
from api.routes.console import STATIC_DIR
from common.settings import Settings
from tests.console.contract import (
    Binding,
    Schema,
    SchemaWalker,
    api_calls,
    check_module,
    document_paths,
    strip_comments,
)

JS = STATIC_DIR / "js"

ME = Binding("GET", "/api/v1/auth/me")
LOGIN = Binding("POST", "/api/v1/auth/login")
ALERT_PAGE = Binding("GET", "/api/v1/alerts")
ALERT = Binding("GET", "/api/v1/alerts", "alerts[]")
DETAIL = Binding("GET", "/api/v1/alerts/{alert_id}")
CHANGE = Binding("GET", "/api/v1/stream/alerts", "alert", media="text/event-stream")
ELDERS = Binding("GET", "/api/v1/overview/elders")
ELDER = Binding("GET", "/api/v1/overview/elders", "[]")
PASSAGES = Binding("GET", "/api/v1/residents/{resident_id}/passages")
CAMERAS = Binding("GET", "/api/v1/cameras")
CAMERA = Binding("GET", "/api/v1/cameras", "[]")
OVERVIEW = Binding("GET", "/api/v1/overview")
COUNTS = Binding("GET", "/api/v1/overview/alert-counts")
SPARKS = Binding("GET", "/api/v1/overview/sparklines")
USERS = Binding("GET", "/api/v1/users")
SILENCES = Binding("GET", "/api/v1/alerts/silences")
SILENCE = Binding("GET", "/api/v1/alerts/silences", "[]")
BULK_ACK = Binding("POST", "/api/v1/alerts/ack")
CONSOLE_SETTINGS = Binding("GET", "/api/v1/console/settings")
PREFERENCES = Binding("GET", "/api/v1/console/preferences")
ROUTINE = Binding("GET", "/api/v1/residents/{resident_id}/routine")
ESTATE = Binding("GET", "/api/v1/estate")
RESPONDERS = Binding("GET", "/api/v1/responders")
WORK_ORDERS = Binding("GET", "/api/v1/work-orders")
DISPATCHED = Binding("POST", "/api/v1/work-orders")
NEW_LINK = Binding("POST", "/api/v1/work-orders/{work_order_id}/link")
ONSITE = Binding("GET", "/api/v1/onsite/{token}")
NOTES = Binding("GET", "/api/v1/handover-notes")
UNKNOWN_METRIC = Binding("GET", "/api/v1/unknown-metrics", "[]")
ACTIVITY = Binding("GET", "/api/v1/cameras/{camera_id}/activity")


def _at(binding: Binding, path: str) -> Binding:
    return Binding(binding.method, binding.path, f"{binding.at}.{path}" if binding.at else path, binding.media)


BINDINGS: dict[str, dict[str, list[Binding]]] = {
    "api.js": {"who": [ME, LOGIN], "page": [ALERT_PAGE]},
    "stream.js": {"change": [CHANGE]},
    "app.js": {"user": [ME, LOGIN], "alert": [ALERT], "full": [DETAIL], "elder": [ELDER],
               "settings": [CONSOLE_SETTINGS], "prefs": [PREFERENCES], "done": [BULK_ACK], "shown": [ALERT]},
    "queue.js": {"alert": [ALERT], "a": [ALERT], "silences": [SILENCES], "silence": [SILENCE], "s": [SILENCE]},
    "model.js": {"alert": [ALERT], "a": [ALERT], "b": [ALERT], "subject": [_at(ALERT, "subject")],
                 "silences": [SILENCES], "silence": [SILENCE]},
    "i18n.js": {"alert": [ALERT], "subject": [_at(ALERT, "subject")], "s": [_at(ALERT, "subject")]},
    "alarm.js": {},
    "routine_chart.js": {"routine": [ROUTINE]},
    "passages.js": {"answer": [PASSAGES], "passage": [_at(PASSAGES, "passages[]"), _at(PASSAGES, "unknown_since[]"),
                                                      _at(PASSAGES, "last_recognised")],
                    "passages": [_at(PASSAGES, "passages"), _at(PASSAGES, "unknown_since")],
                    "last": [_at(PASSAGES, "last_recognised")]},
    # renderDetail also gets a queue row first; it reads history only with a fallback until the full alert is in
    "detail.js": {"alert": [DETAIL], "details": [_at(DETAIL, "details")], "entry": [_at(DETAIL, "history[]")],
                  "data": [_at(DETAIL, "history[].data")], "contacts": [_at(ELDER, "contacts")],
                  "contact": [_at(ELDER, "contacts[]")]},
    "panels.js": {"elders": [ELDERS], "elder": [ELDER], "routine": [ROUTINE], "contact": [_at(ELDER, "contacts[]")],
                  "signal": [_at(ELDER, "last_signals{}")], "summary": [OVERVIEW],
                  "bldg": [_at(OVERVIEW, "buildings[]")],
                  "device": [_at(OVERVIEW, "offline_devices[]")], "counts": [_at(OVERVIEW, "devices")],
                  "hourly": [COUNTS], "daily": [COUNTS], "sparks": [SPARKS], "spark": [_at(SPARKS, "[]")],
                  "accounts": [USERS], "account": [_at(USERS, "[]")], "unknown": [UNKNOWN_METRIC]},
    "charts.js": {"data": [COUNTS], "series": [_at(COUNTS, "series")], "types": [_at(COUNTS, "types")],
                  "type": [_at(COUNTS, "types[]")], "bucket": [_at(COUNTS, "series[]")],
                  "b": [_at(COUNTS, "series[]")], "points": [_at(SPARKS, "[].points")],
                  "p": [_at(SPARKS, "[].points[]")]},
    "util.js": {},
    "map.js": {"estate": [ESTATE], "tower": [_at(ESTATE, "towers[]")], "pin": [_at(ESTATE, "pins[]")],
               "a": [_at(ESTATE, "pins[]")], "b": [_at(ESTATE, "pins[]")], "pins": [_at(ESTATE, "pins")],
               "gate": [_at(ESTATE, "gates[]")], "cam": [_at(ESTATE, "cameras[]")]},
    "wall.js": {"cams": [CAMERAS], "camera": [CAMERA], "shown": [CAMERA], "activity": [ACTIVITY]},
    "dispatch.js": {"directory": [RESPONDERS], "responders": [RESPONDERS], "people": [RESPONDERS],
                    "p": [_at(RESPONDERS, "[]")], "found": [WORK_ORDERS], "open": [WORK_ORDERS],
                    "orders": [WORK_ORDERS], "order": [_at(WORK_ORDERS, "[]")],
                    "stage": [_at(WORK_ORDERS, "[].stages[]")], "made": [DISPATCHED], "fresh": [NEW_LINK],
                    "link": [NEW_LINK, _at(DISPATCHED, "link")], "alert": [ALERT, DETAIL]},
    "handover.js": {"notes": [NOTES], "note": [_at(NOTES, "[]")]},
    "onsite.js": {"order": [ONSITE], "brief": [_at(ONSITE, "brief")], "place": [_at(ONSITE, "brief")],
                  "stage": [_at(ONSITE, "stages[]")], "s": [_at(ONSITE, "stages[]")]},
    "stages.js": {"stage": [_at(WORK_ORDERS, "[].stages[]"), _at(ONSITE, "stages[]")]},
}

# Open JSON objects whose keys depend on the data, each with the reason reading any key of them is right.
FREE_FORM = {
    "Alert.subject": "what an alert is about (building, floor, unit, camera, device, resident) depends on its source",
    "AlertDetail.subject": "the same subject, in the detail view",
    "AlertDetail.details": "each alert type has its own details (docs/alerts.md)",
    "HistoryEntry.data": "each kind of change records its own data",
    "WorkOrder.brief": "the alert as sent: its subject's place and evidence links vary by type",
    "OnSiteView.brief": "the same brief, on the responder's page",
}


@pytest.fixture(scope="module")
def document() -> Schema:
    """The live app's OpenAPI document (building it connects to nothing)."""
    settings = Settings(database_url="postgresql://127.0.0.1:1/unused", mqtt_url="mqtt://127.0.0.1:1", site="s")
    return create_app(settings).openapi()


def test_every_console_module_is_bound() -> None:
    assert sorted(p.name for p in JS.glob("*.js")) == sorted(BINDINGS)


@pytest.mark.parametrize("module", sorted(BINDINGS))
def test_module_reads_only_declared_fields(module: str, document: Schema) -> None:
    walker = SchemaWalker(document, FREE_FORM)
    problems = check_module(module, (JS / module).read_text(encoding="utf-8"), BINDINGS[module], walker)
    assert not problems, "\n".join(map(str, problems))


def test_console_calls_only_documented_operations(document: Schema) -> None:
    paths = document_paths(document)
    calls = set().union(*(api_calls(strip_comments(p.read_text(encoding="utf-8"))) for p in JS.glob("*.js")))
    assert ("GET", "/api/v1/alerts/{}") in calls  # the scan finds the calls at all
    missing = sorted(f"{m} {p}" for m, p in calls if m not in paths.get(p, set()))
    assert not missing, f"the console calls operations the API does not document: {missing}"


_SYNTHETIC = """
const cams = await api.cameras.list();
for (const camera of cams) {
  show(camera.camera_id, camera.fps.toFixed(1), camera.resolution);  // resolution: no camera has it
}
const overview = await api.overview.summary();
overview.buildings.forEach((b) => b.colour);
"""


def test_checker_catches_unknown_fields_and_unbound_consumers(document: Schema) -> None:
    walker = SchemaWalker(document, FREE_FORM)
    problems = [str(p) for p in check_module("synthetic.js", _SYNTHETIC, {"cams": [CAMERAS], "camera": [CAMERA]},
                                             walker)]
    assert len(problems) == 2, problems
    assert any("overview holds an API answer but is not bound" in p for p in problems)
    assert any("camera.resolution" in p and "no field 'resolution' in Camera" in p for p in problems)


def test_checker_refuses_free_form_reads_unless_stated(document: Schema) -> None:
    source = "function f(alert) { return alert.subject.building + alert.details.floor; }"
    loose = check_module("x.js", source, {"alert": [ALERT]}, SchemaWalker(document, {}))
    assert [p.what.split(" (")[0] for p in loose] == ["alert.subject.building", "alert.details.floor"]
    stated = check_module("x.js", source, {"alert": [ALERT]}, SchemaWalker(document, FREE_FORM))
    assert [p.what.split(" (")[0] for p in stated] == ["alert.details.floor"]  # Alert.details is not stated


def test_strip_comments_keeps_urls() -> None:
    code = strip_comments('const a = "http://x/y"; // note alert.nope\n/* alert.gone */ b.c')
    assert "alert." not in code
    assert "http://x/y" in code


def test_bindings_name_real_responses(document: Schema) -> None:
    walker = SchemaWalker(document, FREE_FORM)
    for targets in BINDINGS.values():
        for binding in {b for t in targets.values() for b in t}:
            schema, _ = walker.response(binding)
            assert schema, binding


def test_static_dir_is_the_served_one() -> None:
    assert Path(JS / "api.js").is_file()
