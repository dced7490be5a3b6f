"""Core commands: ``demo``, ``serve``, ``migrate``."""

from __future__ import annotations

from typing import Annotated

import typer

from estatewatch.commands import CliGroups


def register(groups: CliGroups) -> None:
    app = groups.app

    @app.command()
    def migrate() -> None:
        """Apply pending database migrations to EW_DATABASE_URL."""
        from estatewatch.config import get_settings
        from store.migrate import apply_migrations

        applied = apply_migrations(get_settings().require_database_url())
        typer.echo(f"applied {len(applied)} migration(s): {applied}" if applied else "database is up to date")

    @app.command()
    def serve(
        role: Annotated[str, typer.Option(help="ingest, vision, alerts, api or all (comma-separated for several)")]
        = "all",
    ) -> None:
        """Run EstateWatch against EW_DATABASE_URL and EW_MQTT_URL (one role, several, or all)."""
        from estatewatch.config import get_settings
        from estatewatch.runtime import ROLES
        from estatewatch.runtime import serve as run

        roles = {r.strip() for r in role.split(",") if r.strip()}
        unknown = roles - set(ROLES)
        if unknown or not roles:
            raise typer.BadParameter(f"unknown role(s) {sorted(unknown)}; choose from {', '.join(ROLES)}")
        run(get_settings(), roles)

    @app.command()
    def demo(
        cameras: Annotated[int, typer.Option(help="simulated cameras")] = 2,
        sensors: Annotated[int, typer.Option(help="simulated sensors")] = 40,
        residents: Annotated[int, typer.Option(help="simulated residents")] = 60,
    ) -> None:
        """Everything on one machine: embedded PostgreSQL and broker, simulators, the console."""
        from estatewatch.config import get_settings
        from estatewatch.demo import run_demo

        run_demo(get_settings(), cameras=cameras, sensors=sensors, residents=residents)

