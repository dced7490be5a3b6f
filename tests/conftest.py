"""Real services for the suite: one PostgreSQL and one Mosquitto per session, a fresh database and a unique site
(hence unique MQTT topics) per test."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from pydantic import SecretStr

from common.settings import Settings
from estatewatch.embedded import EmbeddedBroker, EmbeddedPostgres
from ingest.service import IngestService
from store.migrate import apply_migrations
from tests.helpers import ADMIN_TOKEN

TEMPLATE_DB = "ew_template"


@pytest.fixture(scope="session")
def services_dir() -> Iterator[Path]:
    """A folder for the session's servers outside pytest's temporary root.

    Every pytest start tightens the permissions of that root, which would cut a server that runs under its own user
    (PostgreSQL) off from its data directory when another pytest session starts on the same machine.
    """
    folder = Path(tempfile.mkdtemp(prefix="ew-test-services-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server(services_dir: Path) -> Iterator[EmbeddedPostgres]:
    server = EmbeddedPostgres(services_dir / "pg" / "data").start()
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TEMPLATE_DB)))
    apply_migrations(server.url_for(TEMPLATE_DB))
    yield server
    server.stop("immediate")


@pytest.fixture
def db_url(pg_server: EmbeddedPostgres, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, migrated database for this test alone."""
    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(TEMPLATE_DB))
        conn.execute(create)
    yield pg_server.url_for(name)
    with psycopg.connect(pg_server.url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


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
        admin_token=SecretStr(ADMIN_TOKEN),
        batch_max_wait_ms=50,
    )
