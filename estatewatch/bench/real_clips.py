"""Real footage for development: the manifest of public clips, their fall annotations, and fetching them.

The clips belong to other people and carry no licence that lets us redistribute them, so the repository holds only
our manifest, annotations and camera calibrations (``data/real_clips``); the video files are materialised into a
local cache, checked against the sha256 recorded in the manifest, from a git mirror when one is present or else by
cloning the source repository at the pinned commit.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from vision.camera_config import CameraConfig

REPO_ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = REPO_ROOT / "data" / "real_clips"
DEFAULT_MANIFEST = DATA_DIR / "manifest.json"
DEFAULT_CACHE = REPO_ROOT / "var" / "cache" / "real_clips"
MIRROR_ENV = "ESTATEWATCH_MIRROR_ROOT"
DEFAULT_MIRROR_ROOT = Path("/work/.mirror")
SPLITS = ("tune", "report")


class ManifestError(ValueError):
    """The manifest or an annotation file is malformed; the message names the file and the field."""


class FetchError(RuntimeError):
    """A clip could not be materialised; the message says where it was looked for and why it failed."""


@dataclass(frozen=True)
class Release:
    """Where and when the object left the hand (full-resolution px); ``uncertain`` when it was estimated."""

    frame: int
    x: float
    y: float
    uncertain: bool
    note: str = ""


@dataclass(frozen=True)
class Fall:
    """One annotated object. ``kind == "doubtful"`` marks motion that may or may not be a fall: it is neither
    required to be found nor counted as a false alarm when an event matches it.
    """

    id: str
    kind: Literal["fall", "doubtful"]
    first_frame: int
    last_frame: int
    release: Release
    track: list[tuple[int, float, float]]
    uncertain: bool = False
    notes: str = ""


@dataclass(frozen=True)
class Annotation:
    """The annotation file of one clip entry: every object that falls inside its frame range."""

    clip: str
    frames: tuple[int, int]  # first and last source frame the clip entry covers (inclusive)
    falls: list[Fall] = field(default_factory=list)
    notes: str = ""


@dataclass(frozen=True)
class Clip:
    """One manifest entry: a frame range of one file at one commit of one public repository."""

    id: str
    repo: str
    commit: str
    path: str
    sha256: str
    licence: str | None
    kind: Literal["fall", "negative"]
    split: Literal["tune", "report"]
    resolution: tuple[int, int]
    fps: float
    frames: tuple[int, int]
    camera: str
    annotation: str
    notes: str = ""
    source_frames: int | None = None  # frames the whole file decodes to (checked against the footage)

    @property
    def cache_name(self) -> str:
        """File name in the cache: one file per source file (two entries may share it), keyed by its hash."""
        suffix = Path(self.path).suffix or ".bin"
        return f"{self.sha256[:16]}{suffix}"


def _require(raw: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:  # noqa: ANN401 (JSON)
    if key not in raw:
        raise ManifestError(f"{where}: missing {key!r}")
    value = raw[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ManifestError(f"{where}: {key!r} has the wrong type ({type(value).__name__})")
    return value


def _frame_pair(value: object, where: str) -> tuple[int, int]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) for v in value)):
        raise ManifestError(f"{where}: 'frames' must be [first, last]")
    first, last = int(value[0]), int(value[1])
    if first < 0 or last < first:
        raise ManifestError(f"{where}: 'frames' must satisfy 0 <= first <= last")
    return first, last


def parse_clip(raw: dict[str, Any], where: str) -> Clip:
    """One manifest entry, validated field by field."""
    kind = _require(raw, "kind", str, where)
    split = _require(raw, "split", str, where)
    if kind not in ("fall", "negative"):
        raise ManifestError(f"{where}: 'kind' must be fall or negative")
    if split not in SPLITS:
        raise ManifestError(f"{where}: 'split' must be tune or report")
    sha = _require(raw, "sha256", str, where)
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ManifestError(f"{where}: 'sha256' must be 64 lowercase hex digits")
    commit = _require(raw, "commit", str, where)
    if len(commit) != 40:
        raise ManifestError(f"{where}: 'commit' must be a full 40-digit commit id")
    res = _require(raw, "resolution", list, where)
    if len(res) != 2 or not all(isinstance(v, int) and v > 0 for v in res):
        raise ManifestError(f"{where}: 'resolution' must be [width, height]")
    licence = raw.get("licence")
    if licence is not None and not isinstance(licence, str):
        raise ManifestError(f"{where}: 'licence' must be a string or null")
    fps = _require(raw, "fps", (int, float), where)
    if fps <= 0:
        raise ManifestError(f"{where}: 'fps' must be positive")
    frames = _frame_pair(raw.get("frames"), where)
    source_frames = raw.get("source_frames")
    if source_frames is not None and (not isinstance(source_frames, int) or isinstance(source_frames, bool)
                                      or source_frames <= frames[1]):
        raise ManifestError(f"{where}: 'source_frames' must be an integer above the last frame of 'frames'")
    return Clip(id=_require(raw, "id", str, where), repo=_require(raw, "repo", str, where), commit=commit,
                path=_require(raw, "path", str, where), sha256=sha, licence=licence, kind=kind, split=split,
                resolution=(res[0], res[1]), fps=float(fps), frames=frames,
                camera=_require(raw, "camera", str, where), annotation=_require(raw, "annotation", str, where),
                notes=str(raw.get("notes", "")), source_frames=source_frames)


def load_manifest(path: Path = DEFAULT_MANIFEST) -> list[Clip]:
    """All clips of a manifest file; ids must be unique."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("clips"), list):
        raise ManifestError(f"{path}: expected an object with a 'clips' list")
    clips = [parse_clip(item, f"{path}: clip {i}") if isinstance(item, dict)
             else _bad(f"{path}: clip {i} is not an object") for i, item in enumerate(raw["clips"])]
    ids = [c.id for c in clips]
    if len(set(ids)) != len(ids):
        raise ManifestError(f"{path}: clip ids are not unique")
    return clips


