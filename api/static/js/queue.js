// The live alert queue: a store of alerts kept current by the stream, rendered in triage order (life-safety first)
// with a pinned lane of unacknowledged life-safety alerts, alerts of the same cause collapsed into one row, silenced
// alerts greyed, a once-a-second SLA countdown, filters and a keyboard-driven selection.

import { alerts as api } from "./api.js";
import { alertTitle, t, word } from "./i18n.js";
import {
  building, compareAlerts, FloodMeter, groupAlerts, isLifeSafety, matches, silenceFor, slaState, where,
} from "./model.js";
import { $, clear, duration, el, label, localTime, secondsSince } from "./util.js";

const MAX_RESOLVED = 100;

export class AlertQueue {
  constructor({ onSelect, onFlood, onAlarm }) {
    this.alerts = new Map();
    this.silences = [];
    this.expanded = new Set(); // group keys the operator opened
    this.selectedId = null;
    this.filter = { status: "active", type: "", building: "", text: "" };
    this.onSelect = onSelect;
    this.onFlood = onFlood;
    this.onAlarm = onAlarm;
    this.flood = new FloodMeter();
    this.list = $("#queue");
    this.pinned = $("#pinned");
    this.pending = new Map(); // id -> promise, so a burst of changes to one alert fetches it once
    for (const list of [this.list, this.pinned]) {
      list.addEventListener("click", (event) => {
        const toggle = event.target.closest("button[data-toggle]");
        if (toggle) {
          this.toggleGroup(toggle.dataset.toggle);
          return;
        }
        const row = event.target.closest("li[data-id]");
        if (row) this.select(row.dataset.id, true);
      });
    }
    setInterval(() => this.tick(), 1000);
  }

  /** Replace the store with what the server has now (at start, after a reset or a reconnect). */
  async reload() {
    const wanted = this.filter.status === "resolved" || this.filter.status === "all";
    const [open, acked, resolved, silences] = await Promise.all([
      api.list({ status: "open", limit: 500, sort: "triage" }),
      api.list({ status: "acknowledged", limit: 500, sort: "triage" }),
      wanted ? api.list({ status: "resolved", limit: MAX_RESOLVED }) : Promise.resolve([]),
      api.silences(),
    ]);
    this.alerts.clear();
    this.silences = silences;
    for (const alert of [...open, ...acked, ...resolved]) this.alerts.set(String(alert.id), alert);
    this.render();
    this.refreshFacets();
  }

