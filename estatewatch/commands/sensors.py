"""``estatewatch simulate sensors`` and ``estatewatch bench ingest``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from estatewatch.commands import CliGroups


def simulate_sensors(
    devices: Annotated[int, typer.Option(min=1, help="number of devices (kinds cycle: temperature, smoke, ...)")] = 20,
    rate: Annotated[float, typer.Option(min=0.001, help="messages per second for the whole fleet")] = 20.0,
    duration: Annotated[float | None, typer.Option(help="seconds to run (default 60 unless --count)")] = None,
    count: Annotated[int | None, typer.Option(min=1, help="stop after this many messages")] = None,
    malformed_share: Annotated[float, typer.Option(min=0.0, max=1.0, help="share of deliberately bad messages")] = 0.0,
    seed: Annotated[int, typer.Option(help="same seed, same readings")] = 1,
    dropouts: Annotated[int, typer.Option(min=0, help="devices that lose power once (their will fires)")] = 0,
    site: Annotated[str | None, typer.Option(help="estate id (default EW_SITE)")] = None,
    truth: Annotated[
        Path | None, typer.Option(help="write the ground truth (valid (device, seq), doors, statuses) as JSON")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as one JSON object")] = False,
) -> None:
    """Publish simulated sensor telemetry, door contacts and device status to the broker at EW_MQTT_URL."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from estatewatch.config import Settings
    from simulators.sensor_fleet import FleetOptions, SensorFleet

    settings = Settings()
    if settings.mqtt_url is None:
        raise typer.BadParameter("set EW_MQTT_URL (mqtt://user:pass@host:port) to the broker to publish to")
    if duration is None and count is None:
        duration = 60.0
    options = FleetOptions(devices=devices, rate=rate, seed=seed, malformed_share=malformed_share, dropouts=dropouts)
    fleet = SensorFleet(settings.mqtt, site or settings.site, options)
    total = count if count is not None else int((duration or 0) * rate)
    with Progress(TextColumn("sensors"), BarColumn(), TextColumn("{task.completed}/{task.total} msgs"),
                  TimeElapsedColumn(), disable=as_json) as bar:
        task = bar.add_task("publish", total=total)
        report = fleet.run(duration_s=duration, count=count, progress=lambda sent: bar.update(task, completed=sent))
    if truth is not None:
        truth.write_text(json.dumps({"telemetry": report.telemetry, "doors": report.doors, "status": report.status}))
    if as_json:
        typer.echo(json.dumps(report.summary()))
    else:
        for key, value in report.summary().items():
            typer.echo(f"{key}: {value}")


def bench_ingest(
    messages: Annotated[int, typer.Option(min=1000, help="telemetry messages per phase")] = 100_000,
    repeat: Annotated[int, typer.Option(min=1, help="rounds of the three phases, interleaved; medians reported")] = 3,
    devices: Annotated[int, typer.Option(min=1, help="simulated devices the messages come from")] = 1000,
    publishers: Annotated[int, typer.Option(min=1, help="publisher processes (one Python publisher tops out)")] = 2,
    max_inflight: Annotated[int, typer.Option(min=1, help="unacknowledged QoS 1 messages per publisher")] = 2000,
    live: Annotated[bool, typer.Option(help="publish while consuming instead of filling the broker first")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object (progress goes to stderr)")] = False,
) -> None:
    """Raw broker receive rate vs EstateWatch's stored-and-committed rate with 1 and 2 ingest processes.

    Uses EW_DATABASE_URL / EW_MQTT_URL when set, else starts an embedded PostgreSQL and Mosquitto.
    """
    from estatewatch.bench.ingest import BenchConfig, run_bench

    config = BenchConfig(messages=messages, devices=devices, publishers=publishers, max_inflight=max_inflight,
                         live=live, repeat=repeat)
    result = run_bench(config, say=lambda line: typer.echo(line, err=True))
    if as_json:
        typer.echo(json.dumps(result))
    else:
        for key, value in result.items():
            typer.echo(f"{key}: {value}")


def register(groups: CliGroups) -> None:
    groups.simulate.command("sensors")(simulate_sensors)
    groups.bench.command("ingest")(bench_ingest)
