"""Names and ages by role, through the real API after a real CSV import: operators and admins see who the resident
is and whom to phone, on the residents list, a resident's page and the Elders panel; a viewer sees none of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import token_hash
from common.settings import Settings
from store.accounts import add_token
from store.db import connect
from tests.helpers import ADMIN_TOKEN

TOKENS = {"viewer": "viewer-token-names-0123456789", "operator": "operator-token-names-0123456789",
          "admin": ADMIN_TOKEN}
CSV = ("resident_id,unit,elderly,lives_alone,consent,name,age,contact_relation,contact_name,contact_phone,"
       "grid_worker,grid_worker_phone\n"
       "R-7,3-1201,yes,yes,yes,王秀英,82,daughter,李丽,+86 138 1234 5678,张伟,+86 139 0000 1111\n")
NAME, RELATIVE, PHONE = "王秀英", "李丽", "+86 138 1234 5678"


def _get(client: TestClient, role: str, path: str) -> tuple[str, object]:
    response = client.get(path, headers={"Authorization": f"Bearer {TOKENS[role]}"})
    assert response.status_code == 200, response.text
    return response.text, response.json()


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with connect(settings.require_database_url()) as conn:
        for role in ("viewer", "operator"):
            add_token(conn, token_hash(TOKENS[role]), f"desk-{role}", role)
        conn.commit()
    with TestClient(create_app(settings)) as opened:
        done = opened.post("/api/v1/residents/import", content=CSV,
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "content-type": "text/csv"})
        assert done.status_code == 200, done.text
        yield opened


@pytest.mark.parametrize("role", ["operator", "admin"])
def test_operators_and_admins_see_name_age_and_whom_to_phone(client: TestClient, role: str) -> None:
    _, page = _get(client, role, "/api/v1/residents")
    assert isinstance(page, dict)
    (listed,) = page["residents"]
    assert (listed["name"], listed["age"]) == (NAME, 82)
    _, one = _get(client, role, "/api/v1/residents/R-7")
    assert isinstance(one, dict)
    assert (one["name"], one["age"]) == (NAME, 82)
    _, elders = _get(client, role, "/api/v1/overview/elders")
    assert isinstance(elders, list)
    (elder,) = elders
    assert (elder["name"], elder["age"]) == (NAME, 82)
    assert elder["contacts"] == [{"role": "daughter", "name": RELATIVE, "phone": PHONE},
                                 {"role": "grid worker", "name": "张伟", "phone": "+86 139 0000 1111"}]


def test_a_viewer_sees_no_name_age_or_contact(client: TestClient) -> None:
    for path in ("/api/v1/residents", "/api/v1/residents/R-7", "/api/v1/overview/elders",
                 "/api/v1/overview/elders?resident=R-7"):
        text, _ = _get(client, "viewer", path)
        for secret in (NAME, RELATIVE, PHONE, "张伟"):
            assert secret not in text, (path, secret)
    _, elders = _get(client, "viewer", "/api/v1/overview/elders")
    assert isinstance(elders, list)
    (elder,) = elders
    assert (elder["name"], elder["age"], elder["contacts"], elder["redacted"]) == (None, None, [], True)
    _, one = _get(client, "viewer", "/api/v1/residents/R-7")
    assert isinstance(one, dict)
    assert (one["name"], one["age"], one["presence"]) == (None, None, "unknown")
