"""Real services for the suite: one PostgreSQL and one Mosquitto per session, a fresh database and a unique site
(hence unique MQTT topics) per test."""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from estatewatch.config import Settings
from estatewatch.embedded import EmbeddedBroker, EmbeddedPostgres
from ingest.service import IngestService
from store.migrate import apply_migrations

TEMPLATE_DB = "ew_template"
ADMIN_TOKEN = "test-admin-token-0123456789"


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(tmp_path_factory.mktemp("pg") / "data").start()
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    apply_migrations(server.url_for(TEMPLATE_DB))
    yield server
    server.stop("immediate")


@pytest.fixture
def db_url(pg_server: EmbeddedPostgres, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for this test alone."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    yield pg_server.url_for(name)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBroker]:
    if shutil.which("mosquitto") is None:
        pytest.fail("mosquitto is not installed: run `make test`, which installs it (apt-get install -y mosquitto)")
    server = EmbeddedBroker(tmp_path_factory.mktemp("mqtt")).start()
    yield server
    server.stop()


@pytest.fixture
def mqtt_url(broker: EmbeddedBroker) -> str:
    return broker.url


@pytest.fixture
def site(request: pytest.FixtureRequest) -> str:
    """A site id unique to this test, so its topics ``estate/{site}/...`` never meet another test's."""
    name = re.sub(r"[^A-Za-z0-9]+", "_", request.node.name)[:40]
    return f"{name}_{uuid.uuid4().hex[:6]}"


@pytest.fixture
def ingest_service(settings: Settings) -> Iterator[IngestService]:
    """A running ingest component whose subscriptions the broker has acknowledged."""
    service = IngestService(settings)
    service.start()
    assert service.subscriber.wait_connected(10)
    yield service
    service.stop()


@pytest.fixture
def settings(db_url: str, mqtt_url: str, site: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        mqtt_url=mqtt_url,
        site=site,
        data_dir=tmp_path / "data",
        admin_token=ADMIN_TOKEN,  # type: ignore[arg-type]
        batch_max_wait_ms=50,
    )
