"""The alert stream's hub against a real PostgreSQL: NOTIFY reaches subscribers, and a reconnect with Last-Event-ID
gets exactly what it missed, or a reset when the gap cannot be filled."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import psycopg

from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from api.live import AlertHub, StreamEvent
from api.models.stream import AlertChange
from store.db import connect
from store.notify import ALERTS_CHANNEL


def _notify(db_url: str, *payloads: dict[str, str]) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for payload in payloads:
            conn.execute("SELECT pg_notify(%s, %s)", (ALERTS_CHANNEL, json.dumps(payload)))


async def _next(queue: asyncio.Queue[StreamEvent | None]) -> StreamEvent:
    event = await asyncio.wait_for(queue.get(), timeout=10)
    assert event is not None, "the hub ended the stream"
    return event


def test_notifications_fan_out_and_gaps_replay(db_url: str) -> None:
    hub = AlertHub(db_url, backlog=3).start()
    try:
        assert hub.listening.wait(10)

        async def scenario() -> None:
            first, missed = hub.subscribe(None)
            second, _ = hub.subscribe(None)
            assert missed == []
            await asyncio.to_thread(_notify, db_url, {"id": "al_1", "change": "created"},
                                    {"id": "al_2", "change": "acknowledged"})
            got = [await _next(first.queue), await _next(first.queue)]
            assert [json.loads(e.data)["id"] for e in got] == ["al_1", "al_2"]
            also = await _next(second.queue)
            assert (also.kind, also.id) == ("alert", got[0].id)

            # a client that saw al_1 and reconnects gets al_2 only
            _, replay = hub.subscribe(got[0].id)
            assert replay is not None
            assert [json.loads(e.data)["id"] for e in replay] == ["al_2"]

            # older than the backlog, from another process life, or from the future: the client must reload
            await asyncio.to_thread(_notify, db_url, *[{"id": f"al_{n}"} for n in range(3, 7)])
            for _ in range(4):
                await _next(first.queue)
            assert hub.subscribe(got[0].id)[1] is None
            assert hub.subscribe("deadbeef-1")[1] is None
            assert hub.subscribe(f"{hub.boot}-999")[1] is None
            for sub in (first, second):
                hub.unsubscribe(sub)

        asyncio.run(scenario())
    finally:
        hub.stop()
    assert not hub.listening.is_set()


def test_event_encoding_is_valid_server_sent_events() -> None:
    event = StreamEvent("b00t-7", "alert", '{"id": "al_1"}\n{"more": 1}')
    assert event.encode() == 'id: b00t-7\nevent: alert\ndata: {"id": "al_1"}\ndata: {"more": 1}\n\n'


def _end_listener(db_url: str) -> int:
    """Terminate the hub's LISTEN connection as a database restart would; returns how many backends ended."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        row = conn.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                           " WHERE datname = current_database() AND query ILIKE 'LISTEN%'").fetchone()
    assert row is not None
    return int(row[0])


def test_a_lost_listener_reconnects_and_tells_streams_to_reload(db_url: str) -> None:
    hub = AlertHub(db_url).start()
    try:
        assert hub.listening.wait(10)

        async def scenario() -> None:
            sub, _ = hub.subscribe(None)
            assert await asyncio.to_thread(_end_listener, db_url) == 1
            reset = await _next(sub.queue)  # what was sent while it was away is lost: the page must reload
            assert (reset.kind, json.loads(reset.data)) == ("reset", {"reason": "listener reconnected"})
            await asyncio.to_thread(_notify, db_url, {"id": "al_9", "change": "created"})
            after = await _next(sub.queue)
            assert (after.kind, json.loads(after.data)["id"]) == ("alert", "al_9")
            hub.unsubscribe(sub)

        asyncio.run(scenario())
    finally:
        hub.stop()


def test_a_real_alert_change_has_the_documented_shape(db_url: str) -> None:
    """What the alerts area announces is what the stream's schema (AlertChange) promises the console."""
    hub = AlertHub(db_url).start()
    try:
        assert hub.listening.wait(10)

        async def scenario() -> StreamEvent:
            sub, _ = hub.subscribe(None)
            draft = AlertDraft(type="smoke", severity="critical", dedup_key="smoke:1", title="Smoke", site="s1",
                               occurred_at=datetime.now(UTC), subject={"building": "1"})
            await asyncio.to_thread(_raise, db_url, draft)
            event = await _next(sub.queue)
            hub.unsubscribe(sub)
            return event

        event = asyncio.run(scenario())
    finally:
        hub.stop()
    change = AlertChange.model_validate_json(event.data)
    assert (change.change, change.status, change.severity, change.site) == ("created", "open", "critical", "s1")
    assert set(json.loads(event.data)) == set(AlertChange.model_fields)  # nothing sent that the schema lacks


def _raise(db_url: str, draft: AlertDraft) -> None:
    with connect(db_url) as conn:
        raise_alert(conn, draft)
