"""Clocks: wall time in the service, event time in replay and simulation, a settable one in tests."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class WallClock:
    """The real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that moves only when told: event time in replay, fake time in tests."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, when: datetime) -> None:
        """Move to ``when``; never backwards, so rules see time as monotonic."""
        if when > self._now:
            self._now = when

    def advance(self, delta: timedelta | float) -> datetime:
        step = delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        self._now += step
        return self._now


def utc_from_epoch_ms(ms: float) -> datetime:
    return datetime.fromtimestamp(ms / 1000.0, UTC)


def monotonic() -> float:
    return time.monotonic()
