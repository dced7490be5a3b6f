"""Retry with exponential backoff: the one loop every role uses when the database or the broker is away.

Each role acknowledges messages only after its work commits, so the right answer to an outage is to keep the work
and try again until the service is back, never to drop it after N attempts.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class StoppedError(RuntimeError):
    """Raised by :func:`retry_until` when its stop event is set before the work succeeded."""


@dataclass(frozen=True)
class Backoff:
    """Delays that double from ``initial_s`` up to ``max_s``."""

    initial_s: float = 0.2
    factor: float = 2.0
    max_s: float = 10.0

    def delays(self) -> Iterator[float]:
        """Yield the delay before each retry, forever."""
        delay = self.initial_s
        while True:
            yield delay
            delay = min(delay * self.factor, self.max_s)


def retry_until(
    work: Callable[[], T],
    *,
    what: str,
    stop: threading.Event | None = None,
    backoff: Backoff | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> T:
    """Run ``work`` until it returns, sleeping with backoff after each failure.

    Args:
        work: the operation; any exception it raises counts as a transient failure.
        what: names the work in the log line of each failure.
        stop: when set, the wait ends early and :class:`StoppedError` is raised.
        backoff: the delays; the default starts at 0.2 s and caps at 10 s.
        on_error: called with each failure (for metrics, or to drop a broken connection).

    Returns:
        What ``work`` returned on its first success.
    """
    for delay in (backoff or Backoff()).delays():
        if stop is not None and stop.is_set():
            raise StoppedError(what)
        try:
            return work()
        except Exception as exc:  # every failure is retried; the caller's work is idempotent
            if on_error is not None:
                on_error(exc)
            log.warning("%s failed (%s); retrying in %.1f s", what, exc, delay)
            if stop is not None:
                if stop.wait(delay):
                    raise StoppedError(what) from exc
            else:
                threading.Event().wait(delay)
    raise AssertionError("unreachable: Backoff.delays() never ends")
