"""World scenes for the littering evaluation: render a scene drawn from the world ranges, deliver it the way its
video would arrive (JPEG frames on the live path, or an MJPEG / MPEG-4 / H.264 file through the offline path, with
lost frames), run the detector, and describe each fall by the conditions it was seen under.

The world set runs from ``python -m estatewatch.bench.littering_eval --world ...``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from estatewatch.bench.world_cache import cache_root, jpeg_stream, make_scene, video_file
from simulators.camera.scene import FLOOR_M, Scene, ground_truth
from vision.camera_config import CameraConfig
from vision.decode import GrayFrame, decode_gray, scale_for_width
from vision.detector import Detector, LitteringEvent
from vision.offline import video_frames

WALL_GREY = 172.0  # the rendered facade's wall, in grey levels


def _frames(scene: Scene, folder: Path, kind: str, duration: float) -> Iterator[tuple[GrayFrame, int]]:
    """Decoded frames as the detector would get them from this scene's video (from the footage cache when
    ``EW_WORLD_CACHE`` names one, ``estatewatch/bench/world_cache.py``).
    """
    root = cache_root()
    if scene.codec == "jpeg":
        scale = scale_for_width(scene.width)
        for data in jpeg_stream(scene, root, kind, duration):
            yield decode_gray(data, scale), scale
        return
    yield from video_frames(video_file(scene, folder, root, kind, duration))


def installer_camera(scene: Scene, camera_id: str) -> CameraConfig:
    """CAMERA.json for a world scene as an installer would mark it: the scene's own, without floor lines below the
    first one that the picture shows in order.

    A strong barrel lens folds a floor line that lies below the frame back into it (the radial model is not
    monotonic far outside the picture), so a few drawn cameras (4 of 450 world seeds checked) give a ground line
    above the first floor's. Nobody marks a line there; it is dropped and the floors are numbered on from the next
    one. The scene's facade rectangle stands on its lowest line, the folded one, so it goes too.
    """
    raw = scene.camera_json(camera_id)
    lines = [float(r) for r in raw["floor_lines"]]
    skip = next((k for k in range(len(lines)) if all(a > b for a, b in pairwise(lines[k:]))), len(lines))
    if skip:
        raw = {**raw, "floor_lines": lines[skip:], "first_floor": raw["first_floor"] + skip, "facade_rect": None}
    return CameraConfig.model_validate(raw)


def run_world_scene(seed: int, kind: str, duration: float,
                    rejected: dict[str, int] | None = None) -> tuple[Scene, list[LitteringEvent], list[dict[str, Any]]]:
    """Render, deliver and detect one world scene; ``kind`` "distractors" is fall-free with one distractor kind
    (chosen by the seed), so its false alarms belong to that kind. ``rejected`` (when given) receives the
    detector's count of tracks rejected per reason.
    """
    scene = make_scene(seed, kind, duration)
    truths = ground_truth(scene)
    for tr in truths:
        tr["conditions"] = conditions(scene, tr)
    detector = Detector(installer_camera(scene, f"world-{seed}"))
    lost = np.random.default_rng(seed + 7_777).random(scene.n_frames) < scene.drop_rate
    events: list[LitteringEvent] = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (gray, scale) in enumerate(_frames(scene, Path(tmp), kind, duration)):
            if i < len(lost) and lost[i]:
                continue
            events += detector.feed(gray, i, i / scene.fps, scale)
    events += detector.finish()
    if rejected is not None:
        rejected.update(detector.stats.rejected)
    return scene, events, truths


def _band(value: float, edges: tuple[float, ...], names: tuple[str, ...]) -> str:
    return names[int(np.searchsorted(np.asarray(edges), value, side="right"))]


def conditions(scene: Scene, truth: dict[str, Any]) -> dict[str, str]:
    """The conditions one fall was seen under, as bucket names."""
    th = scene.throws[truth["id"]]
    grey = float(np.dot(th.color, (0.114, 0.587, 0.299)))
    contrast = abs(grey - WALL_GREY) * (0.5 if scene.night else 1.0)  # against the wall it mostly falls past
    outward = th.velocity[2]
    col = truth["release_px"][0] / scene.width
    return {
        "floor_band": _band(th.floor / scene.floors, (1 / 3, 2 / 3), ("low third", "middle third", "top third")),
        "position": _band(abs(col - 0.5), (1 / 6, 1 / 3), ("centre", "side", "edge")),
        "outward_mps": "plain drop" if th.velocity == (0.0, 0.0, 0.0) else _band(outward, (1.0, 2.0),
                                                                                  ("0-1", "1-2", "2-3")),
        "size_px": _band(th.size_px, (4, 8, 16), ("2-3", "4-7", "8-15", "16-40")),
        "contrast": _band(contrast, (30, 60, 100), ("<30", "30-60", "60-100", ">=100")),
        "codec": scene.codec,
        "resolution": f"{scene.height}p",
        "fps": _band(scene.fps, (14, 22), ("10-12.5", "15-20", "25-30")),
        "duplicates": f"every {scene.dup_every}" if scene.dup_every else "none",
        "dropped_frames": "some" if scene.drop_rate else "none",
        "light": "night IR" if scene.night else "day",
        "camera": "turned/rolled" if scene.yaw or scene.roll else "square",
        "distance_m": _band(scene.distance, (25, 40), ("10-25", "25-40", "40-60")),
        "tilt_deg": _band(float(np.degrees(scene.camera.tilt)), (30, 45), ("<30", "30-45", ">=45")),
        "height_of_fall": _band((th.floor - 1) * FLOOR_M - scene.view_bottom_m, (15, 40), ("<15 m", "15-40 m",
                                                                                         ">=40 m")),
    }


def condition_rows(truths: list[dict[str, Any]], pairs: list[tuple[int, int]],
                   events: list[LitteringEvent]) -> list[dict[str, Any]]:
    """One row per fall of a world scene: its conditions, whether it was found, and the floor error."""
    found = {ti: ei for ei, ti in pairs}
    rows = []
    for ti, tr in enumerate(truths):
        if "conditions" not in tr:
            continue
        ei = found.get(ti)
        floor = events[ei].floor if ei is not None else None
        rows.append({"px": tr["size_px"], "found": ei is not None,
                     "floor_error": None if floor is None else floor - tr["floor"], **tr["conditions"]})
    return rows


def summarize_conditions(scenes: list[dict[str, Any]]) -> dict[str, Any]:
    """Recall per condition bucket (falls of 4 px and more, and all) and false alarms per distractor kind."""
    rows = [r for s in scenes for r in s["conditions"]]
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for row in rows:
        for cond, bucket in row.items():
            if cond in {"px", "found", "floor_error"}:
                continue
            cell = table.setdefault(cond, {}).setdefault(bucket, {"falls": 0, "found": 0, "falls_ge4px": 0,
                                                                  "found_ge4px": 0})
            cell["falls"] += 1
            cell["found"] += row["found"]
            if row["px"] >= 4:
                cell["falls_ge4px"] += 1
                cell["found_ge4px"] += row["found"]
    for cells in table.values():
        for cell in cells.values():
            cell["recall_ge4px"] = round(cell["found_ge4px"] / cell["falls_ge4px"], 3) if cell["falls_ge4px"] else None
    kinds: dict[str, dict[str, float]] = {}
    for s in scenes:
        for k, sec in s.get("seconds_by_kind", {}).items():
            cell = kinds.setdefault(k, {"camera_hours": 0.0, "false_alarms": 0})
            cell["camera_hours"] += sec / 3600
            cell["false_alarms"] += s["events"]
    for cell in kinds.values():
        cell["per_camera_hour"] = round(cell["false_alarms"] / cell["camera_hours"], 2)
        cell["camera_hours"] = round(cell["camera_hours"], 3)
    return {"recall_by_condition": table, "false_alarms_by_kind": kinds}


def markdown(report: dict[str, Any]) -> str:
    """The condition tables of a world report as Markdown (for docs/performance.md)."""
    lines = []
    for cond, cells in report.get("recall_by_condition", {}).items():
        lines += [f"| {cond} | falls >= 4 px | found | recall | all falls | found |", "|---|---|---|---|---|---|"]
        for bucket, c in sorted(cells.items()):
            lines.append(f"| {bucket} | {c['falls_ge4px']} | {c['found_ge4px']} | {c['recall_ge4px']} | {c['falls']} "
                         f"| {c['found']} |")
        lines.append("")
    lines += ["| distractor kind | camera-hours | false alarms | per camera-hour |", "|---|---|---|---|"]
    for kind, c in sorted(report.get("false_alarms_by_kind", {}).items()):
        lines.append(f"| {kind} | {c['camera_hours']} | {c['false_alarms']} | {c['per_camera_hour']} |")
    return "\n".join(lines)
