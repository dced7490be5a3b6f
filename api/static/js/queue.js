// The live alert queue: a store of alerts kept current by the stream, rendered as an ordered list with a
// once-a-second SLA countdown, filters and a keyboard-driven selection.

import { alerts as api } from "./api.js";
import { compareAlerts, FloodMeter, matches, slaState, where, building } from "./model.js";
import { $, clear, duration, el, label, secondsSince } from "./util.js";

const MAX_RESOLVED = 100;

export class AlertQueue {
  constructor({ onSelect, onFlood }) {
    this.alerts = new Map();
    this.selectedId = null;
    this.filter = { status: "active", type: "", building: "", text: "" };
    this.onSelect = onSelect;
    this.onFlood = onFlood;
    this.flood = new FloodMeter();
    this.list = $("#queue");
    this.pending = new Map(); // id -> promise, so a burst of changes to one alert fetches it once
    this.list.addEventListener("click", (event) => {
      const row = event.target.closest("li[data-id]");
      if (row) this.select(row.dataset.id, true);
    });
    setInterval(() => this.tick(), 1000);
  }

  /** Replace the store with what the server has now (at start, after a reset or a reconnect). */
  async reload() {
    const wanted = this.filter.status === "resolved" || this.filter.status === "all";
    const [open, acked, resolved] = await Promise.all([
      api.list({ status: "open", limit: 500 }),
      api.list({ status: "acknowledged", limit: 500 }),
      wanted ? api.list({ status: "resolved", limit: MAX_RESOLVED }) : Promise.resolve([]),
    ]);
    this.alerts.clear();
    for (const alert of [...open, ...acked, ...resolved]) this.alerts.set(String(alert.id), alert);
    this.render();
    this.refreshFacets();
  }

  /** A change notified by the stream: fetch the alert and put it in place. */
  changed(id) {
    id = String(id);
    if (this.pending.has(id)) return this.pending.get(id);
    const job = api.get(id).then((alert) => {
      const isNew = !this.alerts.has(id);
      this.upsert(alert, isNew);
      if (isNew && alert.status !== "resolved") {
        this.flood.add();
        this.onFlood(this.flood.count(), this.flood.flooding());
      }
    }).catch(() => { /* deleted or not visible: leave the list as it is */ })
      .finally(() => this.pending.delete(id));
    this.pending.set(id, job);
    return job;
  }

  upsert(alert, fresh = false) {
    const id = String(alert.id);
    this.alerts.set(id, alert);
    this.render(fresh ? id : null);
    if (id === this.selectedId) this.onSelect(alert, false);
    this.refreshFacets();
  }

  visible() {
    return [...this.alerts.values()].filter((a) => matches(a, this.filter)).sort(compareAlerts);
  }

  render(freshId = null) {
    const rows = this.visible();
    clear(this.list);
    for (const alert of rows) this.list.append(this.row(alert, String(alert.id) === freshId));
    $("#queue-empty").hidden = rows.length > 0;
    const open = [...this.alerts.values()].filter((a) => a.status === "open").length;
    $("#open-count").textContent = open ? String(open) : "";
    this.tick();
  }

  row(alert, fresh) {
    const id = String(alert.id);
    return el("li", {
      class: `sev-${alert.severity} status-${alert.status}${id === this.selectedId ? " selected" : ""}`
        + (fresh ? " fresh" : ""),
      dataset: { id, status: alert.status, type: alert.type },
      "aria-selected": id === this.selectedId ? "true" : "false",
    },
    el("span", {}, el("span", { class: `sev sev-${alert.severity}` }, alert.severity)),
    el("span", { class: "title", title: alert.title },
      alert.title, alert.count > 1 ? el("span", { class: "badge" }, ` ×${alert.count}`) : null),
    el("span", { class: "where" }, where(alert)),
    el("span", { class: "age", dataset: { since: alert.created_at } }, ""),
    el("span", { class: "sla" }, ""),
    el("span", {}, el("span", { class: `badge ${alert.status}` }, label(alert.status)),
      alert.assignee ? el("span", { class: "muted" }, ` ${alert.assignee}`) : null));
  }

  /** Once a second: ages and SLA countdowns move without re-rendering the list. */
  tick() {
    const now = Date.now();
    for (const row of this.list.children) {
      const alert = this.alerts.get(row.dataset.id);
      if (!alert) continue;
      row.querySelector(".age").textContent = duration(secondsSince(alert.created_at, now));
      const sla = slaState(alert, now);
      const cell = row.querySelector(".sla");
      cell.className = `sla sla-${sla.state}`;
      row.dataset.sla = sla.state;
      if (sla.remaining === null) cell.textContent = sla.state === "done" ? "✓" : "";
      else if (sla.remaining <= 0) cell.textContent = `${sla.label} +${duration(-sla.remaining)}`;
      else cell.textContent = `${sla.label} ${duration(sla.remaining)}`;
    }
  }

  select(id, open = false) {
    this.selectedId = id === null ? null : String(id);
    for (const row of this.list.children) {
      const on = row.dataset.id === this.selectedId;
      row.classList.toggle("selected", on);
      row.setAttribute("aria-selected", on ? "true" : "false");
      if (on) row.scrollIntoView({ block: "nearest" });
    }
    const alert = this.alerts.get(this.selectedId);
    if (alert) this.onSelect(alert, open);
  }

  move(step) {
    const rows = [...this.list.children];
    if (!rows.length) return;
    const at = rows.findIndex((r) => r.dataset.id === this.selectedId);
    const next = at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + step));
    this.select(rows[next].dataset.id, true);
  }

  selected() {
    return this.alerts.get(this.selectedId) ?? null;
  }

  setFilter(changes) {
    const reload = "status" in changes && changes.status !== this.filter.status;
    Object.assign(this.filter, changes);
    if (reload) this.reload();
    else this.render();
  }

  refreshFacets() {
    const types = new Set();
    const buildings = new Set();
    for (const alert of this.alerts.values()) {
      types.add(alert.type);
      const b = building(alert);
      if (b !== null && b !== undefined) buildings.add(String(b));
    }
    fillSelect($("#filter-type"), types, "All types", this.filter.type);
    fillSelect($("#filter-building"), buildings, "All buildings", this.filter.building);
  }
}

function fillSelect(select, values, allLabel, current) {
  const wanted = [...new Set([...values, ...(current ? [current] : [])])].sort();
  const have = [...select.options].slice(1).map((o) => o.value);
  if (have.join("\u0000") === wanted.join("\u0000")) return;
  clear(select).append(el("option", { value: "" }, allLabel), ...wanted.map((v) => el("option", { value: v },
    label(v))));
  select.value = current;
}
