"""Command groups of the ``estatewatch`` CLI, one module per area; each exposes ``register(groups)``."""

from __future__ import annotations

from dataclasses import dataclass

import typer


@dataclass(frozen=True)
class CliGroups:
    """The CLI's top level and its sub-groups, handed to each area's ``register``."""

    app: typer.Typer
    bench: typer.Typer
    eval: typer.Typer
    simulate: typer.Typer
