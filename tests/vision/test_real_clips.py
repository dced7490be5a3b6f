"""Real-footage tooling without the footage: manifest and annotation loading, fetching from a git mirror, matching."""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from estatewatch.bench.real_clips import (
    DEFAULT_MANIFEST,
    FetchError,
    ManifestError,
    cached_clip,
    fetch_clip,
    fetch_clips,
    load_annotation,
    load_clip_annotation,
    load_clip_camera,
    load_manifest,
    parse_clip,
    parse_fall,
)
from estatewatch.bench.real_eval import DetectedEvent, match_events, totals, tracks_on_fall
from estatewatch.cli import app

SHA = "ab" * 32
COMMIT = "cd" * 20


def clip_raw(**over: object) -> dict[str, Any]:
    raw: dict[str, Any] = {"id": "c1", "repo": "someone/facades", "commit": COMMIT, "path": "v/a.mp4", "sha256": SHA,
                           "licence": None, "kind": "fall", "split": "tune", "resolution": [1280, 720], "fps": 30,
                           "frames": [0, 99], "camera": "cameras/c.json", "annotation": "annotations/c1.json"}
    raw.update(over)
    return raw


def fall_raw(fid: str = "A", first: int = 10, last: int = 20, kind: str = "fall",
             track: list[list[float]] | None = None) -> dict[str, Any]:
    pts = track if track is not None else [[f, 600.0, 100.0 + 2.0 * (f - first) ** 2]
                                           for f in range(first, last + 1, 2)]
    return {"id": fid, "kind": kind, "first_frame": first, "last_frame": last,
            "release": {"frame": first, "x": 600.0, "y": 100.0, "uncertain": False}, "track": pts}


def test_parse_clip_accepts_a_complete_entry() -> None:
    clip = parse_clip(clip_raw(), "t")
    assert (clip.kind, clip.split, clip.frames, clip.resolution) == ("fall", "tune", (0, 99), (1280, 720))
    assert clip.cache_name == SHA[:16] + ".mp4"
    assert clip.source_frames is None
    assert parse_clip(clip_raw(source_frames=100), "t").source_frames == 100


@pytest.mark.parametrize(("over", "word"), [
    ({"sha256": "xyz"}, "sha256"), ({"split": "train"}, "split"), ({"kind": "maybe"}, "kind"),
    ({"commit": "abc"}, "commit"), ({"frames": [5, 2]}, "frames"), ({"fps": 0}, "fps"),
    ({"resolution": [1280]}, "resolution"), ({"fps": True}, "fps"),
    ({"source_frames": 99}, "source_frames"), ({"source_frames": "many"}, "source_frames"),
])
def test_parse_clip_names_the_bad_field(over: dict[str, Any], word: str) -> None:
    with pytest.raises(ManifestError, match=word):
        parse_clip(clip_raw(**over), "entry 3")


def test_missing_field_is_named() -> None:
    raw = clip_raw()
    del raw["path"]
    with pytest.raises(ManifestError, match="'path'"):
        parse_clip(raw, "entry")


def test_manifest_rejects_duplicate_ids(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"clips": [clip_raw(), clip_raw()]}))
    with pytest.raises(ManifestError, match="unique"):
        load_manifest(path)
    path.write_text("{not json")
    with pytest.raises(ManifestError, match="cannot read"):
        load_manifest(path)


def test_fall_track_must_be_ordered_and_inside_its_frames() -> None:
    fall = parse_fall(fall_raw(), "f")
    assert fall.track[0] == (10, 600.0, 100.0)
    assert fall.last_frame == 20
    with pytest.raises(ManifestError, match="increasing"):
        parse_fall(fall_raw(track=[[12, 1, 1], [11, 1, 2]]), "f")
    with pytest.raises(ManifestError, match="outside"):
        parse_fall(fall_raw(track=[[5, 1, 1], [12, 1, 2]]), "f")
    with pytest.raises(ManifestError, match="doubtful"):
        parse_fall(fall_raw(kind="bird"), "f")


def write_clip_files(tmp_path: Path, kind: str, falls: list[dict[str, Any]]) -> Path:
    (tmp_path / "annotations").mkdir()
    (tmp_path / "cameras").mkdir()
    (tmp_path / "annotations" / "c1.json").write_text(json.dumps({"clip": "c1", "frames": [0, 99], "falls": falls}))
    (tmp_path / "cameras" / "c.json").write_text(json.dumps({"id": "cam", "floor_lines": [700, 600, 510]}))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"clips": [clip_raw(kind=kind)]}))
    return manifest


