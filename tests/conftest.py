"""Real services for the suite: one PostgreSQL and one Mosquitto per session, a fresh database and a unique site
(hence unique MQTT topics) per test; headless Chromium for the console's pages, and the alerts rules driver for
tests that raise an elderly resident's alert."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Browser, Page, sync_playwright
from psycopg import sql
from pydantic import SecretStr

from alerts.db_driver import Processor
from api.app import create_app
from common.settings import Settings
from estatewatch.embedded import EmbeddedBroker, EmbeddedPostgres
from ingest.service import IngestService
from store.migrate import apply_migrations
from tests.console.browser import CHROMIUM, CHROMIUM_ARGS
from tests.elder_helpers import NOT_OUT_ONLY
from tests.helpers import ADMIN_TOKEN, DatabaseSwitch

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


@pytest.fixture
def database_switch(pg_server: EmbeddedPostgres, db_url: str) -> Iterator[DatabaseSwitch]:
    """Outages of this test's database: ``database_switch(usable=False)`` and back; usable again after the test."""
    dbname = psycopg.conninfo.conninfo_to_dict(db_url)["dbname"]
    assert isinstance(dbname, str)
    switch = DatabaseSwitch(pg_server.url, dbname)
    yield switch
    switch(usable=True)


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


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The real app on this test's settings, its lifespan running (a folder or module may define its own)."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One browser per test module: Playwright's sync API holds an event loop on the main thread while it lives,
    which would break later tests that call ``asyncio.run``.
    """
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def console_page(chromium: Browser) -> Iterator[Page]:
    """A fresh browser context (no cookies) at a control-room screen size."""
    context = chromium.new_context(viewport={"width": 1600, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors in the console: {errors}"


@pytest.fixture
def not_out_processor(settings: Settings) -> Processor:
    """The alerts service's rules driver for this test's site with only the not-out rule on
    (``tests.elder_helpers.home_for_a_day`` raises an alert with it)."""
    return Processor(settings.site, NOT_OUT_ONLY, tz=ZoneInfo(settings.timezone))
