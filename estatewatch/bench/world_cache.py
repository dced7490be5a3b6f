"""Footage of world scenes rendered once and kept, so an evaluation can be repeated on the same frames.

Rendering and encoding a world scene costs about ten times what the detector does with it, so a large evaluation
is mostly simulator time. The cache keeps what the detector would receive: the scene's video file (MJPEG, MPEG-4,
H.264) or, for the live path, its JPEG frames as one length-prefixed stream. Entries are keyed by scene kind, seed,
duration and a fingerprint of the simulator's source, so a changed simulator never serves old footage. Frames read
back are byte-identical to a fresh render (the renderer is deterministic per seed); nothing here knows the detector.

``python -m estatewatch.bench.world_cache --seeds 200000-200159 --seconds 10`` renders ahead of an evaluation;
``EW_WORLD_CACHE=DIR`` (or ``littering_eval --cache DIR``) makes the world evaluation read and fill it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import struct
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from functools import cache
from pathlib import Path

import simulators.camera as camera_package
from estatewatch.bench.seeds import parse_seeds
from simulators.camera.publish import CODEC_SUFFIX, write_scene_file
from simulators.camera.render import Renderer
from simulators.camera.scene import WORLD_DISTRACTORS, Scene
from simulators.camera.world import world_scene

ENV = "EW_WORLD_CACHE"
_LENGTH = struct.Struct(">I")


@cache
def fingerprint() -> str:
    """A short hash of the camera simulator's source: footage rendered by other code is another entry."""
    digest = hashlib.sha256()
    root = Path(camera_package.__file__).parent
    for path in sorted(root.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def cache_root() -> Path | None:
    """The cache folder named by ``EW_WORLD_CACHE``, or None (render every time)."""
    value = os.environ.get(ENV)
    return Path(value) if value else None


def make_scene(seed: int, kind: str, duration: float) -> Scene:
    """The world scene of an evaluation job: with throws, or fall-free with the one distractor kind its seed picks."""
    if kind == "distractors":
        scene = world_scene(seed, duration, throws=False)
        only = WORLD_DISTRACTORS[seed % len(WORLD_DISTRACTORS)]
        scene.distractors = {k: v for k, v in scene.distractors.items() if k == only}
        return scene
    return world_scene(seed, duration)


def entry(root: Path, scene: Scene, kind: str, duration: float) -> Path:
    """Where one scene's footage lives in the cache."""
    suffix = ".jpgs" if scene.codec == "jpeg" else CODEC_SUFFIX[scene.codec]
    return root / fingerprint() / f"{kind}-{scene.seed}-{duration:g}{suffix}"


def jpeg_stream(scene: Scene, root: Path | None, kind: str, duration: float) -> Iterator[bytes]:
    """The scene's JPEG frames in order: from the cache when there, else rendered (and stored when caching)."""
    if root is None:
        for _, data in Renderer(scene).jpegs():
            yield data
        return
    path = entry(root, scene, kind, duration)
    if not path.is_file():
        _store_jpegs(scene, path)
    yield from read_jpegs(path)


def video_file(scene: Scene, folder: Path, root: Path | None, kind: str, duration: float) -> Path:
    """The scene's video file: the cached one, or a fresh render into ``folder`` (copied into the cache)."""
    if root is None:
        return write_scene_file(scene, folder)
    path = entry(root, scene, kind, duration)
    if not path.is_file():
        fresh = write_scene_file(scene, folder)
        _publish(path, fresh.read_bytes())
    return path


def read_jpegs(path: Path) -> Iterator[bytes]:
    """The frames of a ``.jpgs`` stream (4-byte big-endian length, then the JPEG), in order."""
    with path.open("rb") as fh:
        while head := fh.read(_LENGTH.size):
            (size,) = _LENGTH.unpack(head)
            data = fh.read(size)
            if len(data) != size:
                raise ValueError(f"{path}: truncated frame")
            yield data


def _store_jpegs(scene: Scene, path: Path) -> None:
    chunks = []
    for _, data in Renderer(scene).jpegs():
        chunks.append(_LENGTH.pack(len(data)))
        chunks.append(data)
    _publish(path, b"".join(chunks))


def _publish(path: Path, data: bytes) -> None:
    """Write whole or not at all: a render cut short never leaves an entry another run would trust."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, suffix=".part") as tmp:
        tmp.write(data)
    Path(tmp.name).replace(path)


def render(job: tuple[int, str, float, str]) -> str:
    """Render one job into the cache (a process-pool task); returns the entry's name."""
    seed, kind, duration, root_text = job
    root = Path(root_text)
    scene = make_scene(seed, kind, duration)
    path = entry(root, scene, kind, duration)
    if not path.is_file():
        if scene.codec == "jpeg":
            _store_jpegs(scene, path)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                video_file(scene, Path(tmp), root, kind, duration)
    return path.name


def main() -> None:
    """Render scenes ahead of an evaluation (resumable: entries already there are kept)."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seeds", default="")
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--distractor-seeds", default="")
    ap.add_argument("--distractor-seconds", type=float, default=60.0)
    ap.add_argument("--cache", default=os.environ.get(ENV, "var/cache/world"))
    ap.add_argument("--workers", type=int, default=1)
    a = ap.parse_args()
    jobs = [(s, "throws", a.seconds, a.cache) for s in parse_seeds(a.seeds)]
    jobs += [(s, "distractors", a.distractor_seconds, a.cache) for s in parse_seeds(a.distractor_seeds)]
    with ProcessPoolExecutor(max_workers=a.workers) as pool:
        for name in pool.map(render, jobs):
            sys.stdout.write(name + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
