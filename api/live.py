"""The live alert hub: one ``LISTEN`` connection per API process, fanned out to every open console stream.

However many consoles are open, the process holds one database connection for notifications, on a thread of its
own, and hands each one to the streams' asyncio queues. Events carry ids ``<boot>-<seq>``; a browser that reconnects
with ``Last-Event-ID`` gets what it missed from a short in-memory backlog, or a ``reset`` telling it to reload the
list when the gap is too old or the process restarted (the database, not this backlog, is the record).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Literal

from api.models.stream import StreamReset
from common.retry import Backoff, StoppedError, retry_until
from store.db import Conn
from store.notify import ALERTS_CHANNEL, listen, payloads

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
_BACKOFF = Backoff(initial_s=0.5, max_s=5.0)  # a console should see the database come back within seconds
_POLL_S = 1.0  # how often the listener looks at its stop flag between notifications

EventKind = Literal["alert", "reset"]

# "<boot>-<seq>": 8 hex digits, a dash, a decimal count; ASCII digits only (a "²" is no digit here)
EVENT_ID = re.compile(r"([0-9a-f]{8})-([0-9]{1,18})")


def valid_event_id(value: str) -> bool:
    """True when ``value`` has the shape of an event id this hub hands out (checked before subscribing)."""
    return EVENT_ID.fullmatch(value) is not None


class StreamFullError(Exception):
    """The process already serves as many streams as ``EW_STREAM_MAX_CONNECTIONS`` allows."""


@dataclass(frozen=True)
class StreamEvent:
    """One numbered Server-Sent Event: ``alert`` for a change, ``reset`` when the client must reload."""

    id: str
    kind: EventKind
    data: str

    def encode(self) -> str:
        """The event in the ``text/event-stream`` wire format (each data line prefixed, a blank line after)."""
        lines = "".join(f"data: {line}\n" for line in self.data.splitlines() or [""])
        return f"id: {self.id}\nevent: {self.kind}\n{lines}\n"


def _new_queue() -> asyncio.Queue[StreamEvent | None]:
    return asyncio.Queue(QUEUE_SIZE)


@dataclass(eq=False)
class Subscription:
    """One open stream: a queue on its event loop; ``overflowed`` when the client fell too far behind."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[StreamEvent | None] = field(default_factory=_new_queue)
    overflowed: bool = False

    def offer(self, event: StreamEvent | None) -> None:
        """Queue ``event`` (None ends the stream); runs on the subscriber's loop, so the queue needs no lock."""
        if event is not None and self.queue.full():
            self.overflowed = True
            return
        self.queue.put_nowait(event)


class AlertHub:
    """The process's single ``LISTEN`` connection, reconnecting with backoff, fanning out to subscriptions."""

    def __init__(self, database_url: str, backlog: int = 2000, max_subscriptions: int = 200) -> None:
        self.database_url = database_url
        self.max_subscriptions = max_subscriptions
        self.boot = secrets.token_hex(4)
        self.listening = threading.Event()
        self._seq = 0
        self._sessions = 0
        self._recent: deque[StreamEvent] = deque(maxlen=backlog)
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-hub", daemon=True)

    def start(self) -> AlertHub:
        """Start the listener thread; ``listening`` is set once the first ``LISTEN`` is in place."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and end every open stream, so the server can shut down."""
        self._stop.set()
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # the subscriber's loop has closed already
                sub.loop.call_soon_threadsafe(sub.offer, None)
        self._thread.join(timeout=5)

    def subscribe(self, last_event_id: str | None) -> tuple[Subscription, list[StreamEvent] | None]:
        """A new subscription and what it missed since ``last_event_id`` (None: unknown gap, reload everything).

        Raises:
            StreamFullError: ``max_subscriptions`` streams are open already.
        """
        sub = Subscription(asyncio.get_running_loop())
        with self._lock:
            if len(self._subs) >= self.max_subscriptions:
                raise StreamFullError(f"{self.max_subscriptions} alert streams are open")
            missed = self._missed(last_event_id)
            self._subs.add(sub)
            return sub, missed

    @property
    def subscribers(self) -> int:
        """How many streams are open now."""
        with self._lock:
            return len(self._subs)

    def unsubscribe(self, sub: Subscription) -> None:
        """Forget a stream that ended."""
        with self._lock:
            self._subs.discard(sub)

    def _missed(self, last_event_id: str | None) -> list[StreamEvent] | None:
        if not last_event_id:
            return []
        match = EVENT_ID.fullmatch(last_event_id)
        if match is None or match.group(1) != self.boot:
            return None
        seq = int(match.group(2))
        oldest = self._seq - len(self._recent)
        if seq > self._seq or seq < oldest:
            return None
        return list(self._recent)[seq - oldest:]

    def publish(self, kind: EventKind, data: str) -> None:
        """Number the event and hand it to every subscription (called by the listener thread)."""
        with self._lock:
            self._seq += 1
            event = StreamEvent(f"{self.boot}-{self._seq}", kind, data)
            self._recent.append(event)
            subs = list(self._subs)
        for sub in subs:
            with contextlib.suppress(RuntimeError):  # the subscriber's loop has closed
                sub.loop.call_soon_threadsafe(sub.offer, event)

    def _run(self) -> None:
        with contextlib.suppress(StoppedError):
            retry_until(self._session, what="alert stream LISTEN", stop=self._stop, backoff=_BACKOFF,
                        on_error=lambda _exc: self.listening.clear())
        self.listening.clear()

    def _session(self) -> None:
        """Listen until stopped; raises when the connection is lost, so ``retry_until`` reconnects."""
        conn: Conn = listen(self.database_url, ALERTS_CHANNEL)
        with conn:
            self.listening.set()
            self._sessions += 1
            if self._sessions > 1:  # notifications sent while we were away are lost: tell clients to reload
                self.publish("reset", StreamReset(reason="listener reconnected").model_dump_json())
            while not self._stop.is_set():
                for payload in payloads(conn, _POLL_S):
                    self.publish("alert", payload)