def test_annotation_must_agree_with_the_clip_kind(tmp_path: Path) -> None:
    manifest = write_clip_files(tmp_path, "negative", [fall_raw()])
    clip = load_manifest(manifest)[0]
    with pytest.raises(ManifestError, match="negative clip has annotated falls"):
        load_clip_annotation(clip, manifest)
    assert load_clip_camera(clip, manifest).floor_lines == [700, 600, 510]


def test_a_doubtful_object_does_not_make_a_fall_clip(tmp_path: Path) -> None:
    manifest = write_clip_files(tmp_path, "fall", [fall_raw(kind="doubtful")])
    with pytest.raises(ManifestError, match="no annotated fall"):
        load_clip_annotation(load_manifest(manifest)[0], manifest)


def test_committed_manifest_and_annotations_are_consistent() -> None:
    """The files in data/real_clips load, every clip has its annotation and camera, and both splits have falls
    and negatives (no footage needed).
    """
    clips = load_manifest(DEFAULT_MANIFEST)
    assert {c.split for c in clips} == {"tune", "report"}
    for split in ("tune", "report"):
        kinds = {c.kind for c in clips if c.split == split}
        assert kinds == {"fall", "negative"}, split
    for clip in clips:
        ann = load_clip_annotation(clip, DEFAULT_MANIFEST)
        cam = load_clip_camera(clip, DEFAULT_MANIFEST)
        assert cam.calibrated or clip.kind == "negative", f"{clip.id}: a fall clip needs floors to score them"
        assert clip.source_frames is not None, clip.id
        assert clip.frames[1] < clip.source_frames, clip.id
        for fall in ann.falls:
            assert all(0 <= x <= clip.resolution[0] and 0 <= y <= clip.resolution[1] for _, x, y in fall.track)
            steps = [b[0] - a[0] for a, b in zip(fall.track, fall.track[1:], strict=False)]
            assert max(steps) <= 5, f"{clip.id}/{fall.id}: track points must come at least every few frames"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,  # noqa: S603,S607 (test's own argv)
                          text=True).stdout.strip()


def make_mirror(root: Path, repo: str, data: bytes) -> str:
    """A real git repository laid out like the mirror store: <root>/owner+name/repo/.git."""
    work = root / repo.replace("/", "+") / "repo"
    work.mkdir(parents=True)
    git("init", "-q", cwd=work)
    (work / "v").mkdir()
    (work / "v" / "a.mp4").write_bytes(data)
    git("add", ".", cwd=work)
    git("-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "clip", cwd=work)
    return git("rev-parse", "HEAD", cwd=work)


def test_fetch_from_mirror_checks_the_hash(tmp_path: Path) -> None:
    data = b"\x00\x00\x00\x18ftypmp42 not really a video"
    commit = make_mirror(tmp_path / "mirror", "someone/facades", data)
    sha = hashlib.sha256(data).hexdigest()
    clip = parse_clip(clip_raw(commit=commit, sha256=sha), "t")
    cache = tmp_path / "cache"
    path = fetch_clip(clip, cache, tmp_path / "mirror")
    assert path.read_bytes() == data
    assert cached_clip(clip, cache) == path
    wrong = parse_clip(clip_raw(commit=commit, sha256="0" * 64), "t")
    with pytest.raises(FetchError, match="refusing"):
        fetch_clip(wrong, tmp_path / "cache2", tmp_path / "mirror")
    assert not any((tmp_path / "cache2").iterdir())  # nothing half-written is left behind


def test_fetch_clips_materialises_each_file_once(tmp_path: Path) -> None:
    data = b"frames"
    commit = make_mirror(tmp_path / "mirror", "someone/facades", data)
    sha = hashlib.sha256(data).hexdigest()
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps({"clips": [clip_raw(commit=commit, sha256=sha),
                                              clip_raw(id="c2", commit=commit, sha256=sha, kind="negative")]}))
    paths = fetch_clips(tmp_path / "cache", tmp_path / "mirror", manifest)
    assert len(paths) == 1
    assert paths[0].read_bytes() == data


def test_missing_cache_and_unknown_commit_give_clear_errors(tmp_path: Path) -> None:
    commit = make_mirror(tmp_path / "mirror", "someone/facades", b"x")
    clip = parse_clip(clip_raw(commit=commit), "t")
    with pytest.raises(FetchError, match="fetch the clips first"):
        cached_clip(clip, tmp_path / "empty")
    absent = parse_clip(clip_raw(commit="e" * 40), "t")
    with pytest.raises(FetchError, match="git show"):
        fetch_clip(absent, tmp_path / "cache", tmp_path / "mirror")


