"""Camera silence: a camera that stops sending frames is offline, like any sensor that falls quiet.

``SilenceWatch`` is pure (monotonic seconds in, changes out): it tracks the last frame of every camera it knows
(the configured ones from the start, so a camera that never streams is caught too, and any that sends frames)
and reports a camera once when it passes the limit and once when its frames return. The vision service checks
it on its health loop and hands each change to a ``CameraStatusSink``, which the wiring layer makes into a
``device_offline`` alert (raised, then resolved when frames return), so vision never imports alerts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from store.db import Conn


@dataclass(frozen=True)
class CameraStatus:
    """A camera that went silent (``online`` False) or whose frames came back (True)."""

    site: str
    camera: str
    online: bool
    at: datetime  # wall time of the change
    last_frame_at: datetime | None  # wall time of the last frame before the silence; None: never seen
    silent_s: float  # how long it had been silent
    building: str | None = None


CameraStatusSink = Callable[[Conn, CameraStatus], str | None]


@dataclass
class _Camera:
    last: float  # monotonic time of the last frame, or when watching began
    last_wall: datetime | None = None
    offline: bool = False


@dataclass
class SilenceWatch:
    """Which cameras are silent for longer than ``after_s`` seconds; not thread-safe (the caller locks)."""

    site: str
    after_s: float
    buildings: dict[str, str | None] = field(default_factory=dict)
    _cameras: dict[str, _Camera] = field(default_factory=dict)

    def watch(self, cameras: Iterable[str], mono: float) -> None:
        """Start watching configured cameras now (their silence counts from ``mono``)."""
        for camera in cameras:
            self._cameras.setdefault(camera, _Camera(mono))

    def frame(self, camera: str, mono: float, wall: datetime) -> CameraStatus | None:
        """A frame arrived; a change when the camera was offline."""
        seen = self._cameras.setdefault(camera, _Camera(mono))
        silent_s = mono - seen.last
        back = seen.offline
        seen.last, seen.last_wall, seen.offline = mono, wall, False
        if not back:
            return None
        return CameraStatus(self.site, camera, True, wall, wall, round(silent_s, 1), self.buildings.get(camera))

    def check(self, mono: float, wall: datetime) -> list[CameraStatus]:
        """Cameras that have just passed the limit, each reported once per silence."""
        out = []
        for camera, seen in sorted(self._cameras.items()):
            silent_s = mono - seen.last
            if seen.offline or silent_s <= self.after_s:
                continue
            seen.offline = True
            out.append(CameraStatus(self.site, camera, False, wall, seen.last_wall, round(silent_s, 1),
                                    self.buildings.get(camera)))
        return out

    def offline(self) -> list[str]:
        """Cameras currently offline, by id."""
        return sorted(c for c, seen in self._cameras.items() if seen.offline)

    def unreport(self, status: CameraStatus) -> None:
        """A change the sink could not store (database away): report it again on the next check or frame."""
        seen = self._cameras.get(status.camera)
        if seen is None:
            return
        # a raise that failed is raised again on the next check; a resolve that failed on the next frame
        seen.offline = status.online
