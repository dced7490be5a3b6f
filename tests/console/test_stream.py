"""The alert stream's hub against a real PostgreSQL: NOTIFY reaches subscribers, and a reconnect with Last-Event-ID
gets exactly what it missed, or a reset when the gap cannot be filled."""

from __future__ import annotations

import asyncio
import json

import psycopg

from api.routes.stream import AlertHub, StreamEvent


def _notify(db_url: str, *payloads: dict[str, str]) -> None:
    with psycopg.connect(db_url, autocommit=True) as conn:
        for payload in payloads:
            conn.execute("SELECT pg_notify('ew_alerts', %s)", (json.dumps(payload),))


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