def _bad(message: str) -> Clip:
    raise ManifestError(message)


def parse_track(value: object, where: str) -> list[tuple[int, float, float]]:
    """``[[frame, x, y], ...]`` with strictly increasing frames."""
    if not isinstance(value, list) or len(value) < 2:
        raise ManifestError(f"{where}: 'track' needs at least two [frame, x, y] points")
    points: list[tuple[int, float, float]] = []
    for p in value:
        if not (isinstance(p, list) and len(p) == 3 and isinstance(p[0], int)
                and all(isinstance(v, (int, float)) for v in p[1:])):
            raise ManifestError(f"{where}: track points must be [frame, x, y]")
        points.append((int(p[0]), float(p[1]), float(p[2])))
    if any(b[0] <= a[0] for a, b in itertools.pairwise(points)):
        raise ManifestError(f"{where}: track frames must be strictly increasing")
    return points


def parse_fall(raw: dict[str, Any], where: str) -> Fall:
    """One annotated object; its track must lie inside [first_frame, last_frame]."""
    kind = raw.get("kind", "fall")
    if kind not in ("fall", "doubtful"):
        raise ManifestError(f"{where}: 'kind' must be fall or doubtful")
    first = _require(raw, "first_frame", int, where)
    last = _require(raw, "last_frame", int, where)
    if last < first:
        raise ManifestError(f"{where}: last_frame is before first_frame")
    track = parse_track(raw.get("track"), where)
    if track[0][0] < first or track[-1][0] > last:
        raise ManifestError(f"{where}: track points lie outside first_frame..last_frame")
    rel = _require(raw, "release", dict, where)
    release = Release(frame=_require(rel, "frame", int, where + " release"),
                      x=float(_require(rel, "x", (int, float), where + " release")),
                      y=float(_require(rel, "y", (int, float), where + " release")),
                      uncertain=bool(rel.get("uncertain", False)), note=str(rel.get("note", "")))
    return Fall(id=_require(raw, "id", str, where), kind=kind, first_frame=first, last_frame=last,
                release=release, track=track, uncertain=bool(raw.get("uncertain", False)),
                notes=str(raw.get("notes", "")))


