"""Fixtures of the alerts API tests: the real app with a viewer and an operator token besides the admin one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import token_hash
from common.settings import Settings
from store.db import connect


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with connect(settings.require_database_url()) as conn:
        for role in ("viewer", "operator"):
            conn.execute("INSERT INTO api_tokens (token_sha256, name, role) VALUES (%s, %s, %s)",
                         (token_hash(f"{role}-token-0123456789"), f"{role}-bot", role))
        conn.commit()
    with TestClient(create_app(settings)) as test_client:
        yield test_client
