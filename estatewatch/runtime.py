"""Process wiring: which components run for a role, and the embedded services of the demo."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import uvicorn
from prometheus_client import start_http_server
from pydantic import SecretStr

from alerts.payloads import install_log_redaction
from alerts.service import AlertsService
from api.app import create_app
from common.settings import ServiceRole, Settings
from estatewatch.broker_accounts import AccountRequest, BrokerAccounts, Issued, Kind, service_username
from estatewatch.embedded import EmbeddedBroker, EmbeddedPostgres, free_port
from estatewatch.wiring import ApiBrokerAccounts, camera_status_alert, littering_sink
from ingest.service import IngestService
from store.migrate import apply_migrations
from vision.faces.service import EntranceService
from vision.service import VisionService

log = logging.getLogger(__name__)

ROLES: tuple[ServiceRole, ...] = ("ingest", "vision", "alerts", "api", "all")
SERVICE_ACCOUNTS: dict[str, Kind] = {"ingest": Kind.INGEST, "vision": Kind.VISION, "alerts": Kind.ALERTS,
                                     "api": Kind.API, "simulator": Kind.SIMULATOR}
"""The broker account each embedded service runs under (the demo's simulators share the ``simulator`` one)."""


class Component(Protocol):
    """A long-running part of the service: ``start`` returns at once, ``stop`` drains and returns."""

    def start(self) -> None:
        """Start the component's threads or processes and return without waiting for work."""
        ...

    def stop(self) -> None:
        """Finish or hand back what is in hand, then release connections; returns when done."""
        ...


def for_role(settings: Settings, role: str, role_urls: Mapping[str, str] | None) -> Settings:
    """The settings one role runs with: its own broker account when the embedded broker issued one."""
    if role_urls and role in role_urls:
        return settings.model_copy(update={"mqtt_url": role_urls[role]})
    return settings


def build_components(settings: Settings, roles: set[str],
                     role_urls: Mapping[str, str] | None = None) -> list[Component]:
    """The background components for these roles (the API runs in the foreground, see ``serve``)."""
    components: list[Component] = []
    if roles & {"ingest", "all"}:
        components.append(IngestService(for_role(settings, "ingest", role_urls)))
    if roles & {"alerts", "all"}:
        components.append(AlertsService(for_role(settings, "alerts", role_urls)))
    if roles & {"vision", "all"}:
        vision_settings = for_role(settings, "vision", role_urls)
        entrance = EntranceService(vision_settings) if settings.entrance_cameras_file is not None else None
        ignore = entrance.camera_ids if entrance is not None else frozenset()
        # units named from the plan these settings carry (the demo's is written in-process, not in the environment)
        sink = littering_sink(vision_settings)
        components.append(VisionService(vision_settings, alert_sink=sink, ignore_cameras=ignore,
                                        camera_sink=camera_status_alert, offline_after_s=settings.camera_offline_s))
        if entrance is not None:
            components.append(entrance)
    return components


def serve(settings: Settings, roles: set[str], role_urls: Mapping[str, str] | None = None,
          broker_accounts: BrokerAccounts | None = None) -> None:
    """Migrate, start the components of ``roles``, serve HTTP if the API is one of them, stop on a signal.

    ``role_urls`` gives each role its own broker account (the demo's embedded broker); ``broker_accounts`` lets the
    admin API issue device accounts.
    """
    install_log_redaction()  # residents' personal data never reaches a log line, whatever the role
    apply_migrations(settings.require_database_url())
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    components = build_components(settings, roles, role_urls)
    if settings.metrics_port and not roles & {"api", "all"}:  # worker roles: /metrics for Prometheus and healthchecks
        start_http_server(settings.metrics_port)
    for component in components:
        component.start()
    log.info("started roles %s", ", ".join(sorted(roles)))
    try:
        if roles & {"api", "all"}:
            # Open console streams would otherwise hold the server up at shutdown.
            port = ApiBrokerAccounts(broker_accounts) if broker_accounts is not None else None
            app = create_app(for_role(settings, "api", role_urls), broker_accounts=port)
            config = uvicorn.Config(app, host=settings.http_host, port=settings.http_port, log_level="warning",
                                    timeout_graceful_shutdown=2,
                                    proxy_headers=False)  # only EW_TRUSTED_PROXIES may set X-Forwarded-* (api/)
            _Server(config).run()
        else:
            _wait_for_signal()
    finally:
        for component in reversed(components):
            try:
                component.stop()
            except Exception:
                log.exception("error while stopping %s", type(component).__name__)


class _Server(uvicorn.Server):
    """uvicorn's server without its last step: raising the stop signal again once it has shut down.

    That re-raised SIGTERM ends the process on the spot, before ``serve`` stops its components (ingest would not
    commit what it holds) and before the demo stops its simulators, broker and PostgreSQL, which then outlive it.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Turn SIGINT and SIGTERM into a graceful shutdown while serving, and restore the handlers after it."""
        if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


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
    accounts: BrokerAccounts | None = None
    role_urls: dict[str, str] = field(default_factory=dict)  # service role -> MQTT URL with its own account

    def stop(self) -> None:
        """Stop the simulators first (so nothing publishes into a stopping broker), then the broker, then PostgreSQL."""
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
            accounts = BrokerAccounts(settings.broker_auth_dir or data_dir / "broker-auth")
            broker = EmbeddedBroker(data_dir / "broker", port=_saved_port(data_dir / "mqtt.port"), auth=accounts)
            if broker.authenticated:  # before the start, so the broker reads the new secrets as it comes up
                issued = service_accounts(accounts, settings.site)
                started.accounts = accounts
                started.role_urls = {role: issued[role].mqtt_url("127.0.0.1", broker.port) for role in issued}
            started.broker = broker.start()
            update["mqtt_url"] = started.role_urls.get("api", broker.url)
        if settings.admin_token is None:
            update["admin_token"] = secrets.token_urlsafe(24)
        update["data_dir"] = data_dir
        yield _with(settings, update), started
    finally:
        started.stop()


def service_accounts(accounts: BrokerAccounts, site: str) -> dict[str, Issued]:
    """A fresh secret for each embedded service: issued on the first run, rotated on later ones (never stored)."""
    existing = {a.username for a in accounts.accounts(site)}
    rotate = {role: kind for role, kind in SERVICE_ACCOUNTS.items() if service_username(kind, site) in existing}
    issue = {role: kind for role, kind in SERVICE_ACCOUNTS.items() if role not in rotate}
    rotated = accounts.rotate_many([service_username(kind, site) for kind in rotate.values()]) if rotate else []
    new = accounts.issue_many([AccountRequest(kind, site) for kind in issue.values()]) if issue else []
    return dict(zip([*rotate, *issue], [*rotated, *new], strict=True))


def _with(settings: Settings, update: dict[str, object]) -> Settings:
    if isinstance(update.get("admin_token"), str):
        update["admin_token"] = SecretStr(str(update["admin_token"]))
    return settings.model_copy(update=update)


def _saved_port(path: Path) -> int:
    """Reuse the port of the last demo run so bookmarks and integrators keep working."""
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
    # A session of its own: Ctrl+C reaches only the demo, which then stops its children in order.
    with log_file.open("ab") as out:  # the child keeps its own copy of the descriptor
        # our own CLI under this interpreter (an absolute path); the demo itself builds ``args``
        return subprocess.Popen([sys.executable, "-m", "estatewatch.cli", *args], env=env, stdout=out,  # noqa: S603
                                stderr=subprocess.STDOUT, start_new_session=True)


def settings_env(settings: Settings) -> dict[str, str]:
    """This process's environment with every set setting as its ``EW_`` variable, for a child process."""
    env = dict(os.environ)
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if hasattr(value, "get_secret_value"):
            value = value.get_secret_value()
        env[f"EW_{name.upper()}"] = str(value)
    return env
