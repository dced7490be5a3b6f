// What the console derives from an alert: ordering, SLA state, where it is. Pure functions, no DOM.

export const SEVERITY_RANK = { critical: 3, major: 2, minor: 1, info: 0 };
const STATUS_RANK = { open: 0, acknowledged: 1, resolved: 2 };

/** Unacknowledged first, then the most severe, then the one waiting longest. */
export function compareAlerts(a, b) {
  return (STATUS_RANK[a.status] ?? 3) - (STATUS_RANK[b.status] ?? 3)
    || (SEVERITY_RANK[b.severity] ?? -1) - (SEVERITY_RANK[a.severity] ?? -1)
    || Date.parse(a.created_at) - Date.parse(b.created_at)
    || String(a.id).localeCompare(String(b.id));
}

function slaFields(alert) {
  const s = alert.sla ?? {};
  return {
    ackDue: s.ack_due_at ?? alert.ack_due_at,
    resolveDue: s.resolve_due_at ?? alert.resolve_due_at,
    ackBreached: s.ack_breached ?? alert.ack_breached ?? false,
    resolveBreached: s.resolve_breached ?? alert.resolve_breached ?? false,
  };
}

/**
 * The deadline that matters now (acknowledge while open, resolve while acknowledged) and how close it is:
 * "late" once past it, "near" in its last quarter (at least the last minute), else "ok".
 */
export function slaState(alert, now = Date.now()) {
  if (alert.status === "resolved") return { state: "done", remaining: null, label: "met", due: null };
  const f = slaFields(alert);
  const due = alert.status === "open" ? f.ackDue : f.resolveDue;
  const what = alert.status === "open" ? "ack" : "fix";
  if (!due) return { state: "ok", remaining: null, label: "", due: null };
  const dueMs = Date.parse(due);
  const startMs = Date.parse(alert.status === "open" ? alert.created_at : alert.acknowledged_at ?? alert.created_at);
  const remaining = (dueMs - now) / 1000;
  const window = Math.max(60, (dueMs - startMs) / 1000);
  const breached = alert.status === "open" ? f.ackBreached : f.resolveBreached;
  let state = "ok";
  if (remaining <= 0 || breached) state = "late";
  else if (remaining <= Math.max(60, window / 4)) state = "near";
  return { state, remaining, label: what, due };
}

export function where(alert) {
  const s = alert.subject ?? {};
  const building = alert.building ?? s.building;
  const floor = alert.floor ?? s.floor;
  const parts = [];
  if (building) parts.push(`Bldg ${building}`);
  if (floor !== undefined && floor !== null) parts.push(`F${floor}`);
  if (s.unit) parts.push(s.unit);
  if (!parts.length) parts.push(s.camera ?? s.device ?? s.resident ?? "–");
  return parts.join(" · ");
}

export function building(alert) {
  return alert.building ?? alert.subject?.building ?? null;
}

export function matches(alert, filter) {
  if (filter.status === "active" && alert.status === "resolved") return false;
  if (!["active", "all"].includes(filter.status) && alert.status !== filter.status) return false;
  if (filter.type && alert.type !== filter.type) return false;
  if (filter.building && String(building(alert)) !== filter.building) return false;
  if (filter.text) {
    const hay = `${alert.title} ${alert.type} ${where(alert)} ${alert.assignee ?? ""} ${alert.id}`.toLowerCase();
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
