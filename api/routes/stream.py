"""Live alert changes for the console as Server-Sent Events; the hub behind them lives in ``api.live``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, FastAPI, Header, HTTPException, Request, status

from api.deps import Viewer
from api.live import AlertHub, StreamEvent, StreamFullError, Subscription, valid_event_id
from api.models.stream import STREAM_EVENTS, StreamHello, StreamReset
from api.openapi import EventStreamResponse, event_stream
from api.security import SESSION_COOKIE, session_from_request

HEARTBEAT_S = 15.0  # below the idle timeouts of common proxies, and how soon a dead client is noticed


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    hub = AlertHub(settings.require_database_url(), max_subscriptions=settings.stream_max_connections).start()
    app.state.alert_hub = hub
    try:
        yield
    finally:
        await asyncio.to_thread(hub.stop)


router = APIRouter(prefix="/api/v1", tags=["stream"], lifespan=_lifespan)


def _reset(event_id: str, reason: str) -> str:
    return StreamEvent(event_id, "reset", StreamReset(reason=reason).model_dump_json()).encode()


async def _events(request: Request, hub: AlertHub, sub: Subscription,
                  missed: list[StreamEvent] | None) -> AsyncIterator[str]:
    try:
        yield f"retry: 3000\nevent: hello\ndata: {StreamHello(boot=hub.boot).model_dump_json()}\n\n"
        if missed is None:
            yield _reset(f"{hub.boot}-0", "gap")
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
                yield _reset(change.id, "overflow")
                continue
            yield change.encode()
    finally:
        hub.unsubscribe(sub)


def _still_signed_in(request: Request) -> bool:
    """A stream outlives the request that opened it: end it when its cookie session has ended (logout, disabled)."""
    if request.headers.get("authorization") or SESSION_COOKIE not in request.cookies:
        return True
    return session_from_request(request) is not None


_REFUSALS: dict[int | str, dict[str, object]] = {
    400: {"description": "a Last-Event-ID that is no event id of this API"},
    503: {"description": "the stream connection cap is reached; see Retry-After"},
}


@router.get("/stream/alerts", response_class=EventStreamResponse,
            responses={**event_stream("Server-Sent Events: hello, then alert and reset events", STREAM_EVENTS),
                       **_REFUSALS})
async def alert_stream(
    request: Request,
    _: Viewer,
    last_event_id: Annotated[str | None, Header()] = None,
) -> EventStreamResponse:
    """Server-Sent Events: ``alert`` (data: AlertChange), ``reset`` (data: StreamReset; reload the list) and
    ``hello`` (data: StreamHello) first. Reconnect with ``Last-Event-ID`` to get what was missed.
    """
    hub: AlertHub = request.app.state.alert_hub
    since = last_event_id or request.query_params.get("last_event_id")
    if since and not valid_event_id(since):  # refused before any subscription exists, so nothing can leak
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "Last-Event-ID must look like <boot>-<number>")
    try:
        sub, missed = hub.subscribe(since)
    except StreamFullError as exc:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, str(exc), headers={"Retry-After": "10"}) from exc
    return EventStreamResponse(
        _events(request, hub, sub, missed),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )

