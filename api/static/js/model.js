// What the console derives from an alert: ordering, SLA state, where it is, silences, groups. No DOM.

import { alertTitle, t } from "./i18n.js";

export const SEVERITY_RANK = { critical: 3, major: 2, minor: 1, info: 0 };

// The same tiers as alerts/triage.py (tests/console/test_triage.py holds the two together): what a type puts at
// stake comes first, so SLA escalation of routine alerts never buries a smoke alarm.
export const LIFE_SAFETY = new Set(["smoke", "fire", "gas", "no_sign_of_life", "no_activity", "resident_collapsed",
  "fall", "littering"]);
export const DEVICE = new Set(["device_offline", "camera_offline", "camera_silent", "battery_low", "unknown_metric"]);

/** 0 life-safety, 1 property (and any type not classified yet), 2 device. */
export function priorityRank(type) {
  if (LIFE_SAFETY.has(type)) return 0;
  return DEVICE.has(type) ? 2 : 1;
}

export const isLifeSafety = (alert) => LIFE_SAFETY.has(alert.type);

/** The deadline that matters now: acknowledge while open, resolve after that. */
function deadline(alert) {
  return Date.parse(alert.status === "open" ? alert.sla.ack_due_at : alert.sla.resolve_due_at);
}

/**
 * The queue's order, as the server's ``sort=triage``: resolved last; then the type's inherent priority
 * (life-safety first), then severity, then the nearest deadline, then the oldest.
 */
export function compareAlerts(a, b) {
  return Number(a.status === "resolved") - Number(b.status === "resolved")
    || priorityRank(a.type) - priorityRank(b.type)
    || (SEVERITY_RANK[b.severity] ?? -1) - (SEVERITY_RANK[a.severity] ?? -1)
    || deadline(a) - deadline(b)
    || Date.parse(a.created_at) - Date.parse(b.created_at)
    || String(a.id).localeCompare(String(b.id));
}

/** The silence in force that mutes this alert (same type, and same building unless it covers all), or null. */
export function silenceFor(alert, silences, now = Date.now()) {
  return silences.find((silence) => silence.type === alert.type && Date.parse(silence.ends_at) > now
    && (silence.building === null || silence.building === String(alert.subject.building ?? ""))) ?? null;
}

/** Alerts with the same cause: the same type in the same building (as Alertmanager groups by labels). */
export function groupKey(alert) {
  return `${alert.type}|${alert.subject.building ?? ""}`;
}

/** Sorted alerts -> groups in the order of their first (most urgent) member. */
export function groupAlerts(sorted) {
  const groups = new Map();
  for (const alert of sorted) {
    const key = groupKey(alert);
    if (!groups.has(key)) groups.set(key, { key, members: [] });
    groups.get(key).members.push(alert);
  }
  return [...groups.values()];
}

/**
 * The deadline that matters now (acknowledge while open, resolve while acknowledged) and how close it is:
 * "late" once past it, "near" in its last quarter (at least the last minute), else "ok".
 */
export function slaState(alert, now = Date.now()) {
  if (alert.status === "resolved") return { state: "done", remaining: null, label: "met", due: null };
  const open = alert.status === "open";
  const due = open ? alert.sla.ack_due_at : alert.sla.resolve_due_at;
  const what = open ? "ack" : "fix";
  if (!due) return { state: "ok", remaining: null, label: "", due: null };
  const dueMs = Date.parse(due);
  const startMs = Date.parse(open ? alert.created_at : alert.acknowledged_at ?? alert.created_at);
  const remaining = (dueMs - now) / 1000;
  const window = Math.max(60, (dueMs - startMs) / 1000);
  const breached = open ? alert.sla.ack_breached : alert.sla.resolve_breached;
  let state = "ok";
  if (remaining <= 0 || breached) state = "late";
  else if (remaining <= Math.max(60, window / 4)) state = "near";
  return { state, remaining, label: what, due };
}

/** Where an alert is, from its subject: building, floor and unit, else the camera, device or resident. */
export function where(alert) {
  const subject = alert.subject;
  const parts = [];
  if (subject.building) parts.push(t("Bldg {b}", { b: subject.building }));
  if (subject.floor !== undefined && subject.floor !== null) parts.push(t("F{n}", { n: subject.floor }));
  if (subject.unit) parts.push(subject.unit);
  if (!parts.length) parts.push(subject.camera ?? subject.device ?? subject.resident ?? "–");
  return parts.join(" · ");
}

export function building(alert) {
  return alert.subject.building ?? null;
}

export function matches(alert, filter) {
  if (filter.status === "active" && alert.status === "resolved") return false;
  if (!["active", "all"].includes(filter.status) && alert.status !== filter.status) return false;
  if (filter.type && alert.type !== filter.type) return false;
  if (filter.building && String(building(alert)) !== filter.building) return false;
  if (filter.text) {
    const hay = `${alert.title} ${alertTitle(alert)} ${alert.type} ${where(alert)} ${alert.assignee ?? ""} ${alert.id}`.toLowerCase();
    if (!hay.includes(filter.text.toLowerCase())) return false;
  }
  return true;
}

/** Counts arrivals in a sliding window; a flood is many new alerts in a short time. */
export class FloodMeter {
  constructor(threshold = 10, windowMs = 60_000) {
    this.threshold = threshold;
    this.windowMs = windowMs;
    this.times = [];
  }

  add(now = Date.now()) {
    this.times.push(now);
    return this.count(now);
  }

  count(now = Date.now()) {
    while (this.times.length && this.times[0] < now - this.windowMs) this.times.shift();
    return this.times.length;
  }

  flooding(now = Date.now()) {
    return this.count(now) >= this.threshold;
  }
}