def load_annotation(path: Path) -> Annotation:
    """One ``annotations/<id>.json`` file."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read annotation: {exc}") from exc
    if not isinstance(raw, dict):
        raise ManifestError(f"{path}: expected an object")
    falls_raw = _require(raw, "falls", list, str(path))
    frames = _frame_pair(raw.get("frames"), str(path))
    falls = [parse_fall(f, f"{path}: fall {i}") for i, f in enumerate(falls_raw) if isinstance(f, dict)]
    if len(falls) != len(falls_raw):
        raise ManifestError(f"{path}: every fall must be an object")
    for fall in falls:
        if fall.first_frame < frames[0] or fall.last_frame > frames[1]:
            raise ManifestError(f"{path}: fall {fall.id} lies outside the clip's frames {frames}")
    return Annotation(clip=_require(raw, "clip", str, str(path)), frames=frames, falls=falls,
                      notes=str(raw.get("notes", "")))


def load_clip_annotation(clip: Clip, manifest: Path) -> Annotation:
    """The annotation of a clip, checked to belong to it and to agree with its kind."""
    ann = load_annotation(manifest.parent / clip.annotation)
    if ann.clip != clip.id or ann.frames != clip.frames:
        raise ManifestError(f"{clip.annotation}: clip id or frames disagree with manifest entry {clip.id}")
    real_falls = [f for f in ann.falls if f.kind == "fall"]
    if clip.kind == "negative" and real_falls:
        raise ManifestError(f"{clip.annotation}: a negative clip has annotated falls")
    if clip.kind == "fall" and not real_falls:
        raise ManifestError(f"{clip.annotation}: a fall clip has no annotated fall")
    return ann


def load_clip_camera(clip: Clip, manifest: Path) -> CameraConfig:
    """The CAMERA.json-style calibration of a clip."""
    path = manifest.parent / clip.camera
    try:
        return CameraConfig.model_validate_json(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{path}: bad camera file: {exc}") from exc


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def mirror_git_dir(mirror_root: Path, repo: str) -> Path | None:
    """The git directory of a local mirror of ``owner/name``: ``<root>/owner+name/repo`` (bare) or its ``.git``."""
    base = mirror_root / repo.replace("/", "+") / "repo"
    for candidate in (base / ".git", base):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def _git_show(git_dir: Path, commit: str, path: str, dest: Path) -> None:
    with dest.open("wb") as out:
        proc = subprocess.run(["git", f"--git-dir={git_dir}", "show", f"{commit}:{path}"],  # noqa: S603,S607 (our manifest's fixed argv)
                              stdout=out, stderr=subprocess.PIPE, check=False)
    if proc.returncode != 0:
        dest.unlink(missing_ok=True)
        raise FetchError(f"git show {commit[:12]}:{path} in {git_dir} failed: "
                         f"{proc.stderr.decode(errors='replace').strip()}")


def _clone_and_copy(clip: Clip, dest: Path) -> None:
    """Clone the source repository and check out the pinned commit (the path used outside a mirror)."""
    url = f"https://github.com/{clip.repo}"
    with tempfile.TemporaryDirectory(prefix="real-clip-") as tmp:
        steps = [["git", "clone", "--no-checkout", "--filter=blob:none", url, tmp],
                 ["git", "-C", tmp, "checkout", clip.commit, "--", clip.path]]
        for cmd in steps:
            proc = subprocess.run(cmd, capture_output=True, check=False)  # noqa: S603 (our manifest's fixed argv)
            if proc.returncode != 0:
                raise FetchError(f"{clip.id}: no local mirror of {clip.repo} and `{' '.join(cmd)}` failed "
                                 f"(network access to github.com is needed for this path): "
                                 f"{proc.stderr.decode(errors='replace').strip()}")
        shutil.copyfile(Path(tmp) / clip.path, dest)


def fetch_clip(clip: Clip, cache_dir: Path, mirror_root: Path | None) -> Path:
    """Materialise one clip's file in the cache and verify it; a file already there with the right hash is kept."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    dest = cache_dir / clip.cache_name
    if dest.is_file() and sha256_file(dest) == clip.sha256:
        return dest
    part = dest.with_suffix(dest.suffix + ".part")
    git_dir = mirror_git_dir(mirror_root, clip.repo) if mirror_root is not None else None
    if git_dir is not None:
        _git_show(git_dir, clip.commit, clip.path, part)
    else:
        _clone_and_copy(clip, part)
    got = sha256_file(part)
    if got != clip.sha256:
        part.unlink(missing_ok=True)
        raise FetchError(f"{clip.id}: {clip.repo}@{clip.commit[:12]}:{clip.path} has sha256 {got}, the manifest "
                         f"records {clip.sha256}; refusing to use it")
    part.replace(dest)
    return dest


def default_mirror_root() -> Path | None:
    """``$ESTATEWATCH_MIRROR_ROOT`` if set (empty disables mirrors), else /work/.mirror when it exists."""
    env = os.environ.get(MIRROR_ENV)
    if env is not None:
        return Path(env) if env else None
    return DEFAULT_MIRROR_ROOT if DEFAULT_MIRROR_ROOT.is_dir() else None


def fetch_clips(cache_dir: Path = DEFAULT_CACHE, mirror_root: Path | None = None,
                manifest: Path = DEFAULT_MANIFEST) -> list[Path]:
    """Materialise every distinct file of the manifest in ``cache_dir``; returns their paths in manifest order."""
    out: list[Path] = []
    for clip in load_manifest(manifest):
        path = fetch_clip(clip, cache_dir, mirror_root)
        if path not in out:
            out.append(path)
    return out


def cached_clip(clip: Clip, cache_dir: Path) -> Path:
    """The cached file of a clip, verified; a clear error says how to fetch it when it is missing or wrong."""
    path = cache_dir / clip.cache_name
    if not path.is_file():
        raise FetchError(f"{clip.id}: {path} is missing; fetch the clips first "
                         f"(estatewatch.bench.real_clips.fetch_clips, see docs/real-footage.md)")
    if sha256_file(path) != clip.sha256:
        raise FetchError(f"{clip.id}: {path} does not match the manifest's sha256; delete it and fetch again")
    return path


def main(argv: list[str] | None = None) -> int:
    """``python -m estatewatch.bench.real_clips [CACHE_DIR]``: fetch every clip of the manifest into the cache."""
    args = sys.argv[1:] if argv is None else argv
    cache = Path(args[0]) if args else DEFAULT_CACHE
    try:
        paths = fetch_clips(cache, default_mirror_root())
    except (ManifestError, FetchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
