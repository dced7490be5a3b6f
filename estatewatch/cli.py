"""The ``estatewatch`` command line: demo, serve, migrate, devices, simulate, bench, eval, detect, replay."""

from __future__ import annotations

import importlib
import logging

import typer

from estatewatch.commands import CliGroups

app = typer.Typer(help="EstateWatch: monitoring backend for smart residential estates.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
bench = typer.Typer(help="Benchmarks that measure EstateWatch against a baseline in one run.", no_args_is_help=True)
evaluate = typer.Typer(help="Score detectors and rules on simulated scenes with ground truth.", no_args_is_help=True)
simulate = typer.Typer(help="Simulated hardware: sensors, cameras, residents.", no_args_is_help=True)
app.add_typer(bench, name="bench")
app.add_typer(evaluate, name="eval")
app.add_typer(simulate, name="simulate")

# Each area registers its own commands; the list is the only place that knows them all.
COMMAND_MODULES = (
    "estatewatch.commands.core",
    "estatewatch.commands.vision",
    "estatewatch.commands.alerts",
    "estatewatch.commands.sensors",
    "estatewatch.commands.console",
    "estatewatch.commands.devices",
    "estatewatch.commands.faces",
)


def _register_all() -> None:
    groups = CliGroups(app=app, bench=bench, eval=evaluate, simulate=simulate)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(groups)


_register_all()


def main() -> None:
    """Entry point of the ``estatewatch`` script: log to stderr with timestamps, then run the command."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app()


if __name__ == "__main__":
    main()
