"""Dispatch: send an alert to a responder or a team as a work order, the responder's on-site confirmation, plan and
solution through their link, and the stage escalation the SLA tick runs.

Every change of a work order is also a change of its alert (history, outbox, notification through
``alerts.change_log``), in the caller's transaction. The stage rules are ``alerts.dispatch``'s.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from alerts import actions
from alerts.change_log import record_change
from alerts.dispatch import (
    Complexity,
    Stage,
    StageName,
    StagePolicy,
    arrive,
    complexity_for,
    due_breaches,
    link_usable,
    meet,
    plan,
    solve,
)
from alerts.lifecycle import check_transition
from alerts.payloads import alert_json
from alerts.sla import SlaPolicy
from store import alerts as alert_rows
from store import responders as responder_rows
from store import work_orders as wo_rows
from store.alerts import AlertRow
from store.db import Conn
from store.work_orders import NewWorkOrder, StageRow, WorkOrderRow

# How a stage reads in the alert's history ("arrival deadline missed, to Li Qiang").
STAGE_WORDS: dict[str, str] = {"on_site": "arrival", "solve": "solution", "plan": "plan"}
_BRIEF_SUBJECT = ("camera", "building", "floor", "unit", "device", "gate", "column", "resident")


class LinkExpiredError(Exception):
    """The responder's link has expired: the operator issues a new one."""


@dataclass(frozen=True)
class Dispatched:
    """A new work order, with the one copy of its link token that ever leaves the server."""

    order: WorkOrderRow
    token: str


def token_sha256(token: str) -> str:
    """What a link token is stored and looked up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def _brief(alert: AlertRow) -> dict[str, object]:
    """What the responder needs to act: type, place, title and the evidence links (a littering snapshot, clip)."""
    body = alert_json(alert)
    place = {k: alert.subject[k] for k in _BRIEF_SUBJECT if k in alert.subject}
    return {"type": alert.type, "title": alert.title, "severity": alert.severity, "building": alert.building,
            "floor": alert.floor, "place": place, "created_at": alert.created_at.isoformat(),
            "evidence": dict(body["links"]["evidence"])}


def _open_alert(conn: Conn, alert_id: str) -> AlertRow:
    row = alert_rows.get_alert(conn, alert_id, lock=True)
    if row is None:
        raise KeyError(alert_id)
    if row.status == "resolved":
        check_transition("resolved", "acknowledged")  # raises LifecycleError: nothing to dispatch
    return row


def dispatch(conn: Conn, *, site: str, alert_id: str, responder_id: str | None, team: str | None,
             complexity: Complexity | None, actor: str, now: datetime,
             policy: StagePolicy | None = None) -> Dispatched:
    """Send an open alert to a named responder (their team, phone and supervisor) or to a whole team, with one SLA
    clock per 54321 stage; the alert's assignee becomes that name.

    Raises:
        KeyError: when there is no such alert.
        LookupError: when the responder is unknown or inactive, or a team-wide dispatch names no team.
        LifecycleError: when the alert is resolved.
    """
    policy = policy or StagePolicy()
    alert = _open_alert(conn, alert_id)
    if responder_id is not None:
        person = responder_rows.get_responder(conn, site, responder_id)
        if person is None or not person.active:
            raise LookupError(f"no active responder {responder_id!r}")
        supervisor = (responder_rows.get_responder(conn, site, person.supervisor_id)
                      if person.supervisor_id else None)
        team_name, name, phone = person.team, person.name, person.phone
    elif team is not None:
        supervisor = responder_rows.team_supervisor(conn, site, team)
        team_name, name, phone = team, f"team:{team}", None
    else:
        raise LookupError("name a responder or a team")
    level = complexity or complexity_for(alert.sla_class)
    token = secrets.token_urlsafe(32)
    order = wo_rows.insert(conn, NewWorkOrder(
        id=f"wo_{uuid.uuid4().hex[:16]}", site=site, alert_id=alert.id, team=team_name, responder_id=responder_id,
        assignee_name=name, assignee_phone=phone, supervisor_id=supervisor.id if supervisor else None,
        supervisor_name=supervisor.name if supervisor else None, complexity=level, brief=_brief(alert),
        token_sha256=token_sha256(token), token_expires_at=now + policy.link_valid_for, created_by=actor,
        created_at=now), [(s.name, s.due_at) for s in policy.stages(level, now)])
    row = alert_rows.update_alert(conn, alert.id, {"assignee": name, "updated_at": now})
    record_change(conn, row, "assigned", actor, {"assignee": name, "previous": alert.assignee,
                                                   "work_order": order.id, "team": team_name,
                                                   "complexity": level}, now)
    return Dispatched(order, token)


def new_link(conn: Conn, site: str, work_order_id: str, now: datetime, policy: StagePolicy | None = None) -> str:
    """Issue a new link for a work order (the old one stops working) and return its token.

    Raises:
        KeyError: when there is no such work order.
    """
    policy = policy or StagePolicy()
    if wo_rows.get(conn, site, work_order_id, lock=True) is None:
        raise KeyError(work_order_id)
    token = secrets.token_urlsafe(32)
    wo_rows.update(conn, work_order_id, {"token_sha256": token_sha256(token),
                                         "token_expires_at": now + policy.link_valid_for, "updated_at": now})
    return token


def open_link(conn: Conn, token: str, now: datetime, *, lock: bool = False) -> WorkOrderRow:
    """The work order a responder's link opens: that one and no other.

    Raises:
        KeyError: when no work order has this token.
        LinkExpiredError: when the link has expired.
    """
    match = wo_rows.by_token(conn, token_sha256(token))
    if match is None:
        raise KeyError("link")
    if not link_usable(match.token_expires_at, now):
        raise LinkExpiredError(match.id)
    order = wo_rows.get(conn, match.site, match.id, lock=lock)
    if order is None:
        raise KeyError(match.id)
    return order


def stages_of(conn: Conn, order_id: str) -> list[StageRow]:
    """One work order's stage clocks."""
    return wo_rows.stages(conn, [order_id])[order_id]


