"""Alerts area commands: ``replay``, ``simulate residents``, ``bench alerts``, ``eval inactivity``,
``residents import``.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from estatewatch.bench.seeds import parse_seeds
from estatewatch.commands import CliGroups

if TYPE_CHECKING:  # for annotations only: the simulator is imported when its command runs
    from simulators.residents import Simulation


def replay_cmd(
    events: Annotated[Path, typer.Argument(help="EVENTS.jsonl, time-ordered")],
    residents: Annotated[Path, typer.Option("--residents", help="RESIDENTS.csv")],
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line per alert raised")] = False,
    until: Annotated[str | None, typer.Option("--until", help="advance the clock to this ISO time at the end")] = None,
    tz: Annotated[str | None, typer.Option("--tz", help="zone of naive timestamps (default EW_TIMEZONE)")] = None,
) -> None:
    """Run the resident rules offline over recorded events, on event time."""
    from alerts.config import AlertsConfig
    from alerts.presence_rules import RuleConfig
    from alerts.replay import ReplayError, firing_json, parse_ts, read_events, replay, zone
    from alerts.resident_csv import ResidentCsvError, parse_residents
    from common.settings import Settings

    settings = Settings()
    zone_info = zone(tz or settings.timezone)
    try:
        config = AlertsConfig.load(settings.alert_rules_file)
        people = parse_residents(residents.read_text(encoding="utf-8"))
        end = parse_ts(until, zone_info) if until else None
        with events.open(encoding="utf-8") as fh:
            fired, engine = replay(read_events(fh, zone_info), people, until=end, tz=zone_info,
                                   cfg=RuleConfig(inactivity=config.rules.inactivity))
    except (ReplayError, ResidentCsvError, OSError, ValueError) as exc:
        typer.echo(f"replay: {exc}", err=True)
        raise typer.Exit(2) from exc
    for f in fired:
        body = firing_json(f, zone_info)
        if as_json:
            sys.stdout.write(json.dumps(body, ensure_ascii=False) + "\n")
        else:
            typer.echo(f"{body['raised_at']}  {body['type']:<16} {body['resident']:<10} {body['unit']:<8}"
                       f" {'reminder' if f.reminder else 'new'}  {body['explanation']}")
    if not as_json:
        typer.echo(f"{engine.events} events, {len(fired)} alerts, {engine.evaluations} rule evaluations", err=True)


def simulate_residents_cmd(
    out: Annotated[Path, typer.Option("--out", help="folder for events.jsonl, residents.csv, truth.json")] = Path(
        "var/sim/residents"),
    residents: Annotated[int, typer.Option(help="number of residents")] = 20,
    days: Annotated[float, typer.Option(help="simulated days")] = 10.0,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    start: Annotated[str, typer.Option(help="local start time (naive ISO)")] = "2026-03-02T00:00:00",
    mqtt: Annotated[bool, typer.Option("--mqtt", help="also publish the events over MQTT on a fast clock")] = False,
    speed: Annotated[float, typer.Option(help="simulated seconds per real second when publishing")] = 3600.0,
) -> None:
    """Daily routines of residents with ground truth; optionally published to ``estate/{site}/...``."""
    from simulators.residents import SimConfig, simulate

    sim = simulate(SimConfig(residents=residents, days=days, seed=seed, start=datetime.fromisoformat(start)))
    paths = sim.write(out)
    expected = len(sim.truth.expected_not_out(sim.end))
    typer.echo(f"{len(sim.events)} events for {len(sim.residents)} residents; {expected} expected elderly_not_out;"
               f" files: {', '.join(str(p) for p in paths.values())}")
    _write_fast_files(sim, speed, out)
    if mqtt:
        _publish(sim, speed)


def _write_fast_files(sim: Simulation, speed: float, out: Path) -> None:
    """The fast clock compresses time ``speed`` times, so the rules need the same compression: import
    ``residents.fast.csv`` and run the alerts service with ``EW_ALERT_RULES_FILE=rules.fast.json``.
    """
    from simulators.residents import time_scaled

    (out / "residents.fast.csv").write_text(sim.residents_csv(time_scaled(sim.residents, speed)), encoding="utf-8")
    (out / "rules.fast.json").write_text(json.dumps({"residents": {
        "door_quiet_minutes": 10 / speed, "reminder_hours": 12 / speed}}), encoding="utf-8")


def _publish(sim: Simulation, speed: float) -> None:
    """Publish on the fast clock: simulated time runs ``speed`` times faster and payloads carry the compressed wall
    time.
    """
    import time
    from datetime import UTC, timedelta
    from zoneinfo import ZoneInfo

    from common.mqtt import BoundedPublisher
    from common.settings import Settings
    from simulators.residents import mqtt_messages

    settings = Settings()
    tz = ZoneInfo(settings.timezone)
    sim_start = sim.events[0]["ts"] if sim.events else None
    if sim_start is None:
        return
    origin = datetime.fromisoformat(sim_start).replace(tzinfo=tz)
    real_start, started = datetime.now(UTC), time.monotonic()

    def stamp(ts: datetime) -> datetime:
        return real_start + (ts - origin) / speed

    publisher = BoundedPublisher(settings.mqtt, max_inflight=500).start()
    try:
        for ts, topic, payload in mqtt_messages(sim, settings.site, tz, stamp):
            wait = (ts - real_start) / timedelta(seconds=1) - (time.monotonic() - started)
            if wait > 0:
                time.sleep(wait)
            publisher.publish(topic, payload, qos=1)
    finally:
        publisher.close()


def bench_alerts_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="print the result as one JSON object")] = False,
    residents: Annotated[int, typer.Option(help="residents")] = 100_000,
    hours: Annotated[float, typer.Option(help="simulated hours of events")] = 30.0,
    seed: Annotated[int, typer.Option(help="random seed")] = 7,
    db: Annotated[bool, typer.Option("--db", help="also measure the service's database path in a throwaway"
                                                  " embedded PostgreSQL")] = False,
    routines: Annotated[bool, typer.Option("--routines/--no-routines",
                                           help="run the learnt-routine no_activity rule too")] = True,
) -> None:
    """Rule engine throughput at scale, next to a scan-the-population baseline on the same events."""
    from estatewatch.bench.alerts import run_bench

    result = run_bench(residents=residents, hours=hours, seed=seed, routines=routines)
    if db:
        from estatewatch.bench.alerts_db import run_db_bench

        result["service_path"] = run_db_bench(residents=residents, seed=seed)
    if as_json:
        typer.echo(json.dumps(result))
    else:
        for key, value in result.items():
            typer.echo(f"{key:>28}: {value}")


def _seeds(text: str) -> tuple[int, ...]:
    """Seeds as every evaluation command takes them (``1,2,3``, ``11-13``), a bad part as a usage error."""
    try:
        return tuple(parse_seeds(text))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def eval_inactivity_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="print the result as one JSON object")] = False,
    tune_seeds: Annotated[str, typer.Option(help="simulator seeds the defaults were tuned on")] = "1,2,3",
    report_seeds: Annotated[str, typer.Option(help="simulator seeds only reported")] = "11,12,13",
    residents: Annotated[int, typer.Option(help="simulated residents per seed")] = 20,
    days: Annotated[float, typer.Option(help="simulated days per seed")] = 45.0,
    cuts_per_home: Annotated[int, typer.Option(help="seeded at-home cut instants per home (>= 20)")] = 20,
    public: Annotated[bool, typer.Option("--public/--no-public", help="also the public datasets found in the"
                                                                      " cache (report only)")] = True,
) -> None:
    """Delay from activity stopping to the first no_activity alert, misses and false alarms per resident-day."""
    from estatewatch.bench.inactivity_eval import evaluate

    if cuts_per_home < 1 or residents < 1 or days <= 14:
        typer.echo("eval inactivity: need residents >= 1, cuts-per-home >= 1 and more than 14 days", err=True)
        raise typer.Exit(2)
    result = evaluate(tune_seeds=_seeds(tune_seeds), report_seeds=_seeds(report_seeds), residents=residents,
                      days=days, cuts_per_home=cuts_per_home, casas=public)
    if as_json:
        typer.echo(json.dumps(result))
        return
    for row in [*result["results"], *result["simulated_collapses"]]:
        ours = row.get("ours", row)
        typer.echo(f"{row['dataset']:<34} {row['role']:<12} median {ours['median_h']} h  p90 {ours['p90_h']} h"
                   f"  missed {ours['missed']}  FA/day {ours.get('false_alarms_per_resident_day', '-')}")
    for gone in result["public_datasets_unavailable"]:
        typer.echo(f"unavailable: {gone}", err=True)


def residents_import_cmd(
    path: Annotated[Path, typer.Argument(
        help="CSV with resident_id,unit,elderly,lives_alone,consent[,not_out_hours,name,age,contact_relation,"
             "contact_name,contact_phone,grid_worker,grid_worker_phone]; consent is yes/no per row")],
) -> None:
    """Load or update residents in the database (EW_DATABASE_URL, EW_SITE)."""
    from alerts.resident_csv import ResidentCsvError, parse_import
    from alerts.resident_records import import_residents
    from common.settings import Settings
    from store.db import connect

    settings = Settings()
    try:
        rows = parse_import(path.read_text(encoding="utf-8"))
    except ResidentCsvError as exc:
        typer.echo(f"import refused: {exc}", err=True)
        raise typer.Exit(2) from exc
    with connect(settings.require_database_url()) as conn, conn.transaction():
        count = import_residents(conn, settings.site, rows)
    typer.echo(f"{count} residents loaded for site {settings.site}")


def register(groups: CliGroups) -> None:
    """Add the alerts area's commands to the CLI."""
    groups.app.command("replay")(replay_cmd)
    groups.simulate.command("residents")(simulate_residents_cmd)
    groups.bench.command("alerts")(bench_alerts_cmd)
    groups.eval.command("inactivity")(eval_inactivity_cmd)
    residents = typer.Typer(help="Residents watched by the elderly rules.", no_args_is_help=True)
    residents.command("import")(residents_import_cmd)
    groups.app.add_typer(residents, name="residents")
