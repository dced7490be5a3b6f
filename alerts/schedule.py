"""A due-time index: a heap keyed by next due time, so evaluation cost follows what is due, not the population."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from datetime import datetime


class DueIndex:
    """Keys with one due time each; ``pop_due`` yields the keys due by ``now`` in due order.

    Rescheduling pushes a new heap entry and remembers the latest due per key; stale entries are skipped when they
    surface (lazy deletion), which keeps every operation O(log n).
    """

    def __init__(self) -> None:
        self._heap: list[tuple[datetime, int, str]] = []
        self._due: dict[str, datetime] = {}
        self._seq = 0

    def __len__(self) -> int:
        return len(self._due)

    def set(self, key: str, due: datetime | None) -> None:
        """Schedule ``key`` at ``due`` (None: nothing is due for it any more)."""
        if due is None:
            self._due.pop(key, None)
            return
        if self._due.get(key) == due:
            return
        self._due[key] = due
        self._seq += 1
        heapq.heappush(self._heap, (due, self._seq, key))
        if len(self._heap) > 4 * len(self._due) + 1024:
            self._compact()

    def get(self, key: str) -> datetime | None:
        """The due time of ``key``, if scheduled."""
        return self._due.get(key)

    def peek(self) -> datetime | None:
        """The earliest due time, without removing it."""
        while self._heap:
            due, _, key = self._heap[0]
            if self._due.get(key) == due:
                return due
            heapq.heappop(self._heap)
        return None

    def pop_due(self, now: datetime) -> Iterator[tuple[datetime, str]]:
        """Remove and yield (due, key) for every key due at or before ``now``, earliest first."""
        while True:
            due = self.peek()
            if due is None or due > now:
                return
            _, _, key = heapq.heappop(self._heap)
            del self._due[key]
            yield due, key

    def _compact(self) -> None:
        self._heap = [(due, i, key) for i, (key, due) in enumerate(self._due.items())]
        heapq.heapify(self._heap)
        self._seq = len(self._heap)
