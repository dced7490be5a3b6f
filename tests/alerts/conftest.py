"""Fixtures of the alerts tests: the real app with a viewer and an operator token besides the admin one, and the
input files of a ``replay`` run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.security import token_hash
from common.settings import Settings
from store.db import connect
from tests.helpers import ReplayFiles


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with connect(settings.require_database_url()) as conn:
        for role in ("viewer", "operator"):
            conn.execute("INSERT INTO api_tokens (token_sha256, name, role) VALUES (%s, %s, %s)",
                         (token_hash(f"{role}-token-0123456789"), f"{role}-bot", role))
        conn.commit()
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def replay_files(tmp_path: Path) -> ReplayFiles:
    """Writes a ``replay`` run's input: the events as JSON lines and the residents as CSV rows under the import
    header (``resident_id,unit,elderly,lives_alone,consent``); returns (events file, residents file).
    """
    def write(events: list[dict[str, str]], residents: list[str]) -> tuple[Path, Path]:
        events_file, residents_file = tmp_path / "e.jsonl", tmp_path / "r.csv"
        events_file.write_text("".join(json.dumps(e) + "\n" for e in events))
        residents_file.write_text("".join(f"{line}\n" for line in ["resident_id,unit,elderly,lives_alone,consent",
                                                                     *residents]))
        return events_file, residents_file
    return write
