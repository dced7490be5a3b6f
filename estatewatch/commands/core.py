"""Core commands: ``demo``, ``serve``, ``migrate``."""

from __future__ import annotations

from typing import Annotated

import typer

from estatewatch.commands import CliGroups


def register(groups: CliGroups) -> None:
    """Add the core commands (serving and set-up) to the CLI."""
    app = groups.app

    @app.command()
    def migrate() -> None:
        """Apply pending database migrations to EW_DATABASE_URL."""
        from common.settings import get_settings
        from store.migrate import apply_migrations

        applied = apply_migrations(get_settings().require_database_url())
        typer.echo(f"applied {len(applied)} migration(s): {applied}" if applied else "database is up to date")

    @app.command()
    def serve(
        role: Annotated[str, typer.Option(help="ingest, vision, alerts, api or all (comma-separated for several)")]
        = "all",
    ) -> None:
        """Run EstateWatch against EW_DATABASE_URL and EW_MQTT_URL (one role, several, or all).

        Refuses settings only fit for a laptop (weak secrets, anonymous MQTT, unregistered devices, public docs or
        metrics) and names the setting to fix; see docs/configuration.md.
        """
        from common.settings import get_settings
        from estatewatch.production_guard import ProductionGuardError, enforce
        from estatewatch.runtime import ROLES
        from estatewatch.runtime import serve as run
        from estatewatch.wiring import broker_accounts

        roles = {r.strip() for r in role.split(",") if r.strip()}
        unknown = roles - set(ROLES)
        if unknown or not roles:
            raise typer.BadParameter(f"unknown role(s) {sorted(unknown)}; choose from {', '.join(ROLES)}")
        settings = get_settings()
        try:
            enforce(settings, roles)
        except ProductionGuardError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from exc
        # the API manages broker accounts when it is told where the broker's files are
        accounts = broker_accounts(settings) if settings.broker_auth_dir is not None else None
        run(settings, roles, broker_accounts=accounts)

    @app.command()
    def demo(
        cameras: Annotated[int, typer.Option(help="simulated facade cameras, one per tower (up to 6)")] = 4,
        sensors: Annotated[int, typer.Option(help="simulated sensors")] = 40,
        residents: Annotated[int, typer.Option(help="simulated residents")] = 60,
    ) -> None:
        """Everything on one machine: embedded PostgreSQL and broker, simulators, the console."""
        from common.settings import get_settings
        from estatewatch.demo import run_demo

        run_demo(get_settings(), cameras=cameras, sensors=sensors, residents=residents)

