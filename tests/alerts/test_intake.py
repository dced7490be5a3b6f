"""raise_alert: dedup, history, SLA deadlines, outbox rows and notifications, on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from alerts import repository as repo
from alerts.intake import AlertDraft, raise_alert
from alerts.model import LifecycleError, SlaPolicy
from estatewatch.clock import ManualClock
from store.db import connect

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def draft(key: str = "littering:cam-1:A", type_: str = "littering") -> AlertDraft:
    return AlertDraft(type=type_, severity="minor", dedup_key=key, title="Object thrown from tower A",
                      site="s1", occurred_at=T0, subject={"camera": "cam-1", "building": "A", "floor": 12},
                      details={"track": 7}, evidence={"snapshot": "/evidence/1.jpg"})


def test_raise_dedups_into_one_alert_with_count_and_history(db_url: str) -> None:
    with connect(db_url) as conn:
        conn.execute("LISTEN ew_alerts")
        conn.commit()
        with conn.transaction():
            first = raise_alert(conn, draft(), now=T0)
        with conn.transaction():
            second = raise_alert(conn, draft(), now=T0 + timedelta(minutes=1))
        assert first == second
        row = repo.get_alert(conn, first)
        assert row is not None
        body = repo.alert_json(row)
        assert body["count"] == 2
        assert body["subject"]["building"] == "A"
        assert body["sla"]["class"] == "general"
        assert body["sla"]["ack_due_at"] == (T0 + timedelta(minutes=5)).isoformat()
        assert body["sla"]["resolve_due_at"] == (T0 + timedelta(hours=3)).isoformat()
        assert body["links"]["evidence"] == {"snapshot": "/evidence/1.jpg"}
        assert [h["kind"] for h in repo.history(conn, first)] == ["created", "repeated"]
        outbox = conn.execute("SELECT channel, event_type FROM outbox ORDER BY id").fetchall()
        assert [(r["channel"], r["event_type"]) for r in outbox] == [("mqtt", "alert.new"), ("mqtt", "alert.update")]
        notes = [n.payload for n in conn.notifies(timeout=1, stop_after=2)]
        assert len(notes) == 2
        assert '"change": "created"' in notes[0]


def test_lifecycle_and_resolved_key_opens_a_new_alert(db_url: str) -> None:
    clock = ManualClock(T0)
    with connect(db_url) as conn:
        with conn.transaction():
            alert_id = raise_alert(conn, draft(), now=clock.now())
        with conn.transaction():
            repo.acknowledge(conn, alert_id, "li.wei", clock.advance(60))
            repo.assign(conn, alert_id, "zhang.min", "li.wei", clock.advance(60))
            repo.comment(conn, alert_id, "zhang.min", "on my way", clock.advance(60))
            row = repo.resolve(conn, alert_id, "true_positive", "zhang.min", clock.advance(600))
        assert row["status"] == "resolved"
        assert row["resolution"] == "true_positive"
        assert row["assignee"] == "zhang.min"
        with pytest.raises(LifecycleError), conn.transaction():
            repo.acknowledge(conn, alert_id, "li.wei", clock.advance(1))
        kinds = [h["kind"] for h in repo.history(conn, alert_id)]
        assert kinds == ["created", "acknowledged", "assigned", "commented", "resolved"]
        assert repo.comments(conn, alert_id)[0]["body"] == "on my way"
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
            assert repo.escalate_due(conn, clock.advance(timedelta(minutes=4)), policy) == 0
        with conn.transaction():
            assert repo.escalate_due(conn, clock.advance(timedelta(minutes=2)), policy) == 1
        row = repo.get_alert(conn, alert_id)
        assert row is not None
        assert (row["severity"], row["ack_breached"], row["recipient_group"]) == ("major", True, "supervisor")
        with conn.transaction():
            assert repo.escalate_due(conn, clock.advance(timedelta(minutes=1)), policy) == 0
            repo.acknowledge(conn, alert_id, "li.wei", clock.now())
        with conn.transaction():
            assert repo.escalate_due(conn, clock.advance(timedelta(days=2)), policy) == 1
        row = repo.get_alert(conn, alert_id)
        assert row is not None
        assert (row["severity"], row["resolve_breached"], row["escalation_level"]) == ("critical", True, 2)
        assert row["recipient_group"] == "manager"
        assert [h["kind"] for h in repo.history(conn, alert_id)].count("escalated") == 2
