"""Vision commands: ``detect``, ``eval littering``, ``bench vision``, ``simulate cameras``, ``cameras draw``."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from estatewatch.bench.seeds import parse_seeds
from estatewatch.commands import CliGroups

RESOLUTIONS = {"1080p": (1920, 1080), "720p": (1280, 720), "360p": (640, 360)}


def detect(
    source: Annotated[Path, typer.Argument(exists=True, help="video file (mp4/avi/mkv) or a folder of JPEG frames")],
    camera: Annotated[Path, typer.Option("--camera", exists=True, dir_okay=False, help="CAMERA.json")],
    fps: Annotated[float | None, typer.Option(min=0.1, help="default: CAMERA.json, else the file")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON object per line per event")] = False,
) -> None:
    """Find thrown objects in recorded footage with the same detector as the live service."""
    from vision.camera_config import load_camera
    from vision.offline import detect as run_detect

    cfg = load_camera(camera)
    count = 0
    try:
        for event in run_detect(source, cfg, fps):
            count += 1
            line = event.to_json()
            if as_json:
                typer.echo(json.dumps(line))
            else:
                typer.echo(f"frames {line['frame_start']}-{line['frame_end']} ({line['t_start']:.2f}-"
                           f"{line['t_end']:.2f} s): origin {line['origin']}, floor {line['floor']}, "
                           f"score {line['score']}")
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if not as_json:
        typer.echo(f"{count} event(s)")


def eval_littering(
    seeds: Annotated[str, typer.Option(help="scenes with throws (and distractors), e.g. 0-29")] = "0-29",
    distractor_seeds: Annotated[str, typer.Option(help="distractor-only scenes (every kind at once)")] = "1000-1011",
    resolution: Annotated[str, typer.Option(help="1080p, 720p or 360p")] = "1080p",
    fps: Annotated[float, typer.Option(min=1)] = 20.0,
    seconds: Annotated[float, typer.Option(min=4, help="length of a scene with throws")] = 8.0,
    distractor_seconds: Annotated[float, typer.Option(min=4, help="length of a distractor-only scene")] = 60.0,
    workers: Annotated[int, typer.Option(min=1, help="processes rendering and detecting scenes")] = 2,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
    real: Annotated[Path | None, typer.Option(
        "--real", file_okay=False, help="score on the real clips cached in DIR (docs/real-footage.md)")] = None,
    split: Annotated[str | None, typer.Option("--split", help="with --real: tune or report")] = None,
    fetch: Annotated[bool, typer.Option("--fetch", help="with --real: first copy the clips into DIR")] = False,
    world: Annotated[bool, typer.Option("--world", help="draw every scene from the world ranges "
                                                       "(simulators/camera/world.py)")] = False,
    cache: Annotated[Path | None, typer.Option(
        "--cache", file_okay=False, help="with --world: keep rendered footage in DIR and reuse it "
                                         "(estatewatch/bench/world_cache.py)")] = None,
) -> None:
    """Render simulator scenes (fixed seeds) and score the detector: recall, precision, false alarms, floors.

    With ``--real DIR`` it scores the annotated real clips instead (``--split`` picks tune or report clips).
    """
    from rich.console import Console
    from rich.table import Table

    from estatewatch.bench.littering_eval import evaluate

    if real is not None:
        _eval_real(real, split, fetch=fetch, as_json=as_json)
        return
    if resolution not in RESOLUTIONS:
        raise typer.BadParameter(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    width, height = RESOLUTIONS[resolution]
    if cache is not None:
        from estatewatch.bench.world_cache import ENV as WORLD_CACHE_ENV

        os.environ[WORLD_CACHE_ENV] = str(cache)  # read by every evaluation process
    report = evaluate(parse_seeds(seeds), parse_seeds(distractor_seeds), width=width, height=height, fps=fps,
                      duration=seconds, distractor_duration=distractor_seconds, workers=workers, world=world)
    report["resolution"] = resolution
    if as_json:
        typer.echo(json.dumps(report))
        return
    table = Table("seed", "kind", "falls", "found", "events", "false", "floor errors", "distractors")
    for r in report["per_scene"]:
        table.add_row(str(r["seed"]), r["kind"], str(r["truths"]), str(r["detected"]), str(r["events"]),
                      str(r["false_alarms"]), ",".join(map(str, r["floor_errors"])), ",".join(r["distractors"]))
    console = Console()
    console.print(table)
    for key, value in report.items():
        if key != "per_scene":
            console.print(f"{key}: {value}")


def _eval_real(clips_dir: Path, split: str | None, *, fetch: bool, as_json: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    from estatewatch.bench.real_clips import (
        DEFAULT_MANIFEST,
        FetchError,
        ManifestError,
        default_mirror_root,
        fetch_clips,
    )
    from estatewatch.bench.real_eval import evaluate_real

    if split not in (None, "tune", "report"):
        raise typer.BadParameter("--split must be tune or report")
    try:
        if fetch:
            fetch_clips(clips_dir, default_mirror_root())
        report = evaluate_real(clips_dir, DEFAULT_MANIFEST, split)
    except (ManifestError, FetchError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from exc
    if as_json:
        typer.echo(json.dumps(report))
        return
    table = Table("clip", "split", "kind", "falls", "found", "missed", "events", "false", "seconds")
    rows = report["per_clip"]
    if not isinstance(rows, list):
        raise TypeError("evaluate_real returned no per-clip rows")
    for r in rows:
        table.add_row(str(r["id"]), str(r["split"]), str(r["kind"]), str(r["falls"]), str(r["found"]),
                      str(len(r["missed"])), str(r["events"]), str(r["false_alarms"]), str(r["seconds"]))
    console = Console()
    console.print(table)
    console.print(f"per split: {report['per_split']}")


def bench_vision(
    cameras: Annotated[int, typer.Option(min=1, help="simulated cameras")] = 4,
    resolution: Annotated[str, typer.Option(help="1080p or 720p")] = "1080p",
    frames: Annotated[int, typer.Option(min=10, help="frames per camera")] = 100,
    rounds: Annotated[int, typer.Option(min=1, help="turns of every contender; each keeps its best")] = 3,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """Frames/s of decode alone, the EstateWatch pipeline (1 and 2 workers) and a naive MOG2 baseline."""
    from estatewatch.bench.vision import RESOLUTIONS as BENCH_RES
    from estatewatch.bench.vision import run

    if resolution not in BENCH_RES:
        raise typer.BadParameter("resolution must be 1080p or 720p")
    report = run(cameras, resolution, frames, rounds)
    if as_json:
        typer.echo(json.dumps(report))
        return
    for key, value in report.items():
        typer.echo(f"{key}: {value}")


def simulate_cameras(
    cameras: Annotated[int, typer.Option(min=1, help="simulated cameras (ids sim-cam-0, sim-cam-1, ...)")] = 1,
    fps: Annotated[float, typer.Option(min=0.5)] = 20.0,
    seconds: Annotated[float, typer.Option(min=1)] = 10.0,
    seed: Annotated[int, typer.Option(help="scene seed of the first camera (the next ones add 1)")] = 1,
    resolution: Annotated[str, typer.Option(help="1080p, 720p or 360p")] = "1080p",
    throws: Annotated[int | None, typer.Option(min=0, help="objects thrown per camera (default random 1-2)")] = None,
    site: Annotated[str | None, typer.Option(help="estate id (default EW_SITE)")] = None,
    video: Annotated[Path | None, typer.Option(help="write one camera to this video file (+ .truth.json, "
                                                    ".camera.json) instead of publishing")] = None,
    truth: Annotated[Path | None, typer.Option(help="write the ground truth and CAMERA.json objects here")] = None,
    loop: Annotated[bool, typer.Option(help="replay the scenes forever (a live demo); stop with Ctrl+C")] = False,
    cameras_out: Annotated[Path | None, typer.Option(help="write the cameras' configuration (EW_CAMERAS_FILE) here "
                                                          "and exit")] = None,
) -> None:
    """Publish simulated camera frames over MQTT (estate/{site}/camera/{id}/frame) at the given fps."""
    from simulators.camera.scene import make_scene

    if resolution not in RESOLUTIONS:
        raise typer.BadParameter(f"resolution must be one of {', '.join(RESOLUTIONS)}")
    width, height = RESOLUTIONS[resolution]
    scenes = {f"sim-cam-{i}": make_scene(seed + i, width, height, fps, seconds, throws=throws)
              for i in range(cameras)}
    if cameras_out is not None:
        configs = [{**sc.camera_json(cam), "building": f"T{i + 1}", "name": f"Tower {i + 1} facade"}
                   for i, (cam, sc) in enumerate(scenes.items())]
        cameras_out.write_text(json.dumps(configs, indent=1), encoding="utf-8")
        typer.echo(f"{len(configs)} camera configurations written to {cameras_out}")
        return
    if video is not None:
        from simulators.camera.publish import write_video

        result = write_video(scenes["sim-cam-0"], video, "sim-cam-0")
        typer.echo(json.dumps({"video": str(video), "falls": len(result["falls"])}))
        return
    from common.settings import Settings
    from simulators.camera.publish import publish_scenes

    settings = Settings()
    if settings.mqtt_url is None:
        raise typer.BadParameter("set EW_MQTT_URL to the broker to publish to")
    report = publish_scenes(settings.mqtt, site or settings.site, scenes)
    while loop:  # the same cameras and throws again, stamped with the current time
        report = publish_scenes(settings.mqtt, site or settings.site, scenes)
    if truth is not None:
        truth.write_text(json.dumps(report, indent=1), encoding="utf-8")
    typer.echo(json.dumps({cam: len(r["truth"]) for cam, r in report.items()}))


def draw_cameras(
    camera: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CAMERA.json")],
    frame: Annotated[str, typer.Option(help="'latest' (the camera's newest received frame) or a JPEG file")] = "latest",
    out: Annotated[Path, typer.Option(help="output image (.png or .jpg)")] = Path("calibration.png"),
) -> None:
    """Draw a camera's floor lines, window columns and masks over a frame, to check the calibration by eye."""
    import cv2
    import numpy as np

    from common.settings import Settings
    from vision.calibration import draw_calibration
    from vision.camera_config import load_camera
    from vision.paths import latest_frame_path

    cfg = load_camera(camera)
    src = latest_frame_path(Settings().data_dir, cfg.id) if frame == "latest" else Path(frame)
    if not src.exists():
        typer.echo(f"error: no frame at {src}", err=True)
        raise typer.Exit(2)
    img = cv2.imdecode(np.frombuffer(src.read_bytes(), np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        typer.echo(f"error: {src} does not decode", err=True)
        raise typer.Exit(2)
    if not cv2.imwrite(str(out), draw_calibration(np.asarray(img, dtype=np.uint8), cfg)):
        typer.echo(f"error: cannot write {out}", err=True)
        raise typer.Exit(2)
    print(out, file=sys.stderr)


def register(groups: CliGroups) -> None:
    """Add the vision area's commands to the CLI."""
    groups.app.command("detect")(detect)
    groups.eval.command("littering")(eval_littering)
    groups.bench.command("vision")(bench_vision)
    groups.simulate.command("cameras")(simulate_cameras)
    cameras_app = typer.Typer(help="Camera configuration: check calibrations.", no_args_is_help=True)
    cameras_app.command("draw")(draw_cameras)
    groups.app.add_typer(cameras_app, name="cameras")