def falls_side_by_side() -> list[Any]:
    def drop(x: float) -> list[list[float]]:
        return [[f, x, 100.0 + 3 * (f - 10) ** 2] for f in range(10, 31)]

    return [parse_fall(fall_raw("L", 10, 30, track=drop(500.0)), "l"),
            parse_fall(fall_raw("R", 10, 30, track=drop(560.0)), "r")]


def ev(first: int, last: int, x: float, offset: float = 0.0) -> DetectedEvent:
    return DetectedEvent(first, last, [(f, x + offset, 100.0 + 3 * (f - 10) ** 2) for f in range(first, last + 1)],
                         origin=(x, 100.0))


def test_matcher_pairs_side_by_side_falls_without_swapping() -> None:
    falls = falls_side_by_side()
    result = match_events([ev(12, 28, 560, 4), ev(11, 29, 500, -3)], falls, 1280)
    assert {(m.event, m.fall) for m in result.matches} == {(0, "R"), (1, "L")}
    assert result.missed == []
    assert result.false_alarms == []
    assert all(m.coverage > 0.7 for m in result.matches)


def test_matcher_needs_time_overlap_and_a_near_track() -> None:
    falls = falls_side_by_side()
    late = ev(40, 50, 500)  # right place, after the fall
    far = DetectedEvent(12, 28, [(f, 900.0, 100.0 + 3 * (f - 10) ** 2) for f in range(12, 29)])
    result = match_events([late, far], falls, 1280)
    assert result.matches == []
    assert sorted(result.missed) == ["L", "R"]
    assert result.false_alarms == [0, 1]


def test_events_on_doubtful_objects_are_neither_hits_nor_false_alarms() -> None:
    doubtful = parse_fall(fall_raw("D", 10, 30, kind="doubtful",
                                   track=[[f, 700.0, 300.0 + 8 * (f - 10)] for f in range(10, 31)]), "d")
    on_it = DetectedEvent(12, 25, [(f, 701.0, 300.0 + 8 * (f - 10)) for f in range(12, 26)])
    result = match_events([on_it], [doubtful], 1280)
    assert result.matches == []
    assert result.missed == []
    assert result.false_alarms == []
    assert result.on_doubtful == [0]


def test_tracks_on_fall_reports_rejected_tracks_once() -> None:
    fall = falls_side_by_side()[0]
    pts = [(f, 501.0, 100.0 + 3 * (f - 10) ** 2) for f in range(5, 20)]
    elsewhere = [(40, 1.0, 1.0), (41, 1.0, 2.0), (42, 1.0, 3.0)]
    judged = [("not_physical", pts), ("not_physical", pts), ("falling", elsewhere)]
    assert tracks_on_fall(judged, fall, 1280) == [
        {"verdict": "not_physical", "frames": [5, 19], "points": 15, "on_fall": [10, 19]}]


def test_totals_count_false_alarms_per_hour_on_negatives_only() -> None:
    rows = [{"kind": "fall", "falls": 2, "found": 1, "false_alarms": 1, "seconds": 5.0},
            {"kind": "negative", "falls": 0, "found": 0, "false_alarms": 1, "seconds": 36.0}]
    out = totals(rows)
    assert out["recall"] == 0.5
    assert out["false_alarms_per_hour_negative"] == 100.0
    assert out["false_alarms_in_fall_clips"] == 1
    assert out["negative_seconds"] == 36.0


def test_annotation_loader_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"clip": "x", "frames": [0, 50], "falls": [fall_raw()], "notes": "n"}))
    ann = load_annotation(path)
    assert ann.clip == "x"
    assert ann.falls[0].release.frame == 10
    assert ann.notes == "n"
    path.write_text(json.dumps({"clip": "x", "frames": [0, 15], "falls": [fall_raw()]}))
    with pytest.raises(ManifestError, match="outside the clip"):
        load_annotation(path)


def test_eval_littering_real_refuses_a_missing_cache_with_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "littering", "--real", str(tmp_path / "empty"), "--split", "report"])
    assert result.exit_code == 2
    assert "error:" in result.output


def test_eval_littering_real_rejects_an_unknown_split(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "littering", "--real", str(tmp_path), "--split", "everything"])
    assert result.exit_code == 2
    assert "tune or report" in result.output
