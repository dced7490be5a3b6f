"""raise_alert: dedup, history, SLA deadlines, outbox rows and notifications, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts import actions, queries
from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from alerts.lifecycle import LifecycleError
from alerts.sla import SlaPolicy
from common.clock import ManualClock
from store import alerts as alert_rows
from store.db import connect
from store.notify import ALERTS_CHANNEL

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def draft(key: str = "littering:cam-1:A", type_: str = "littering") -> AlertDraft:
    return AlertDraft(type=type_, severity="minor", dedup_key=key, title="Object thrown from tower A",
                      site="s1", occurred_at=T0, subject={"camera": "cam-1", "building": "A", "floor": 12},
                      details={"track": 7}, evidence={"snapshot": "/evidence/1.jpg"})


def test_raise_dedups_into_one_alert_with_count_and_history(db_url: str) -> None:
    with connect(db_url) as conn:
        conn.execute(f"LISTEN {ALERTS_CHANNEL}")
        conn.commit()
        with conn.transaction():
            first = raise_alert(conn, draft(), now=T0)
        with conn.transaction():
            second = raise_alert(conn, draft(), now=T0 + timedelta(minutes=1))
        assert first == second
        body = queries.get_alert(conn, first)
        assert body is not None
        assert body["count"] == 2
        assert body["subject"]["building"] == "A"
        assert body["sla"]["class"] == "general"
        assert body["sla"]["ack_due_at"] == (T0 + timedelta(minutes=5)).isoformat()
        assert body["sla"]["resolve_due_at"] == (T0 + timedelta(hours=3)).isoformat()
        assert body["links"]["evidence"] == {"snapshot": "/evidence/1.jpg"}
        assert [h["kind"] for h in queries.history(conn, first)] == ["created", "repeated"]
        outbox = conn.execute("SELECT channel, event_type FROM outbox ORDER BY id").fetchall()
        assert [(r["channel"], r["event_type"]) for r in outbox] == [("mqtt", "alert.new"), ("mqtt", "alert.update")]
        notes = [n.payload for n in conn.notifies(timeout=1, stop_after=2)]
        assert len(notes) == 2
        assert '"change": "created"' in notes[0]


def test_repeat_keeps_the_higher_severity(db_url: str) -> None:
    with connect(db_url) as conn, conn.transaction():
        alert_id = raise_alert(conn, AlertDraft(type="smoke", severity="critical", dedup_key="smoke:d1", title="t",
                                                site="s1", occurred_at=T0), now=T0)
        raise_alert(conn, AlertDraft(type="smoke", severity="minor", dedup_key="smoke:d1", title="t", site="s1",
                                     occurred_at=T0 + timedelta(minutes=1)), now=T0 + timedelta(minutes=1))
        row = alert_rows.get_alert(conn, alert_id)
        assert row is not None
        assert (row.severity, row.count, row.last_occurred_at) == ("critical", 2, T0 + timedelta(minutes=1))


def test_lifecycle_and_resolved_key_opens_a_new_alert(db_url: str) -> None:
    clock = ManualClock(T0)
    with connect(db_url) as conn:
        with conn.transaction():
            alert_id = raise_alert(conn, draft(), now=clock.now())
        with conn.transaction():
            actions.acknowledge(conn, alert_id, "li.wei", clock.advance(60))
            actions.assign(conn, alert_id, "zhang.min", "li.wei", clock.advance(60))
            actions.comment(conn, alert_id, "zhang.min", "on my way", clock.advance(60))
            row = actions.resolve(conn, alert_id, "true_positive", "zhang.min", clock.advance(600))
        assert row.status == "resolved"
        assert row.resolution == "true_positive"
        assert row.assignee == "zhang.min"
        with pytest.raises(LifecycleError), conn.transaction():
            actions.acknowledge(conn, alert_id, "li.wei", clock.advance(1))
        with pytest.raises(KeyError), conn.transaction():
            actions.acknowledge(conn, "al_nope", "li.wei", clock.advance(1))
        kinds = [h["kind"] for h in queries.history(conn, alert_id)]
        assert kinds == ["created", "acknowledged", "assigned", "commented", "resolved"]
        assert queries.comments(conn, alert_id)[0]["body"] == "on my way"
        with conn.transaction():
            again = raise_alert(conn, draft(), now=clock.advance(60))
        assert again != alert_id


def test_sla_breach_escalates_once_per_deadline(db_url: str) -> None:
    clock = ManualClock(T0)
    policy = SlaPolicy()
    with connect(db_url) as conn:
        with conn.transaction():
            alert_id = raise_alert(conn, draft("device_offline:g1", "device_offline"), now=clock.now(), policy=policy)
        with conn.transaction():
            assert actions.escalate_due(conn, clock.advance(timedelta(minutes=4)), policy) == 0
        with conn.transaction():
            assert actions.escalate_due(conn, clock.advance(timedelta(minutes=2)), policy) == 1
        row = alert_rows.get_alert(conn, alert_id)
        assert row is not None
        assert (row.severity, row.ack_breached, row.recipient_group) == ("major", True, "supervisor")
        with conn.transaction():
            assert actions.escalate_due(conn, clock.advance(timedelta(minutes=1)), policy) == 0
            actions.acknowledge(conn, alert_id, "li.wei", clock.now())
        with conn.transaction():
            assert actions.escalate_due(conn, clock.advance(timedelta(days=2)), policy) == 1
        row = alert_rows.get_alert(conn, alert_id)
        assert row is not None
        assert (row.severity, row.resolve_breached, row.escalation_level) == ("critical", True, 2)
        assert row.recipient_group == "manager"
        assert [h["kind"] for h in queries.history(conn, alert_id)].count("escalated") == 2
