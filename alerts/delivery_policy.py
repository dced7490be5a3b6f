"""When an outbox row that failed is tried again: exponential backoff with jitter, Retry-After, and when to give up.

This is the schedule of one persisted delivery (its attempts survive restarts), not an in-process retry loop:
those use ``common.retry``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; Retry-After from the receiver wins when it asks for longer."""

    base_s: float = 2.0
    cap_s: float = 3600.0
    max_attempts: int = 15
    lease_s: float = 60.0

    def delay(self, attempt: int, retry_after_s: float | None = None, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        exp = min(self.cap_s, self.base_s * (2.0 ** max(0, attempt - 1)))
        draw = rng.random() if rng is not None else random.random()  # noqa: S311 - spreads retries, guards nothing
        jittered = exp * (0.5 + 0.5 * draw)  # "equal jitter": spreads retries of many rows
        if retry_after_s is not None:  # the receiver knows best, even past our cap (bounded to a day)
            return max(jittered, min(retry_after_s, 86400.0))
        return jittered

    def gives_up(self, attempts: int) -> bool:
        """Whether a row that failed ``attempts`` times becomes a dead letter instead of being retried."""
        return attempts >= self.max_attempts
