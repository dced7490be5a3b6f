"""Live alert changes for the console as Server-Sent Events, fed by PostgreSQL ``LISTEN ew_alerts``.

One listener thread per API process holds one database connection, however many consoles are open, and fans each
notification out to the streams' asyncio queues. Events carry ids ``<boot>-<seq>``; a browser that reconnects with
``Last-Event-ID`` gets what it missed from a short in-memory backlog, or a ``reset`` telling it to reload the list
when the gap is too old or the process restarted (the database, not this backlog, is the record).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import threading
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import psycopg
from fastapi import APIRouter, FastAPI, Header, Request
from fastapi.responses import StreamingResponse

from api.deps import Viewer
from api.security import SESSION_COOKIE, session_from_request

log = logging.getLogger(__name__)

CHANNEL = "ew_alerts"
HEARTBEAT_S = 15.0  # below the idle timeouts of common proxies, and how soon a dead client is noticed
QUEUE_SIZE = 1000


@dataclass(frozen=True)
class StreamEvent:
    id: str
    kind: str  # "alert" for a change, "reset" when the client must reload
    data: str

    def encode(self) -> str:
        lines = "".join(f"data: {line}\n" for line in self.data.splitlines() or [""])
        return f"id: {self.id}\nevent: {self.kind}\n{lines}\n"


@dataclass(eq=False)
class Subscription:
    """One open stream: a queue on its event loop; ``overflowed`` when the client fell too far behind."""

    loop: asyncio.AbstractEventLoop
    queue: asyncio.Queue[StreamEvent | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    overflowed: bool = False

    def offer(self, event: StreamEvent | None) -> None:
        """Runs on the subscriber's loop."""
        if event is not None and self.queue.full():
            self.overflowed = True
            return
        self.queue.put_nowait(event)


class AlertHub:
    """The process's single ``LISTEN`` connection, reconnecting on its own, fanning out to subscriptions."""

    def __init__(self, database_url: str, backlog: int = 2000) -> None:
        self.database_url = database_url
        self.boot = secrets.token_hex(4)
        self.listening = threading.Event()
        self._seq = 0
        self._recent: deque[StreamEvent] = deque(maxlen=backlog)
        self._subs: set[Subscription] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="alert-hub", daemon=True)

    def start(self) -> AlertHub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            subs = list(self._subs)
        for sub in subs:  # end the open streams so the server can shut down
            with contextlib.suppress(RuntimeError):
                sub.loop.call_soon_threadsafe(sub.offer, None)
        self._thread.join(timeout=5)

    def subscribe(self, last_event_id: str | None) -> tuple[Subscription, list[StreamEvent] | None]:
        """A new subscription and what it missed since ``last_event_id`` (None: unknown gap, reload everything)."""
        sub = Subscription(asyncio.get_running_loop())
        with self._lock:
            self._subs.add(sub)
            return sub, self._missed(last_event_id)

    def unsubscribe(self, sub: Subscription) -> None:
        with self._lock:
            self._subs.discard(sub)

    def _missed(self, last_event_id: str | None) -> list[StreamEvent] | None:
        if not last_event_id:
            return []
        boot, _, seq_text = last_event_id.partition("-")
        if boot != self.boot or not seq_text.isdigit():
            return None
        seq = int(seq_text)
        if seq > self._seq:
            return None
        oldest = self._seq - len(self._recent)
        if seq < oldest:
            return None
        return list(self._recent)[seq - oldest:]

    def publish(self, kind: str, data: str) -> None:
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
        first = True
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.database_url, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.listening.set()
                    if not first:  # notifications sent while we were away are lost: tell clients to reload
                        self.publish("reset", json.dumps({"reason": "listener reconnected"}))
                    first = False
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=1.0):
                            self.publish("alert", note.payload)
            except psycopg.Error as exc:
                self.listening.clear()
                log.warning("alert stream listener lost the database (%s); retrying", exc)
                self._stop.wait(1.0)
        self.listening.clear()


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    hub = AlertHub(app.state.settings.require_database_url()).start()
    app.state.alert_hub = hub
    try:
        yield
    finally:
        await asyncio.to_thread(hub.stop)


router = APIRouter(prefix="/api/v1", tags=["stream"], lifespan=_lifespan)


async def _events(request: Request, hub: AlertHub, sub: Subscription,
                  missed: list[StreamEvent] | None) -> AsyncIterator[str]:
    try:
        yield f"retry: 3000\nevent: hello\ndata: {json.dumps({'boot': hub.boot})}\n\n"
        if missed is None:
            yield StreamEvent(f"{hub.boot}-0", "reset", json.dumps({"reason": "gap"})).encode()
        for event in missed or ():
            yield event.encode()
        while True:
            try:
                change = await asyncio.wait_for(sub.queue.get(), timeout=HEARTBEAT_S)
            except TimeoutError:
                if await request.is_disconnected() or not await asyncio.to_thread(_still_signed_in, request):
                    return
                yield ": ping\n\n"
                continue
            if change is None:
                return
            if sub.overflowed:  # it could not keep up: skip the pile and reload
                sub.overflowed = False
                while not sub.queue.empty():
                    sub.queue.get_nowait()
                yield StreamEvent(change.id, "reset", json.dumps({"reason": "overflow"})).encode()
                continue
            yield change.encode()
    finally:
        hub.unsubscribe(sub)


def _still_signed_in(request: Request) -> bool:
    """A stream outlives the request that opened it: end it when its cookie session has ended (logout, disabled)."""
    if request.headers.get("authorization") or SESSION_COOKIE not in request.cookies:
        return True
    return session_from_request(request) is not None


@router.get("/stream/alerts")
async def alert_stream(
    request: Request,
    _: Viewer,
    last_event_id: str | None = Header(default=None),
) -> StreamingResponse:
    """Server-Sent Events: ``alert`` (a change, JSON from the alerts area), ``reset`` (reload), ``hello``."""
    hub: AlertHub = request.app.state.alert_hub
    sub, missed = hub.subscribe(last_event_id or request.query_params.get("last_event_id"))
    return StreamingResponse(
        _events(request, hub, sub, missed),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