def _pure(rows: list[StageRow]) -> list[Stage]:
    return [Stage(_stage_name(r.stage), r.due_at, r.met_at, r.breached_at, r.escalated_to) for r in rows]


def _stage_name(name: str) -> StageName:
    for known in ("on_site", "solve", "plan"):
        if name == known:
            return known
    raise ValueError(f"unknown stage {name!r}")


def _save(conn: Conn, order_id: str, before: list[Stage], after: list[Stage]) -> None:
    for old, new in zip(before, after, strict=True):
        if new != old:
            wo_rows.save_stage(conn, StageRow(order_id, new.name, new.due_at, new.met_at, new.breached_at,
                                              new.escalated_to))


def _meet(conn: Conn, order: WorkOrderRow, names: tuple[StageName, ...], now: datetime) -> None:
    before = _pure(stages_of(conn, order.id))
    _save(conn, order.id, before, meet(before, names, now))


def confirm_on_site(conn: Conn, token: str, now: datetime) -> WorkOrderRow:
    """The responder is there: meets the on-site stage and acknowledges the alert (as the responder, naming the work
    order) if nobody had.

    Raises:
        KeyError: when no work order has this token.
        LinkExpiredError: when the link has expired.
        DispatchError: when on site was already confirmed or the work order is solved.
    """
    order = open_link(conn, token, now, lock=True)
    status = arrive(order.status)
    _meet(conn, order, ("on_site",), now)
    order = wo_rows.update(conn, order.id, {"status": status, "on_site_at": now, "updated_at": now})
    alert = alert_rows.get_alert(conn, order.alert_id, lock=True)
    if alert is not None and alert.status == "open":
        actions.acknowledge(conn, alert.id, order.assignee_name, now, {"work_order": order.id, "on_site": True})
    return order


def record_plan(conn: Conn, token: str, note: str, now: datetime) -> WorkOrderRow:
    """A hard case's plan: meets the plan stage; the plan becomes a comment on the alert, by the responder.

    Raises:
        KeyError: when no work order has this token.
        LinkExpiredError: when the link has expired.
        DispatchError: when the work order is not a hard case or is solved.
    """
    order = open_link(conn, token, now, lock=True)
    names = plan(order.status, order.complexity)
    _meet(conn, order, names, now)
    order = wo_rows.update(conn, order.id, {"plan_note": note, "updated_at": now})
    actions.comment(conn, order.alert_id, order.assignee_name, note, now)
    return order


def mark_solved(conn: Conn, token: str, note: str, now: datetime) -> WorkOrderRow:
    """The responder solved the problem: meets the remaining stages and resolves the alert with their note.

    Raises:
        KeyError: when no work order has this token.
        LinkExpiredError: when the link has expired.
        DispatchError: when the work order is already solved.
    """
    order = open_link(conn, token, now, lock=True)
    status, names = solve(order.status)
    _meet(conn, order, names, now)
    order = wo_rows.update(conn, order.id, {"status": status, "solved_at": now, "solve_note": note,
                                            "on_site_at": order.on_site_at or now, "updated_at": now})
    alert = alert_rows.get_alert(conn, order.alert_id)
    if alert is not None and alert.status != "resolved":
        actions.resolve(conn, alert.id, "true_positive", order.assignee_name, now, note)
    return order


def escalate_due_stages(conn: Conn, now: datetime, sla: SlaPolicy, site: str | None = None,
                        limit: int = 200) -> int:
    """Mark every stage past due as breached and escalate it to the work order's supervisor: recorded on the stage
    and in the alert's history, and sent on the outbox with the alert moved to the supervisor group.
    """
    escalated = 0
    for order_id in wo_rows.due_orders(conn, site, now, limit):
        escalated += _escalate_one(conn, order_id, now, sla)
    return escalated


def _escalate_one(conn: Conn, order_id: str, now: datetime, sla: SlaPolicy) -> int:
    order = wo_rows.get_any(conn, order_id)
    if order is None:
        return 0
    before = _pure(stages_of(conn, order_id))
    breached = {s.name for s in due_breaches(before, now)}
    alert = alert_rows.get_alert(conn, order.alert_id, lock=True)
    if not breached or alert is None:
        return 0
    to = order.supervisor_name or sla.group(1)
    after = [Stage(s.name, s.due_at, s.met_at, now, to) if s.name in breached else s for s in before]
    _save(conn, order_id, before, after)
    group = sla.group(max(alert.escalation_level, 1))
    for stage in (s for s in after if s.name in breached):
        alert = alert_rows.update_alert(conn, alert.id, {"recipient_group": group, "updated_at": now})
        record_change(conn, alert, "escalated", "system", {
            "breach": STAGE_WORDS[stage.name], "stage": stage.name, "due_at": stage.due_at.isoformat(),
            "work_order": order_id, "recipient_group": to, "supervisor": order.supervisor_name}, now)
    return len(breached)