  async reloadSilences() {
    this.silences = await api.silences();
    this.render();
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
        const urgent = alert.severity === "critical" || isLifeSafety(alert);
        if (urgent && alert.status === "open" && !silenceFor(alert, this.silences)) this.onAlarm(alert);
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

  /** Open alerts the operator is looking at (what a bulk acknowledge would take). */
  openShown() {
    return this.visible().filter((a) => a.status === "open");
  }

  render(freshId = null) {
    const rows = this.visible();
    clear(this.list);
    for (const group of groupAlerts(rows)) {
      const members = group.members;
      const open = members.length > 1 && this.expanded.has(group.key);
      const shown = members.length > 1 && !open ? [members[0]] : members;
      shown.forEach((alert, index) => this.list.append(this.row(alert, String(alert.id) === freshId,
        index === 0 ? { key: group.key, size: members.length, open } : { member: true })));
    }
    $("#queue-empty").hidden = rows.length > 0;
    const lane = [...this.alerts.values()].filter((a) => a.status === "open" && isLifeSafety(a)
      && !silenceFor(a, this.silences)).sort(compareAlerts);
    clear(this.pinned);
    for (const alert of lane) this.pinned.append(this.row(alert, String(alert.id) === freshId, {}));
    $("#pinned-lane").hidden = lane.length === 0;
    const open = [...this.alerts.values()].filter((a) => a.status === "open").length;
    $("#open-count").textContent = open ? String(open) : "";
    this.renderSilences();
    this.tick();
  }

  row(alert, fresh, group) {
    const id = String(alert.id);
    const silence = silenceFor(alert, this.silences);
    const classes = [`sev-${alert.severity}`, `status-${alert.status}`, id === this.selectedId ? "selected" : "",
      fresh ? "fresh" : "", silence ? "silenced" : "", group.member ? "member" : "", group.size > 1 ? "group" : ""];
    const toggle = group.size > 1 ? el("button", { class: "ghost group-toggle", type: "button",
      "data-toggle": group.key }, group.open ? t("Collapse") : t("Show all")) : null;
    return el("li", {
      class: classes.filter(Boolean).join(" "),
      dataset: { id, status: alert.status, type: alert.type, ...(group.size > 1 ? { groupSize: group.size } : {}),
        ...(silence ? { silenced: "true" } : {}) },
      "aria-selected": id === this.selectedId ? "true" : "false",
      title: silence ? t("Silenced until {time}: {reason}", { time: localTime(silence.ends_at),
        reason: silence.reason }) : null,
    },
    el("span", {}, el("span", { class: `sev sev-${alert.severity}` }, word(alert.severity))),
    el("span", { class: "title-cell" },
      el("span", { class: "title" }, alertTitle(alert),
        alert.count > 1 ? el("span", { class: "badge" }, ` ×${alert.count}`) : null),
      group.size > 1 ? el("span", { class: "badge group-count" }, t("{n} alerts", { n: group.size })) : null,
      toggle, silence ? el("span", { class: "badge silenced-badge" }, t("silenced")) : null),
    el("span", { class: "where" }, where(alert)),
    el("span", { class: "age", dataset: { since: alert.created_at } }, ""),
    el("span", { class: "sla" }, ""),
    el("span", {}, el("span", { class: `badge ${alert.status}` }, word(alert.status)),
      alert.assignee ? el("span", { class: "muted" }, ` ${alert.assignee}`) : null));
  }

  renderSilences() {
    const box = clear($("#silences"));
    const now = Date.now();
    const live = this.silences.filter((s) => Date.parse(s.ends_at) > now);
    $("#silences-box").hidden = live.length === 0;
    for (const silence of live) {
      box.append(el("li", { dataset: { silence: silence.id } },
        `${word(silence.type)}${silence.building ? ` · ${t("Bldg {b}", { b: silence.building })}` : ""} · `
        + t("Silenced until {time}: {reason}", { time: localTime(silence.ends_at), reason: silence.reason }),
        " ", el("button", { class: "ghost", type: "button", "data-end-silence": silence.id }, t("End"))));
    }
  }

  toggleGroup(key) {
    if (this.expanded.has(key)) this.expanded.delete(key);
    else this.expanded.add(key);
    this.render();
  }

  /** Once a second: ages and SLA countdowns move without re-rendering the list. */
  tick() {
    const now = Date.now();
    for (const row of [...this.list.children, ...this.pinned.children]) {
      const alert = this.alerts.get(row.dataset.id);
      if (!alert) continue;
      row.querySelector(".age").textContent = duration(secondsSince(alert.created_at, now));
      const sla = slaState(alert, now);
      const cell = row.querySelector(".sla");
      cell.className = `sla sla-${sla.state}`;
      row.dataset.sla = sla.state;
      if (sla.remaining === null) cell.textContent = sla.state === "done" ? "✓" : "";
      else if (sla.remaining <= 0) cell.textContent = `${t(sla.label)} +${duration(-sla.remaining)}`;
      else cell.textContent = `${t(sla.label)} ${duration(sla.remaining)}`;
    }
  }

  select(id, open = false) {
    this.selectedId = id === null ? null : String(id);
    for (const row of [...this.list.children, ...this.pinned.children]) {
      const on = row.dataset.id === this.selectedId;
      row.classList.toggle("selected", on);
      row.setAttribute("aria-selected", on ? "true" : "false");
      if (on && row.parentElement === this.list) row.scrollIntoView({ block: "nearest" });
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
    fillSelect($("#filter-type"), types, t("All types"), this.filter.type, word);
    fillSelect($("#filter-building"), buildings, t("All buildings"), this.filter.building,
      (b) => t("Bldg {b}", { b }));
  }
}

function fillSelect(select, values, allLabel, current, show = label) {
  const wanted = [...new Set([...values, ...(current ? [current] : [])])].sort();
  const have = [...select.options].map((o) => `${o.value}=${o.textContent}`);
  const next = [`=${allLabel}`, ...wanted.map((v) => `${v}=${show(v)}`)];
  if (have.join("\u0000") === next.join("\u0000")) return;
  clear(select).append(el("option", { value: "" }, allLabel), ...wanted.map((v) => el("option", { value: v },
    show(v))));
  select.value = current;
}
