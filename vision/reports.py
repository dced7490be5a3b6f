"""What worker processes tell the vision service over their queue: one small typed record per kind of news.

The service owns the Prometheus metrics and the recent-events list; workers only report. Records cross a process
boundary, so they are plain frozen dataclasses of builtins.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FramesAnalysed:
    """``count`` frames of a camera decoded and analysed since the last report (sent in batches)."""

    camera: str
    count: int


@dataclass(frozen=True)
class FrameRejected:
    """A frame the worker could not use, and why (a decode failure, or an error in the detector)."""

    camera: str
    reason: str


@dataclass(frozen=True)
class LitteringFound:
    """A fall was detected and stored; ``alert_id`` is None when no alert sink was configured."""

    camera: str
    event_id: str
    floor: int | None
    alert_id: str | None


@dataclass(frozen=True)
class EvidenceFailed:
    """A snapshot or clip could not be written."""

    camera: str


@dataclass(frozen=True)
class TracksRejected:
    """Tracks judged not to be a fall since the last report, counted by the classifier's reason."""

    camera: str
    by_reason: dict[str, int]


WorkerReport = FramesAnalysed | FrameRejected | LitteringFound | EvidenceFailed | TracksRejected
