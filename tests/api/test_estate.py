"""The estate map endpoint through the real API and database: the plan merged with the camera configurations,
each tower's state, pins placed by floor and window column, roles, and no personal data for viewers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import token_hash
from common.settings import Settings
from store.accounts import add_token
from store.db import connect
from tests.estate_helpers import estate_settings, raise_elderly, raise_littering

VIEWER = {"Authorization": "Bearer estate-viewer-token-0123456789"}


@pytest.fixture
def estate(settings: Settings, tmp_path: Path) -> Settings:
    with connect(settings.require_database_url()) as conn:
        add_token(conn, token_hash("estate-viewer-token-0123456789"), "wall", "viewer")
        conn.commit()
    return estate_settings(settings, tmp_path)


@pytest.fixture
def client(estate: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(estate)) as test_client:
        yield test_client


def test_layout_merges_plan_and_cameras_and_colours_towers(estate: Settings, client: TestClient) -> None:
    littering = raise_littering(estate, floor=7, column=3)
    raise_elderly(estate, "r-secret-7", "B")
    body = client.get("/api/v1/estate", headers=VIEWER).json()
    towers = {t["id"]: t for t in body["towers"]}
    assert list(towers) == ["A", "B", "C"]  # the plan's two, then the tower only a camera names
    assert towers["A"]["floors"] == 10  # from cam-a's calibration (11 floor boundaries)
    assert towers["B"]["floors"] == 18  # from the plan
    assert (towers["A"]["x"], towers["A"]["y"]) == (100, 100)
    assert towers["A"]["state"] == "alerts"
    assert towers["A"]["life_safety"] == 1
    assert towers["B"]["state"] == "alerts"
    assert towers["B"]["worst_severity"] == "major"
    assert towers["C"]["state"] == "camera_offline"
    assert towers["C"]["cameras_offline"] == 1
    cams = {c["id"]: c for c in body["cameras"]}
    assert cams["cam-a"]["streaming"] is True
    assert cams["cam-a"]["tower"] == "A"
    assert cams["cam-c"]["streaming"] is False
    assert cams["cam-c"]["age_s"] is None
    assert [g["id"] for g in body["gates"]] == ["north"]
    pins = {p["alert_id"]: p for p in body["pins"]}
    assert pins[littering]["window_column"] == 4
    assert pins[littering]["place"] == "floor 7, column 4 (unit A-702)"
    assert pins[littering]["priority"] == "life"
    assert pins[littering]["status"] == "open"


def test_quiet_tower_and_viewer_sees_no_personal_data(estate: Settings, client: TestClient) -> None:
    raise_elderly(estate, "r-secret-7", "B")
    response = client.get("/api/v1/estate", headers=VIEWER)
    assert response.status_code == 200
    towers = {t["id"]: t for t in response.json()["towers"]}
    assert towers["A"]["state"] == "quiet"
    assert towers["A"]["open"] == 0
    text = json.dumps(response.json())
    assert "r-secret-7" not in text
    assert "0802" not in text
    assert "has not gone out" not in text


def test_needs_a_signed_in_caller(client: TestClient) -> None:
    assert client.get("/api/v1/estate").status_code == 401


def test_bad_plan_file_is_a_clear_error(estate: Settings, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"towers": [{"id": "A", "unit_format": "{flat}"}]}), encoding="utf-8")
    with TestClient(create_app(estate.model_copy(update={"estate_file": bad}))) as bad_client:
        response = bad_client.get("/api/v1/estate", headers=VIEWER)
    assert response.status_code == 500
    assert "unit_format" in response.json()["detail"]
