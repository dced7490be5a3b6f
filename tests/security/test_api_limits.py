"""Limits and hostile input at the API edge, against the real services: an oversized body is refused with 413
before authentication, the alert stream caps its connections and checks ``Last-Event-ID`` before subscribing, and
binary dead letters are listed instead of breaking the list."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.live import AlertHub
from api.routes.devices import payload_preview
from common.settings import Settings
from store.db import connect
from store.dead_letters import insert_dead_letters
from tests.api.live_server import live_server
from tests.helpers import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
BIG = b'{"username": "' + b"a" * (2 * 1024 * 1024) + b'"}'


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://console.test") as opened:
        yield opened


def test_an_oversized_body_gets_413_before_authentication(client: TestClient) -> None:
    json_type = {"Content-Type": "application/json"}
    assert client.post("/api/v1/auth/login", content=BIG, headers=json_type).status_code == 413
    # no credentials at all: still 413, so nobody unauthenticated makes the server read or parse megabytes
    assert client.post("/api/v1/users", content=BIG, headers=json_type).status_code == 413
    assert client.post("/api/v1/alerts/x/comments", content=BIG, headers=json_type).status_code == 413
    # below the limit the request goes on to authentication as usual
    assert client.post("/api/v1/users", content=b"{}", headers=json_type).status_code == 401
    # the upload routes have their own, larger limit
    assert client.post("/api/v1/residents/import", content=BIG, headers={"Content-Type": "text/csv"}).status_code == 401


def test_a_chunked_body_is_cut_off_at_the_limit(settings: Settings) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(64):  # 4 MiB in 64 KiB pieces, with no Content-Length
            sent.append(1)
            yield b"x" * 65536

    with live_server(settings) as base:
        try:
            response = httpx.post(f"{base}/api/v1/users", content=chunks(), timeout=10,
                                  headers={"Content-Type": "application/json"})
        except httpx.RemoteProtocolError:
            pytest.fail("the server dropped the connection instead of answering 413")
        assert response.status_code == 413
        assert "body" in response.json()["detail"]


def test_the_stream_refuses_a_malformed_last_event_id_before_subscribing(client: TestClient) -> None:
    hub: AlertHub = client.app.state.alert_hub  # type: ignore[attr-defined]
    for bad in (f"{hub.boot}-" + "9" * 5000, f"{hub.boot}-\u00b2", "x" * 300, f"{hub.boot}--1", "../../etc"):
        response = client.get("/api/v1/stream/alerts", headers={**ADMIN, "Last-Event-ID": bad.encode()})
        assert response.status_code == 400, bad
        response = client.get("/api/v1/stream/alerts", params={"last_event_id": bad}, headers=ADMIN)
        assert response.status_code == 400, bad
    assert hub.subscribers == 0


def test_the_stream_caps_its_connections(settings: Settings) -> None:
    capped = settings.model_copy(update={"stream_max_connections": 2})
    with live_server(capped) as base, httpx.Client(base_url=base, headers=ADMIN, timeout=10) as http:
        url = "/api/v1/stream/alerts"
        with ExitStack() as open_streams:
            for _ in range(2):
                stream = open_streams.enter_context(http.stream("GET", url))
                assert stream.status_code == 200
            third = http.get(url)
            assert third.status_code == 503
            assert third.headers["retry-after"] == "10"
        # closing the streams frees their places
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with http.stream("GET", url) as again:
                if again.status_code == 200:
                    break
            time.sleep(0.2)
        else:
            pytest.fail("closed streams did not free their places")


def test_binary_dead_letters_are_listed_as_base64(client: TestClient, settings: Settings) -> None:
    binary = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + bytes(range(256))
    now = datetime.now(UTC)
    with connect(settings.require_database_url()) as conn:
        insert_dead_letters(conn, [
            (now, "estate/s/camera/c1/frame", "frame", "bad_jpeg", "no SOI", binary),
            (now, "estate/s/sensor/t1/telemetry", "telemetry", "bad_json", "expected value", "{温度: 2".encode()),
            (now, "estate/s/sensor/t2/telemetry", "telemetry", "bad_json", "control bytes", b"ok\x00\x07"),
        ])
        conn.commit()
    response = client.get("/api/v1/dead-letters", headers=ADMIN)
    assert response.status_code == 200, response.text
    rows = {r["topic"]: r for r in response.json()}
    frame = rows["estate/s/camera/c1/frame"]
    assert frame["payload_encoding"] == "base64"
    assert base64.b64decode(frame["payload_head"]) == binary
    assert frame["payload_size"] == len(binary)
    text = rows["estate/s/sensor/t1/telemetry"]
    assert (text["payload_encoding"], text["payload_head"]) == ("utf-8", "{温度: 2")
    control = rows["estate/s/sensor/t2/telemetry"]
    assert (control["payload_encoding"], base64.b64decode(control["payload_head"])) == ("base64", b"ok\x00\x07")
    assert client.get("/api/v1/dead-letters/summary", headers=ADMIN).status_code == 200


def test_payload_preview_keeps_a_character_cut_by_the_head() -> None:
    cut = ("a" * 10 + "温").encode()[:-1]
    assert payload_preview(cut) == ("a" * 10, "utf-8")
    assert payload_preview(None) == (None, None)
