"""``estatewatch bench vision``: the pipeline against decode-only and a naive MOG2 baseline, on the same JPEGs.

Everything runs with OpenCV limited to one thread per process, so frames/s compare per core and the 2-worker
figure shows how the pipeline scales over processes. Beside the simulated frames, the same contenders run on real
footage re-encoded as JPEG (``real_jpeg``): the clips of ``estatewatch eval littering --fetch``, from
``$EW_BENCH_REAL_DIR`` or the real-clip cache, when they are there.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from estatewatch.bench.real_clips import DEFAULT_CACHE
from simulators.camera.render import Renderer
from simulators.camera.scene import DISTRACTOR_KINDS, make_scene
from vision.camera_config import CameraConfig
from vision.decode import decode_gray, jpeg_size, scale_for_width
from vision.detector import Detector
from vision.motion import MotionModel

RESOLUTIONS = {"1080p": (1920, 1080), "720p": (1280, 720)}
REAL_DIR_ENV = "EW_BENCH_REAL_DIR"
REAL_JPEG_QUALITY = 90  # what a camera's MJPEG/JPEG snapshot stream typically sends
VIDEO_SUFFIXES = (".mp4", ".m4v", ".avi", ".mkv", ".mov")


def make_frames(cameras: int, frames: int, resolution: str, seed: int = 7) -> list[list[bytes]]:
    """Simulated JPEGs per camera (throws and every distractor), rendered once and shared by all contenders."""
    width, height = RESOLUTIONS[resolution]
    out = []
    for c in range(cameras):
        scene = make_scene(seed + c, width, height, 20.0, frames / 20.0, throws=2, distractors=DISTRACTOR_KINDS)
        out.append([jpeg for _, jpeg in Renderer(scene).jpegs()])
    return out


def real_frames(folder: Path, frames: int) -> list[list[bytes]]:
    """The first ``frames`` frames of every video in ``folder``, re-encoded as JPEG: one camera per clip."""
    out = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES):
        cap = cv2.VideoCapture(str(path))
        jpegs: list[bytes] = []
        try:
            while len(jpegs) < frames:
                ok, img = cap.read()
                if not ok:
                    break
                done, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, REAL_JPEG_QUALITY])
                if not done:
                    raise RuntimeError(f"JPEG encoding failed on {path.name}")
                jpegs.append(buf.tobytes())
        finally:
            cap.release()
        if jpegs:
            out.append(jpegs)
    return out


def real_folder() -> Path:
    """Where the real clips are looked for: ``$EW_BENCH_REAL_DIR``, else the real-clip cache."""
    env = os.environ.get(REAL_DIR_ENV)
    return Path(env) if env else DEFAULT_CACHE


def run_real(folder: Path, frames: int, rounds: int) -> dict[str, Any] | None:
    """Decode-only, the pipeline (one worker) and the naive baseline on real clips re-encoded as JPEG, taking
    turns like ``run``; None when the folder holds no readable video.
    """
    cams = real_frames(folder, frames) if folder.is_dir() else []
    if not cams:
        return None
    decode = pipe1 = base = 0.0
    for _ in range(rounds):
        decode = max(decode, decode_only(cams))
        pipe1 = max(pipe1, pipeline(cams))
        base = max(base, naive(cams))
    sizes = sorted({f"{w}x{h}" for w, h in (jpeg_size(c[0]) for c in cams)})
    return {"clips": len(cams), "frames": sum(len(c) for c in cams), "sizes": sizes, "jpeg_quality": REAL_JPEG_QUALITY,
            "decode_fps": round(decode, 2), "pipeline_fps_1w": round(pipe1, 2), "naive_fps": round(base, 2),
            "ratio_vs_naive": round(pipe1 / base, 2), "ratio_vs_decode": round(pipe1 / decode, 2)}


def decode_only(cams: list[list[bytes]]) -> float:
    """Frames/s of full-resolution grayscale decoding alone: the floor any pipeline pays."""
    n = 0
    start = time.perf_counter()
    for frames in cams:
        for jpeg in frames:
            cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
            n += 1
    return n / (time.perf_counter() - start)


def pipeline(cams: list[list[bytes]]) -> float:
    """Frames/s of the EstateWatch pipeline in this process: decode, motion, blobs, tracking, classification."""
    detectors = [Detector(CameraConfig(id=f"bench{i}", fps=20)) for i in range(len(cams))]
    n = 0
    start = time.perf_counter()
    # cameras interleaved frame by frame, as a worker sees them live
    for i in range(max(len(f) for f in cams)):
        for det, frames in zip(detectors, cams, strict=True):
            if i < len(frames):
                jpeg = frames[i]
                scale = scale_for_width(jpeg_size(jpeg)[0])  # the header check the live path does too
                det.feed(decode_gray(jpeg, scale), i, i / 20.0, scale)
                n += 1
    for det in detectors:
        det.finish()
    return n / (time.perf_counter() - start)


def naive(cams: list[list[bytes]]) -> float:
    """Frames/s of the usual approach: colour decode, MOG2 and connected components on every full frame."""
    subtractors = [cv2.createBackgroundSubtractorMOG2() for _ in cams]
    n = 0
    start = time.perf_counter()
    for i in range(max(len(f) for f in cams)):
        for mog, frames in zip(subtractors, cams, strict=True):
            if i < len(frames):
                img = cv2.imdecode(np.frombuffer(frames[i], np.uint8), cv2.IMREAD_COLOR)
                if img is None:
                    raise RuntimeError("a benchmark frame did not decode")
                fg = mog.apply(img)
                cv2.connectedComponentsWithStats(fg, connectivity=8)
                n += 1
    return n / (time.perf_counter() - start)


def _worker(cams: list[list[bytes]], barrier: BarrierType, results: mp.Queue[tuple[int, float]]) -> None:
    cv2.setNumThreads(1)
    barrier.wait()
    start = time.perf_counter()
    n = sum(len(f) for f in cams)
    pipeline(cams)
    results.put((n, time.perf_counter() - start))


def pipeline_processes(cams: list[list[bytes]], workers: int) -> float:
    """Frames/s with cameras split over ``workers`` processes (timed from a common start, excluding spawn)."""
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(workers + 1)
    results = ctx.Queue()
    parts = [cams[i::workers] for i in range(workers)]
    procs = [ctx.Process(target=_worker, args=(p, barrier, results)) for p in parts if p]
    for p in procs:
        p.start()
    barrier.wait()
    start = time.perf_counter()
    got = [results.get() for _ in procs]
    wall = time.perf_counter() - start
    for p in procs:
        p.join()
    return float(sum(n for n, _ in got) / wall)


def batch_vs_loop(cams: list[list[bytes]]) -> dict[str, float]:
    """Ms per frame of the difference + threshold step done as one numpy operation over an (N, H, W) stack versus
    a loop of OpenCV calls, the measurement behind keeping the per-frame loop.
    """
    grays = [decode_gray(f[1], scale_for_width(jpeg_size(f[1])[0])) for f in cams]
    bgs = [decode_gray(f[0], scale_for_width(jpeg_size(f[0])[0])) for f in cams]
    stack, bg_stack = np.stack(grays), np.stack(bgs)
    reps = 20
    start = time.perf_counter()
    for _ in range(reps):
        diff = np.abs(stack.astype(np.int16) - bg_stack.astype(np.int16))
        _ = (diff > 18).astype(np.uint8) * 255
    numpy_ms = (time.perf_counter() - start) * 1000 / (reps * len(grays))
    start = time.perf_counter()
    for _ in range(reps):
        for g, b in zip(grays, bgs, strict=True):
            cv2.threshold(cv2.absdiff(g, b), 18, 255, cv2.THRESH_BINARY)
    loop_ms = (time.perf_counter() - start) * 1000 / (reps * len(grays))
    return {"numpy_stack_ms_per_frame": round(numpy_ms, 3), "opencv_loop_ms_per_frame": round(loop_ms, 3)}


def motion_only_ms(cams: list[list[bytes]]) -> float:
    """Ms per frame of the motion model alone (after decode), for the docs' cost breakdown."""
    grays = [decode_gray(j, scale_for_width(jpeg_size(j)[0])) for j in cams[0]]
    model = MotionModel()
    start = time.perf_counter()
    for g in grays:
        model.apply(g)
    return float((time.perf_counter() - start) * 1000 / len(grays))


