"""Clocks: wall time in the service, event time in replay and simulation, a settable one in tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime:
        """The current instant; every timestamp our code stamps comes from here, so tests can steer it."""
        ...


class WallClock:
    """The real time."""

    def now(self) -> datetime:
        """The system's current UTC time, for the live service."""
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: event time in replay, fake time in tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        """The instant last set or advanced to; stands still between calls."""
        return self._now

    def set(self, when: datetime) -> None:
        """Move to ``when``; never backwards, so rules see time as monotonic."""
        if when > self._now:
            self._now = when

    def advance(self, delta: timedelta | float) -> datetime:
        """Step forward by ``delta`` (a timedelta or seconds) and return the new instant, for timer tests."""
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        self._now += step
        return self._now


def utc_from_epoch_ms(ms: float) -> datetime:
    """Turn the epoch milliseconds devices send into an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000.0, UTC)


def monotonic() -> float:
    """Seconds on a clock that never jumps, for measuring intervals and timeouts."""
    return time.monotonic()
