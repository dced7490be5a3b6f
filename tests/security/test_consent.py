"""Consent is explicit (issue: consent defaulted to true): a CSV import needs a yes/no ``consent`` on every row, the
resident PUT needs ``consent``, and the database has no default to fall back on. A resident recorded without
consent is not watched by the rules and gives operators no one to phone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import psycopg
import pytest
from fastapi.testclient import TestClient

from alerts.resident_csv import ResidentCsvError, parse_import, parse_residents
from alerts.resident_directory import ResidentDirectory
from api.app import create_app
from api.security import token_hash
from common.settings import Settings
from store.accounts import add_token
from store.db import connect
from tests.helpers import ADMIN_TOKEN

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
CSV = {**ADMIN, "content-type": "text/csv"}
OPERATOR = {"Authorization": "Bearer operator-token-0123456789"}
HEADER = "resident_id,unit,elderly,lives_alone,consent\n"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with connect(settings.require_database_url()) as conn:
        add_token(conn, token_hash("operator-token-0123456789"), "desk", "operator")
        conn.commit()
    with TestClient(create_app(settings)) as opened:
        yield opened


def test_a_csv_must_state_consent_on_every_row() -> None:
    with pytest.raises(ResidentCsvError, match=r"line 1: missing column\(s\): consent"):
        parse_import("resident_id,unit,elderly,lives_alone\nr1,A-1201,yes,yes\n")
    with pytest.raises(ResidentCsvError) as problems:
        parse_import(HEADER + "r1,A-1201,yes,yes,\nr2,A-1202,yes,yes,maybe\nr3,A-1203,yes,yes,yes\n")
    assert [str(p) for p in problems.value.problems] == [
        "line 2: consent must be yes or no, got ''", "line 3: consent must be yes or no, got 'maybe'"]
    rows = parse_import(HEADER + "r1,A-1201,yes,yes,yes\nr2,A-1202,yes,yes,no\n")
    assert [(r.resident.resident_id, r.consent) for r in rows] == [("r1", True), ("r2", False)]
    assert [r.resident_id for r in parse_residents(HEADER + "r1,A-1201,yes,yes,yes\nr2,A-1202,yes,yes,no\n")] \
        == ["r1"]  # what the rules may watch: the consenting ones only


def test_the_database_has_no_default_consent(settings: Settings) -> None:
    with connect(settings.require_database_url()) as conn:
        row = conn.execute("SELECT column_default FROM information_schema.columns"
                           " WHERE table_name = 'residents' AND column_name = 'consent'").fetchone()
        assert row is not None
        assert row["column_default"] is None
        with pytest.raises(psycopg.errors.NotNullViolation):
            conn.execute("INSERT INTO residents (resident_id, site, unit) VALUES ('r9', %s, 'A-0909')",
                         (settings.site,))


def test_a_resident_without_consent_is_not_watched_nor_phoned_about(client: TestClient, settings: Settings) -> None:
    csv_text = HEADER + "agreed,A-1201,yes,yes,yes\nrefused,A-1202,yes,yes,no\n"
    assert client.post("/api/v1/residents/import", content=csv_text, headers=CSV).json() == {"imported": 2}
    without = client.put("/api/v1/residents/refused", headers=ADMIN,
                         json={"unit": "A-1202", "elderly": True, "lives_alone": True})
    assert without.status_code == 422  # the PUT must say it too
    assert "consent" in without.text
    for rid, unit, agreed in (("agreed", "A-1201", True), ("refused", "A-1202", False)):
        put = client.put(f"/api/v1/residents/{rid}", headers=ADMIN, json={
            "unit": unit, "elderly": True, "lives_alone": True, "consent": agreed,
            "contacts": [{"role": "son", "name": "Wei", "phone": f"1390000000{int(agreed)}"}]})
        assert put.status_code == 200, put.text
    directory = ResidentDirectory(settings.site)
    with connect(settings.require_database_url()) as conn:
        directory.sync(conn, datetime.now(UTC))
        rows = conn.execute("SELECT resident_id, consent FROM residents").fetchall()
    stored = {r["resident_id"]: r["consent"] for r in rows}
    assert stored == {"agreed": True, "refused": False}
    assert set(directory.by_id) == {"agreed"}  # the rules watch only who agreed
    elders = client.get("/api/v1/overview/elders", headers=OPERATOR)
    assert [e["resident_id"] for e in elders.json()] == ["agreed"]
    assert "13900000000" not in elders.text
    one = client.get("/api/v1/overview/elders", params={"resident": "refused"}, headers=OPERATOR)
    assert one.json() == []
    # a later import that says no withdraws consent; nothing is assumed either way
    assert client.post("/api/v1/residents/import", content=HEADER + "agreed,A-1201,yes,yes,no\n",
                       headers=CSV).status_code == 200
    with connect(settings.require_database_url()) as conn:
        directory.sync(conn, datetime.now(UTC))
    assert directory.by_id == {}
