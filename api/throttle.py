"""Login throttling: failed sign-ins counted per user name and per client address, with a lockout.

Each password check is a 16 MiB scrypt, so the throttle decides *before* any hashing: a locked user or address
gets 429 with ``Retry-After`` at the cost of a dictionary look-up, which closes both password guessing and CPU
exhaustion through the login route. Counts live in the API process's memory (bounded in entries); several API
processes each keep their own, which multiplies the allowance by the number of processes and no more.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures within ``window_s`` lock a key, and for how long."""

    max_failures: int
    window_s: float
    lockout_s: float


@dataclass
class _Record:
    failures: list[float] = field(default_factory=list)
    locked_until: float = 0.0


class FailureCounter:
    """Failures per key within a sliding window; a key with too many is locked out for a while.

    Memory is bounded by ``max_keys``: the least recently touched key is forgotten first, so a flood of made-up
    user names cannot grow the table without end.
    """

    def __init__(self, policy: ThrottlePolicy, *, max_keys: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.max_keys = max_keys
        self._clock = clock
        self._records: OrderedDict[str, _Record] = OrderedDict()
        self._lock = threading.Lock()

    def retry_after(self, key: str) -> float:
        """Seconds until ``key`` may try again; 0 when it is not locked."""
        now = self._clock()
        with self._lock:
            record = self._records.get(key)
            if record is None:
                return 0.0
            return max(0.0, record.locked_until - now)

    def fail(self, key: str) -> float:
        """Count one failure; returns the lockout it started (seconds), 0 when none."""
        now = self._clock()
        with self._lock:
            record = self._records.pop(key, None) or _Record()
            self._records[key] = record
            while len(self._records) > self.max_keys:
                self._records.popitem(last=False)
            cutoff = now - self.policy.window_s
            record.failures = [t for t in record.failures if t > cutoff]
            record.failures.append(now)
            if len(record.failures) >= self.policy.max_failures:
                record.failures.clear()
                record.locked_until = now + self.policy.lockout_s
                return self.policy.lockout_s
            return 0.0

    def clear(self, key: str) -> None:
        """Forget a key's failures (after a successful sign-in)."""
        with self._lock:
            self._records.pop(key, None)


class LoginThrottle:
    """The two counters a login consults: one per user name, one per client address."""

    def __init__(self, per_user: ThrottlePolicy, per_address: ThrottlePolicy,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.users = FailureCounter(per_user, clock=clock)
        self.addresses = FailureCounter(per_address, clock=clock)

    def retry_after(self, user: str | None, address: str) -> int:
        """Whole seconds the caller must wait (rounded up), 0 when it may try now."""
        wait = self.addresses.retry_after(address)
        if user:
            wait = max(wait, self.users.retry_after(user.lower()))
        return math.ceil(wait)

    def failed(self, user: str | None, address: str) -> int:
        """Record a failed attempt; returns the lockout it started in whole seconds (0: none)."""
        wait = self.addresses.fail(address)
        if user:
            wait = max(wait, self.users.fail(user.lower()))
        return math.ceil(wait)

    def succeeded(self, user: str | None) -> None:
        """A correct sign-in clears the user's count (the address keeps its own, shared by everyone there)."""
        if user:
            self.users.clear(user.lower())
