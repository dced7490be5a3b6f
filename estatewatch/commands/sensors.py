"""``estatewatch simulate sensors`` and ``estatewatch bench ingest``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from estatewatch.commands import CliGroups

if TYPE_CHECKING:
    from common.settings import Settings


def simulate_sensors(
    devices: Annotated[int, typer.Option(
        min=1, help="number of devices (kinds cycle: temperature, smoke, door, water, charger, gas, fire door)")] = 20,
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
    own_accounts: Annotated[bool, typer.Option(
        help="issue (or rotate) a broker account per device in EW_BROKER_AUTH_DIR, register the devices, and log "
        "in as each device; the secrets stay in memory")] = False,
    alarm_rate: Annotated[float, typer.Option(
        min=0.0, help="alarm episodes (smoke, heat, water leak, gas, fire door propped open, e-bike charging in a "
        "corridor) per device and hour")] = 0.05,
    first_alarms_within: Annotated[float, typer.Option(
        min=0.0, help="seconds by which one device of each alarm kind has had an episode the rules fire on "
        "(0: only the random ones)")] = 480.0,
) -> None:
    """Publish simulated sensor telemetry, door contacts and device status to the broker at EW_MQTT_URL."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from common.settings import Settings
    from simulators.sensor_fleet import FleetOptions, SensorFleet

    settings = Settings()
    if settings.mqtt_url is None:
        raise typer.BadParameter("set EW_MQTT_URL (mqtt://user:pass@host:port) to the broker to publish to")
    if duration is None and count is None:
        duration = 60.0
    options = FleetOptions(devices=devices, rate=rate, seed=seed, malformed_share=malformed_share, dropouts=dropouts,
                           alarm_rate_per_h=alarm_rate, first_alarms_within_s=first_alarms_within or None)
    credentials = fleet_credentials(settings.model_copy(update={"site": site or settings.site}), devices) \
        if own_accounts else None
    fleet = SensorFleet(settings.mqtt, site or settings.site, options, credentials=credentials)
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


def fleet_credentials(settings: Settings, devices: int) -> dict[str, str]:
    """A broker account of its own for each simulated device (door contacts: their flat's door topic only)."""
    from estatewatch.broker_accounts import AccountRequest, Kind
    from estatewatch.commands.devices import issue_or_rotate, register_devices
    from estatewatch.wiring import broker_accounts
    from simulators.sensors import SensorKind, make_fleet

    requests = [AccountRequest(Kind.UNIT, settings.site, spec.device_id, spec.unit_id, ("door",))
                if spec.kind is SensorKind.DOOR else AccountRequest(Kind.SENSOR, settings.site, spec.device_id)
                for spec in make_fleet(devices)]
    issued = issue_or_rotate(broker_accounts(settings), requests)
    register_devices(settings, issued)
    return {i.account.username: i.password for i in issued}


def bench_ingest(
    messages: Annotated[int, typer.Option(min=1000, help="telemetry messages per phase")] = 100_000,
    repeat: Annotated[int, typer.Option(min=1, help="rounds of the three phases, interleaved; medians reported")] = 3,
    devices: Annotated[int, typer.Option(
        min=1, help="simulated devices the messages come from (one broker connection each on the embedded broker)")]
    = 200,
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
    """Add the sensor simulation and ingest bench commands to the CLI."""
    groups.simulate.command("sensors")(simulate_sensors)
    groups.bench.command("ingest")(bench_ingest)