def run(cameras: int, resolution: str, frames: int, rounds: int = 3, real: Path | None = None) -> dict[str, Any]:
    """All contenders on the same frames, taking turns for ``rounds`` rounds; each keeps its best round. On a
    shared machine a neighbour's burst then slows no figure, and the ratios compare contenders at their steadiest
    (as ``timeit`` takes the fastest repeat). ``real_jpeg`` is the same on up to ``frames`` frames of each real
    clip in ``real`` (default: ``real_folder()``), or None without clips.
    """
    cv2.setNumThreads(1)
    cams = make_frames(cameras, frames, resolution)
    decode = pipe1 = pipe2 = base = 0.0
    for _ in range(rounds):
        decode = max(decode, decode_only(cams))
        pipe1 = max(pipe1, pipeline(cams))
        pipe2 = max(pipe2, pipeline_processes(cams, 2))
        base = max(base, naive(cams))
    return {
        "resolution": resolution,
        "cameras": cameras,
        "frames_per_camera": frames,
        "rounds": rounds,
        "decode_fps": round(decode, 2),  # two decimals: on a loaded machine a tiny run gives a few fps
        "pipeline_fps_1w": round(pipe1, 2),
        "pipeline_fps_2w": round(pipe2, 2),
        "naive_fps": round(base, 2),
        "ratio_vs_naive": round(pipe1 / base, 2),
        "ratio_vs_decode": round(pipe1 / decode, 2),
        "scaling_2w": round(pipe2 / pipe1, 2),
        "motion_ms_per_frame": round(motion_only_ms(cams), 3),
        **batch_vs_loop(cams),
        "real_jpeg": run_real(real_folder() if real is None else real, frames, rounds),
    }
