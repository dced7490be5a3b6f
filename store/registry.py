"""``DeviceRegistry``: which device ids a role accepts when ``EW_REQUIRE_REGISTERED_DEVICES`` is on.

Ingest, alerts and vision each keep one in memory and ask it per message, so the hot path is a set lookup; a
background thread reloads it from ``devices`` on an interval. A failed reload keeps the last set (logged once
until a reload succeeds again). Until the first load succeeds nothing is known: registration fails closed, and
the roles that acknowledge messages wait for that load (``wait_loaded``) rather than refuse everything.

Which id a message is judged by follows its topic: a sensor's telemetry and any device's status by the device id,
an access event by its gate, a camera frame by its camera, and a flat's door, motion and water events by the flat
(known when a unit device placed in it is registered; see ``store.devices.register``).

``unregister`` is the other half of ``store.devices.register``: a revoked device account stops counting as a
registered device, so every role's registry refuses its id (and a flat whose only unit device it was) from its
next reload on. The row stays, with its history: only ``registered`` goes.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager

from store.db import Conn
from store.devices import Registered, registered

log = logging.getLogger(__name__)

REFRESH_S = 15.0
RETRY_S = 1.0  # until the first load succeeds, retry soon: nothing is admitted meanwhile
START_WAIT_S = 5.0
UNIT_KINDS = frozenset({"door", "motion", "water"})
"""Message kinds (``common.topics.Kind`` values) whose topic carries the flat's id rather than a device's."""

Opener = Callable[[], AbstractContextManager[Conn]]


def unregister(conn: Conn, site: str, device_ids: Iterable[str]) -> int:
    """Clear ``registered`` for these devices of ``site`` (a revoked account); returns how many were registered."""
    rows = conn.execute(
        "UPDATE devices SET registered = false WHERE site = %s AND device_id = ANY(%s) AND registered "
        "RETURNING device_id",
        (site, list(device_ids)),
    ).fetchall()
    return len(rows)


class DeviceRegistry:
    """The registered ids, reloaded every ``every_s`` by ``start()``'s thread or on demand by ``refresh()``."""

    def __init__(self, *, every_s: float = REFRESH_S, name: str = "registry") -> None:
        self.every_s = every_s
        self.name = name
        self._known = Registered(frozenset(), frozenset())  # replaced whole: readers need no lock
        self._loaded = threading.Event()
        self._failing = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def loaded(self) -> bool:
        """True once a load has succeeded."""
        return self._loaded.is_set()

    def wait_loaded(self, stop: threading.Event | None = None) -> bool:
        """Block until the first load succeeded (True), or ``stop`` is set or the registry stopped (False).

        Roles that acknowledge what they refuse call this before judging a message, so a start during a database
        outage holds messages back (back-pressure to the broker) instead of refusing registered devices' ones.
        Stop the registry before the subscriber: that releases a network thread waiting here.
        """
        while not self._loaded.wait(0.2):
            if self._stop.is_set() or (stop is not None and stop.is_set()):
                return False
        return True

    def refresh(self, conn: Conn) -> bool:
        """Reload from ``devices``; on failure keep the last set and return False (the error is logged once)."""
        try:
            known = registered(conn)
        except Exception:
            if not self._failing:
                log.exception("%s: could not load the device registry; keeping the last one", self.name)
            self._failing = True
            return False
        if self._failing:
            log.info("%s: device registry loaded again (%d ids)", self.name, len(known.ids))
        self._failing = False
        self._known = known
        self._loaded.set()
        return True

    def known(self, device_id: str) -> bool:
        """Whether ``device_id`` (a sensor, camera or gate) is registered."""
        return device_id in self._known.ids

    def admits(self, kind: str, entity: str) -> bool:
        """Whether a message of ``kind`` (a topic kind's value) from the topic's ``entity`` is from a known device."""
        if kind in UNIT_KINDS:
            return entity in self._known.units
        return entity in self._known.ids

    def start(self, opener: Opener, *, wait_s: float = START_WAIT_S) -> DeviceRegistry:
        """Load and reload in the background; wait up to ``wait_s`` for the first load, so that with the database
        up the first messages are judged on the real registry, and with it away the role still starts.
        """
        self._thread = threading.Thread(target=self._loop, args=(opener,), name=f"{self.name}-refresh", daemon=True)
        self._thread.start()
        self._loaded.wait(wait_s)
        return self

    def stop(self) -> None:
        """End the reload thread and release whoever waits for the first load."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _load(self, opener: Opener) -> None:
        try:
            with opener() as conn:
                self.refresh(conn)
        except Exception:  # the database is away: the connection itself failed
            if not self._failing:
                log.exception("%s: could not reach the database for the device registry", self.name)
            self._failing = True

    def _loop(self, opener: Opener) -> None:
        self._load(opener)
        while not self._stop.wait(self.every_s if self.loaded else RETRY_S):
            self._load(opener)
