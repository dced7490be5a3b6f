"""A stopped worker's inbox leaves no feeder thread behind, and a feeder stuck on a dead reader never holds exit."""

from __future__ import annotations

import multiprocessing as mp
import threading
import time

from vision.workers import close_inbox


def _drain(inbox: mp.Queue[bytes | None]) -> None:
    while inbox.get() is not None:
        pass


def _feeders() -> int:
    return sum(t.name == "QueueFeederThread" and t.is_alive() for t in threading.enumerate())


def test_a_worker_that_exited_leaves_no_feeder_thread() -> None:
    ctx = mp.get_context("spawn")
    before = _feeders()
    inbox: mp.Queue[bytes | None] = ctx.Queue(maxsize=10)
    proc = ctx.Process(target=_drain, args=(inbox,), daemon=True)
    proc.start()
    for _ in range(5):
        inbox.put(b"x" * 200_000)
    inbox.put(None)
    proc.join(30)  # as stop() does before it closes the inboxes
    close_inbox(inbox, proc)
    assert proc.exitcode == 0
    assert _feeders() == before


def test_a_terminated_worker_with_frames_in_the_pipe_does_not_block() -> None:
    ctx = mp.get_context("spawn")
    inbox: mp.Queue[bytes | None] = ctx.Queue(maxsize=10)
    proc = ctx.Process(target=time.sleep, args=(60,), daemon=True)
    proc.start()
    inbox.put(b"x" * 1_000_000)  # far beyond a pipe's buffer: the feeder blocks writing it
    inbox.put(None)
    proc.terminate()
    t0 = time.monotonic()
    close_inbox(inbox, proc)
    assert time.monotonic() - t0 < 5.5
    assert proc.exitcode is not None
    assert proc.exitcode != 0
