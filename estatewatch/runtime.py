"""Process wiring: which components run for a role, and the embedded services of the demo."""

from __future__ import annotations

import logging
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from prometheus_client import start_http_server

from estatewatch.config import Role, Settings
from estatewatch.embedded import EmbeddedBroker, EmbeddedPostgres
from store.migrate import apply_migrations

log = logging.getLogger(__name__)

ROLES: tuple[Role, ...] = ("ingest", "vision", "alerts", "api", "all")


class Component(Protocol):
    """A long-running part of the service: ``start`` returns at once, ``stop`` drains and returns."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


def build_components(settings: Settings, roles: set[str]) -> list[Component]:
    """The background components for these roles (the API runs in the foreground, see ``serve``)."""
    components: list[Component] = []
    if roles & {"ingest", "all"}:
        from ingest.service import IngestService

        components.append(IngestService(settings))
    if roles & {"alerts", "all"}:
        from alerts.service import AlertsService

        components.append(AlertsService(settings))
    if roles & {"vision", "all"}:
        from vision.service import VisionService

        components.append(VisionService(settings))
    return components


def serve(settings: Settings, roles: set[str]) -> None:
    """Migrate, start the components of ``roles``, serve HTTP if the API is one of them, stop on a signal."""
    apply_migrations(settings.require_database_url())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    components = build_components(settings, roles)
    if settings.metrics_port and not roles & {"api", "all"}:  # worker roles: /metrics for Prometheus and healthchecks
        start_http_server(settings.metrics_port)
    for component in components:
        component.start()
    log.info("started roles %s", ", ".join(sorted(roles)))
    try:
        if roles & {"api", "all"}:
            import uvicorn

            from api.app import create_app

            # Open console streams would otherwise hold the server up at shutdown.
            uvicorn.run(create_app(settings), host=settings.http_host, port=settings.http_port, log_level="warning",
                        timeout_graceful_shutdown=2)
        else:
            _wait_for_signal()
    finally:
        for component in reversed(components):
            try:
                component.stop()
            except Exception:
                log.exception("error while stopping %s", type(component).__name__)


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()


@dataclass
class Embedded:
    """Services the demo started for itself; stopped in reverse order."""

    postgres: EmbeddedPostgres | None = None
    broker: EmbeddedBroker | None = None
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def stop(self) -> None:
        try:
            for child in self.children:
                child.terminate()
            for child in self.children:
                try:
                    child.wait(10)
                except subprocess.TimeoutExpired:
                    child.kill()
        finally:
            if self.broker:
                self.broker.stop()
            if self.postgres:
                self.postgres.stop()


@contextmanager
def embedded_services(settings: Settings) -> Iterator[tuple[Settings, Embedded]]:
    """Fill in what the settings leave unset: a PostgreSQL, a broker and an admin token of our own."""
    started = Embedded()
    update: dict[str, object] = {}
    data_dir = settings.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        if settings.database_url is None:
            started.postgres = EmbeddedPostgres(data_dir / "postgres", port=_saved_port(data_dir / "pg.port")).start()
            update["database_url"] = started.postgres.url
        if settings.mqtt_url is None:
            started.broker = EmbeddedBroker(data_dir / "broker", port=_saved_port(data_dir / "mqtt.port")).start()
            update["mqtt_url"] = started.broker.url
        if settings.admin_token is None:
            update["admin_token"] = secrets.token_urlsafe(24)
        update["data_dir"] = data_dir
        yield _with(settings, update), started
    finally:
        started.stop()


def _with(settings: Settings, update: dict[str, object]) -> Settings:
    from pydantic import SecretStr

    if isinstance(update.get("admin_token"), str):
        update["admin_token"] = SecretStr(str(update["admin_token"]))
    return settings.model_copy(update=update)


def _saved_port(path: Path) -> int:
    """Reuse the port of the last demo run so bookmarks and integrators keep working."""
    from estatewatch.embedded import free_port

    if path.exists():
        try:
            return int(path.read_text())
        except ValueError:
            pass
    port = free_port()
    path.write_text(str(port))
    return port


def spawn(args: Sequence[str], log_file: Path, settings: Settings) -> subprocess.Popen[bytes]:
    """Run ``estatewatch ARGS`` as a child process with these settings in its environment."""
    env = settings_env(settings)
    out = log_file.open("ab")
    # A session of its own: Ctrl+C reaches only the demo, which then stops its children in order.
    return subprocess.Popen([sys.executable, "-m", "estatewatch.cli", *args], env=env, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)


def settings_env(settings: Settings) -> dict[str, str]:
    import os

    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"EW_{name.upper()}"] = str(value)
    return env
