"""Dispatch over the real app and PostgreSQL: the 54321 loop end to end (alert -> a grid worker -> on site ->
resolved, each stage recorded; a late stage escalated to the supervisor by the service's SLA tick on a controllable
clock), the roles, and the responder's link that opens one work order until it expires.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from alerts import work_orders as dispatching
from alerts.drafts import AlertDraft
from alerts.intake import raise_alert
from alerts.responder_seed import seed_demo_responders
from alerts.service import AlertsService
from api.security import token_hash
from common.clock import ManualClock
from common.settings import Settings
from store.db import connect
from store.littering import LitteringRow, insert_littering, set_evidence
from tests.helpers import ADMIN_TOKEN, number

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
VIEWER = {"Authorization": "Bearer viewer-token-0123456789"}
OPERATOR = {"Authorization": "Bearer operator-token-0123456789"}


def _alert(settings: Settings, key: str = "littering:cam-3", type_: str = "littering",
           at: datetime | None = None) -> str:
    draft = AlertDraft(type=type_, severity="major", dedup_key=key, title="Object thrown from floor 14",
                       site=settings.site, occurred_at=at or datetime.now(UTC),
                       subject={"camera": "cam-3", "building": "3", "floor": 14},
                       evidence={"snapshot": "/api/v1/evidence/ev1/snapshot.jpg",
                                 "clip": "/api/v1/evidence/ev1/clip.mp4"})
    with connect(settings.require_database_url()) as conn:
        alert_id = raise_alert(conn, draft, now=at)
        seed_demo_responders(conn, settings.site)
        conn.commit()
    return alert_id


def _token(link: dict[str, Any]) -> str:
    return str(link["url"]).rsplit("/onsite/", 1)[1]


def _history(client: TestClient, alert_id: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get(f"/api/v1/alerts/{alert_id}", headers=VIEWER).json()["history"]
    return entries


def test_the_54321_loop_from_alert_to_resolved_with_each_stage_recorded(client: TestClient,
                                                                        settings: Settings) -> None:
    alert_id = _alert(settings)
    sent = client.post("/api/v1/work-orders", json={"alert_id": alert_id, "responder_id": "grid-wang",
                                                    "complexity": "simple"}, headers=OPERATOR)
    assert sent.status_code == 201, sent.text
    order, link = sent.json()["work_order"], sent.json()["link"]
    assert (order["team"], order["assignee_name"], order["assignee_phone"], order["supervisor_name"]) == (
        "grid", "王丽 Wang Li", "+86 138 0000 0102", "周建国 Zhou Jianguo")
    assert order["brief"]["evidence"]["snapshot"] == "/api/v1/evidence/ev1/snapshot.jpg"
    assert (order["brief"]["type"], order["brief"]["place"]["floor"]) == ("littering", 14)
    assert [(s["stage"], s["state"]) for s in order["stages"]] == [("on_site", "pending"), ("solve", "pending")]
    created = datetime.fromisoformat(order["created_at"])
    assert [datetime.fromisoformat(s["due_at"]) - created for s in order["stages"]] == [
        timedelta(minutes=5), timedelta(minutes=40)]
    assert link["qr_svg"].startswith("data:image/svg+xml")
    assert "/onsite/" in link["url"]
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=VIEWER).json()["assignee"] == "王丽 Wang Li"

    token = _token(link)
    page = client.get(f"/onsite/{token}")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    seen = client.get(f"/api/v1/onsite/{token}").json()
    assert seen["id"] == order["id"]
    assert "assignee_phone" not in seen
    arrived = client.post(f"/api/v1/onsite/{token}/arrived").json()
    assert (arrived["status"], arrived["stages"][0]["state"]) == ("on_site", "met")
    assert client.post(f"/api/v1/onsite/{token}/arrived").status_code == 409
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=VIEWER).json()["status"] == "acknowledged"
    solved = client.post(f"/api/v1/onsite/{token}/solved", json={"note": "bottle removed, owner warned"}).json()
    assert solved["status"] == "solved"
    assert [s["state"] for s in solved["stages"]] == ["met", "met"]

    alert = client.get(f"/api/v1/alerts/{alert_id}", headers=VIEWER).json()
    assert (alert["status"], alert["resolution"]) == ("resolved", "true_positive")
    kinds = [(h["kind"], h["actor"]) for h in alert["history"]]
    assert kinds == [("created", "system"), ("assigned", "operator-bot"), ("acknowledged", "王丽 Wang Li"),
                     ("resolved", "王丽 Wang Li")]
    assert alert["history"][1]["data"]["work_order"] == order["id"]
    assert alert["history"][2]["data"] == {"work_order": order["id"], "on_site": True}
    assert alert["history"][-1]["data"]["note"] == "bottle removed, owner warned"
    stored = client.get(f"/api/v1/work-orders/{order['id']}", headers=OPERATOR).json()
    assert stored["solve_note"] == "bottle removed, owner warned"
    assert all(s["met_at"] is not None and s["breached_at"] is None for s in stored["stages"])


def test_a_late_stage_escalates_to_the_supervisor_on_the_service_tick(client: TestClient,
                                                                      settings: Settings) -> None:
    start = datetime.now(UTC)
    alert_id = _alert(settings, key="smoke:5-0801", type_="smoke", at=start)
    sent = client.post("/api/v1/work-orders", json={"alert_id": alert_id, "responder_id": "sec-zhao"},
                       headers=OPERATOR).json()
    order_id, token = sent["work_order"]["id"], _token(sent["link"])
    # the control room acknowledged at once, so the alert's own clock is stopped: only the work order is late
    assert client.post(f"/api/v1/alerts/{alert_id}/ack", headers=OPERATOR).status_code == 200
    clock = ManualClock(start + timedelta(minutes=4))
    service = AlertsService(settings, clock=clock)
    url = settings.require_database_url()
    with connect(url) as conn:
        service.tick_once(conn)
        assert number(url, "SELECT count(*) FROM work_order_stages WHERE breached_at IS NOT NULL") == 0
        clock.set(start + timedelta(minutes=6))  # 5 minutes passed with nobody on site
        service.tick_once(conn)
        service.tick_once(conn)  # a second tick escalates nothing twice
    escalations = [h for h in _history(client, alert_id) if h["kind"] == "escalated" and "work_order" in h["data"]]
    assert [(e["data"]["stage"], e["data"]["recipient_group"]) for e in escalations] == [("on_site", "李强 Li Qiang")]
    order = client.get(f"/api/v1/work-orders/{order_id}", headers=OPERATOR).json()
    assert order["stages"][0]["state"] == "breached"
    assert order["stages"][0]["escalated_to"] == "李强 Li Qiang"
    # the escalation went out on the outbox like any alert change: webhooks and MQTT see the supervisor group
    outgoing = number(url, "SELECT count(*) FROM outbox WHERE alert_id = %s AND event_type = 'alert.update'"
                      " AND payload->'alert'->'sla'->>'recipient_group' = 'supervisor'", (alert_id,))
    assert outgoing == 1
    arrived = client.post(f"/api/v1/onsite/{token}/arrived").json()
    assert arrived["stages"][0]["state"] == "late"


def test_roles_and_the_responder_link(client: TestClient, settings: Settings) -> None:
    first, second = _alert(settings, key="a"), _alert(settings, key="b")
    body = {"alert_id": first, "responder_id": "grid-chen"}
    assert client.post("/api/v1/work-orders", json=body, headers=VIEWER).status_code == 403
    assert client.get("/api/v1/responders", headers=VIEWER).status_code == 403
    assert client.post("/api/v1/work-orders", json={**body, "team": "grid"}, headers=OPERATOR).status_code == 422
    a = client.post("/api/v1/work-orders", json=body, headers=OPERATOR).json()
    b = client.post("/api/v1/work-orders", json={"alert_id": second, "team": "maintenance"}, headers=OPERATOR).json()
    assert (b["work_order"]["assignee_name"], b["work_order"]["supervisor_name"]) == (
        "team:maintenance", "黄志刚 Huang Zhigang")
    viewed = client.get("/api/v1/work-orders", params={"alert_id": first}, headers=VIEWER).json()
    assert [w["id"] for w in viewed] == [a["work_order"]["id"]]
    assert viewed[0]["assignee_phone"] is None

    token_a = _token(a["link"])
    assert client.get(f"/api/v1/onsite/{token_a}").json()["id"] == a["work_order"]["id"]  # its own, no other
    assert client.get(f"/api/v1/onsite/{token_a}x").status_code == 404
    assert client.get("/api/v1/work-orders", headers={"Authorization": f"Bearer {token_a}"}).status_code == 401
    again = client.post(f"/api/v1/work-orders/{a['work_order']['id']}/link", headers=OPERATOR).json()
    assert client.get(f"/api/v1/onsite/{token_a}").status_code == 404  # the old link stopped working
    assert client.get(f"/api/v1/onsite/{_token(again)}").status_code == 200

    with connect(settings.require_database_url()) as conn:  # dispatched four days ago: its link has expired
        old = dispatching.dispatch(conn, site=settings.site, alert_id=second, responder_id="grid-wang", team=None,
                                   complexity=None, actor="oscar", now=datetime.now(UTC) - timedelta(days=4))
        conn.commit()
    assert client.get(f"/api/v1/onsite/{old.token}").status_code == 410
    assert client.post(f"/api/v1/onsite/{old.token}/arrived").status_code == 410


def test_admins_manage_the_responder_directory(client: TestClient, settings: Settings) -> None:
    new = {"id": "sec-qian", "name": "钱芳 Qian Fang", "team": "security", "phone": "+86 139 0000 0001",
           "supervisor_id": "sec-lead-li"}
    _alert(settings)
    assert client.post("/api/v1/responders", json=new, headers=OPERATOR).status_code == 403
    assert client.post("/api/v1/responders", json={**new, "supervisor_id": "nobody"}, headers=ADMIN).status_code == 422
    assert client.post("/api/v1/responders", json={**new, "phone": "call me"}, headers=ADMIN).status_code == 422
    assert client.post("/api/v1/responders", json=new, headers=ADMIN).status_code == 201
    assert client.post("/api/v1/responders", json=new, headers=ADMIN).status_code == 409
    changed = client.patch("/api/v1/responders/sec-qian", json={"active": False}, headers=ADMIN).json()
    assert changed["active"] is False
    listed = client.get("/api/v1/responders", params={"team": "security"}, headers=OPERATOR).json()
    assert "sec-qian" not in [r["id"] for r in listed]
    assert "sec-zhao" in [r["id"] for r in listed]


def test_handover_notes_reach_the_next_shift_once(client: TestClient, settings: Settings) -> None:
    with connect(settings.require_database_url()) as conn:
        conn.execute("INSERT INTO api_tokens (token_sha256, name, role) VALUES (%s, 'night-bot', 'operator')",
                     (token_hash("night-token-0123456789"),))
        conn.commit()
    night = {"Authorization": "Bearer night-token-0123456789"}
    note = client.post("/api/v1/handover-notes", json={"body": "Tower 5 smoke detector 0801 flaky; maintenance"
                                                               " booked 09:00"}, headers=OPERATOR)
    assert note.status_code == 201
    assert client.post("/api/v1/handover-notes", json={"body": "x"}, headers=VIEWER).status_code == 403
    assert client.get("/api/v1/handover-notes", params={"unread": True}, headers=OPERATOR).json() == []
    unread = client.get("/api/v1/handover-notes", params={"unread": True}, headers=night).json()
    assert [(n["author"], n["read_at"]) for n in unread] == [("operator-bot", None)]
    read = client.post(f"/api/v1/handover-notes/{unread[0]['id']}/read", headers=night).json()
    assert read["read_at"] is not None
    assert client.get("/api/v1/handover-notes", params={"unread": True}, headers=night).json() == []
    assert len(client.get("/api/v1/handover-notes", headers=night).json()) == 1
    assert client.post("/api/v1/handover-notes/987654/read", headers=night).status_code == 404


def test_a_hard_case_takes_a_plan_and_the_link_shows_the_littering_snapshot(client: TestClient,
                                                                             settings: Settings) -> None:
    event_id = "ab" * 16
    (settings.evidence_dir / "cam-3").mkdir(parents=True, exist_ok=True)
    (settings.evidence_dir / "cam-3" / "snap.jpg").write_bytes(b"\xff\xd8 a jpeg \xff\xd9")
    at = datetime.now(UTC)
    with connect(settings.require_database_url()) as conn:
        insert_littering(conn, LitteringRow(event_id, settings.site, "cam-3", "3", at, at, 1, 9, 14, 2, 10.0, 20.0,
                                            0.9, [[1, 10.0, 20.0]]), {})
        set_evidence(conn, event_id, "cam-3/snap.jpg", None)
        alert_id = raise_alert(conn, AlertDraft(
            type="littering", severity="major", dedup_key="littering:hard", title="Object thrown from floor 14",
            site=settings.site, occurred_at=at, subject={"camera": "cam-3", "building": "3", "floor": 14},
            evidence={"snapshot": f"/api/v1/evidence/{event_id}/snapshot.jpg"}))
        seed_demo_responders(conn, settings.site)
        conn.commit()
    sent = client.post("/api/v1/work-orders", json={"alert_id": alert_id, "team": "grid", "complexity": "hard"},
                       headers=OPERATOR).json()
    token = _token(sent["link"])
    stages = sent["work_order"]["stages"]
    assert [s["stage"] for s in stages] == ["on_site", "plan"]
    assert datetime.fromisoformat(stages[1]["due_at"]) - datetime.fromisoformat(sent["work_order"]["created_at"]) \
        == timedelta(days=1)
    seen = client.get(f"/api/v1/onsite/{token}").json()
    assert seen["snapshot_url"] == f"/api/v1/onsite/{token}/snapshot.jpg"
    picture = client.get(seen["snapshot_url"])
    assert picture.content == b"\xff\xd8 a jpeg \xff\xd9"
    assert picture.headers["content-type"] == "image/jpeg"
    assert client.get(f"/api/v1/onsite/{token}x/snapshot.jpg").status_code == 404

    planned = client.post(f"/api/v1/onsite/{token}/plan", json={"note": "net over the balcony row by Friday"}).json()
    assert [(s["stage"], s["state"]) for s in planned["stages"]] == [("on_site", "pending"), ("plan", "met")]
    assert client.post(f"/api/v1/onsite/{token}/plan", json={"note": ""}).status_code == 422
    comments = client.get(f"/api/v1/alerts/{alert_id}", headers=OPERATOR).json()["comments"]
    assert [(c["author"], c["body"]) for c in comments] == [("team:grid", "net over the balcony row by Friday")]
    simple = client.post("/api/v1/work-orders", json={"alert_id": alert_id, "responder_id": "grid-wang",
                                                      "complexity": "simple"}, headers=OPERATOR).json()
    assert client.post(f"/api/v1/onsite/{_token(simple['link'])}/plan", json={"note": "x"}).status_code == 409
