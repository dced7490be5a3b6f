// The other views: elders being watched, cameras, the estate overview with charts, and users (admin).

import * as api from "./api.js";
import { sparkline, stackedBars } from "./charts.js";
import { $, clear, duration, el, label, localTime, secondsSince, toast } from "./util.js";

// --- elders --------------------------------------------------------------------------------------------------

function elderColour(r) {
  if (r.away_reason || r.presence === "out") return "blue";
  if (r.presence === "unknown") return "grey";
  const hours = r.hours_at_home ?? 0;
  if (r.open_alerts > 0 || hours >= r.not_out_hours) return "red";
  if (hours >= r.not_out_hours * 0.75) return "amber";
  return "green";
}

function lastSignal(r) {
  const entries = Object.entries(r.last_signals ?? {}).map(([kind, sig]) => [kind, typeof sig === "string" ? sig
    : sig?.at, sig?.detail]).filter(([, at]) => at);
  if (!entries.length) return r.last_activity_at ? `${duration(secondsSince(r.last_activity_at))} ago` : "–";
  entries.sort((a, b) => Date.parse(b[1]) - Date.parse(a[1]));
  const [kind, at, detail] = entries[0];
  return `${label(kind)} ${duration(secondsSince(at))} ago${detail ? ` (${detail})` : ""}`;
}

export function contactText(c) {
  if (typeof c === "string") return c;
  return [c.name ?? c.role ?? c.relation, c.phone].filter(Boolean).join(" ");
}

export async function showElders(can) {
  const rows = await api.residents.elders();
  const body = clear($("#elders tbody"));
  let red = 0;
  for (const r of rows) {
    const colour = elderColour(r);
    if (colour === "red") red += 1;
    const state = r.away_reason ?? r.presence ?? "unknown";
    const hours = r.presence === "home" ? r.hours_at_home : r.hours_since_last_out;
    const mark = (reason) => el("button", {
      disabled: !can("admin") || Boolean(r.away_reason), "data-action": reason,
      title: can("admin") ? `Pause the rules: ${reason} for ${reason === "hospital" ? 3 : 1} day(s)`
        : "Needs the admin role",
      onclick: async () => {
        try {
          await api.residents.markAway(r.resident_id, reason, reason === "hospital" ? 72 : 24);
          toast(`${r.resident_id} marked ${reason}`);
          showElders(can);
        } catch (error) {
          toast(`Failed: ${error.message}`, true);
        }
      },
    }, reason);
    body.append(el("tr", { dataset: { resident: r.resident_id, colour }, title: r.explanation ?? "" },
      el("td", {}, el("span", { class: `dot ${colour}` }), r.resident_id),
      el("td", {}, [r.building ? `Bldg ${r.building}` : null, r.unit].filter(Boolean).join(" · ")),
      el("td", {}, label(state), r.lives_alone ? el("span", { class: "muted" }, " · alone") : null,
        r.open_alerts ? el("span", { class: "badge open" }, ` ${r.open_alerts} alert`) : null),
      el("td", {}, hours === null || hours === undefined ? "–" : Number(hours).toFixed(1)),
      el("td", {}, lastSignal(r)),
      el("td", {}, (r.contacts ?? []).map(contactText).join(", ") || "–"),
      el("td", {}, mark("away"), " ", mark("hospital"))));
  }
  if (!rows.length) body.append(el("tr", {}, el("td", { colspan: 7, class: "empty" }, "No elderly residents.")));
  $("#elders-summary").textContent = `${rows.length} watched, ${red} need attention`;
}

// --- cameras -------------------------------------------------------------------------------------------------

const cameraTiles = new Map(); // camera id -> {figure, img, meta, dot, overlay}: refreshes swap frames in place

function cameraTile(id, c) {
  const tile = { overlay: false };
  const fresh = (url) => `${url}${url.includes("?") ? "&" : "?"}t=${Date.now()}`;
  tile.img = el("img", { alt: `latest frame of ${id}`, title: "Click: calibration overlay" });
  tile.refresh = (cam) => {
    tile.img.src = fresh(tile.overlay ? cam.calibration ?? api.cameras.overlayUrl(id)
      : cam.latest_frame ?? api.cameras.frameUrl(id));
  };
  tile.img.addEventListener("click", () => {
    tile.overlay = !tile.overlay;
    tile.img.title = tile.overlay ? "Calibration overlay (click: live frame)" : "Click: calibration overlay";
    tile.refresh(tile.camera);
  });
  tile.dot = el("span", { class: "dot grey" });
  tile.meta = el("span", { class: "muted" });
  tile.figure = el("figure", { class: "camera", dataset: { camera: id } }, tile.img,
    el("figcaption", { class: "meta" }, el("span", {}, tile.dot, c.name ?? id,
      c.building ? el("span", { class: "muted" }, ` · Bldg ${c.building}`) : null), tile.meta));
  return tile;
}

export async function showCameras() {
  const cams = await api.cameras.list();
  const grid = $("#cameras");
  let silent = 0;
  const seen = new Set();
  for (const c of cams) {
    const id = c.camera_id ?? c.id;
    seen.add(id);
    const age = c.age_s ?? (c.last_frame_at ? secondsSince(c.last_frame_at) : null);
    const health = age === null || age === undefined ? "grey" : c.silent || age > 60 ? "red" : age > 5 ? "amber"
      : "green";
    if (health !== "green") silent += 1;
    let tile = cameraTiles.get(id);
    if (!tile) {
      tile = cameraTile(id, c);
      cameraTiles.set(id, tile);
    }
    tile.camera = c;
    tile.figure.dataset.health = health;
    tile.dot.className = `dot ${health}`;
    const fps = c.fps === undefined || c.fps === null ? "–" : Number(c.fps).toFixed(1);
    tile.meta.textContent = `${fps} fps · ${age === null || age === undefined ? "no frames" : `${duration(age)} ago`}`
      + (c.width && c.height ? ` · ${c.width}×${c.height}` : "");
    tile.refresh(c);
    grid.append(tile.figure); // keeps camera order; an existing tile just moves into place
  }
  for (const [id, tile] of cameraTiles) {
    if (!seen.has(id)) {
      tile.figure.remove();
      cameraTiles.delete(id);
    }
  }
  for (const node of [...grid.children]) if (!node.dataset.camera) node.remove();
  if (!cams.length) grid.append(el("p", { class: "empty" }, "No cameras have sent frames yet."));
  $("#cameras-summary").textContent = `${cams.length} cameras, ${silent} not streaming`;
}

// --- overview ------------------------------------------------------------------------------------------------

export async function showOverview() {
  const [summary, hourly, daily, sparks] = await Promise.all([
    api.overview.summary(), api.overview.counts("hour"), api.overview.counts("day"), api.overview.sparklines(),
  ]);
  const box = clear($("#buildings"));
  for (const b of summary.buildings) {
    const bits = [];
    if (b.open) bits.push(`${b.open} open`);
    if (b.acknowledged) bits.push(`${b.acknowledged} in hand`);
    if (b.breached) bits.push(`${b.breached} overdue`);
    if (b.offline_devices) bits.push(`${b.offline_devices} offline`);
    box.append(el("div", { class: `building ${b.colour}`, dataset: { building: b.building, colour: b.colour } },
      `Bldg ${b.building}`, el("small", {}, bits.join(", ") || "quiet")));
  }
  if (!summary.buildings.length) box.append(el("p", { class: "empty" }, "No buildings known yet."));
  stackedBars($("#chart-hour"), hourly, { tickEvery: 6 });
  stackedBars($("#chart-day"), daily, { tickEvery: 2, format: (d) => `${d.getMonth() + 1}/${d.getDate()}` });
  const offline = clear($("#offline"));
  const counts = summary.devices;
  offline.append(el("li", { class: "muted" }, `${counts.online ?? 0} online · ${counts.offline ?? 0} offline · `
    + `${counts.unknown ?? 0} unknown`));
  for (const d of summary.offline_devices) {
    offline.append(el("li", { dataset: { device: d.device_id } }, el("span", { class: "dot red" }), d.device_id,
      el("span", { class: "muted" }, ` ${d.kind}${d.building ? ` · Bldg ${d.building}` : ""} · last seen `
        + (d.last_seen ? `${duration(secondsSince(d.last_seen))} ago` : "never"))));
  }
  const lines = clear($("#sparklines"));
  for (const s of sparks) {
    lines.append(el("div", { class: "spark", dataset: { device: s.device_id, metric: s.metric } },
      el("div", { class: "label" }, el("span", { title: s.device_id }, s.device_id),
        el("span", { class: "muted", title: label(s.metric) }, `${label(s.metric)} ${s.last}`)), sparkline(s.points)));
  }
  if (!sparks.length) lines.append(el("p", { class: "empty" }, "No telemetry in the last hour."));
}

// --- users ---------------------------------------------------------------------------------------------------

export async function showUsers() {
  const rows = await api.users.list();
  const body = clear($("#users tbody"));
  for (const u of rows) {
    const role = el("select", { "aria-label": `role of ${u.username}` },
      ["viewer", "operator", "admin"].map((r) => el("option", { selected: r === u.role }, r)));
    role.addEventListener("change", () => change(u.username, { role: role.value }));
    body.append(el("tr", { dataset: { user: u.username } }, el("td", {}, u.username), el("td", {}, role),
      el("td", {}, localTime(u.created_at)), el("td", {}, u.disabled ? "disabled" : "active"),
      el("td", {}, el("button", { onclick: () => change(u.username, { disabled: !u.disabled }) },
        u.disabled ? "Enable" : "Disable"))));
  }
}

async function change(name, fields) {
  try {
    await api.users.change(name, fields);
    toast(`${name} updated`);
  } catch (error) {
    toast(`Failed: ${error.message}`, true);
  }
  showUsers();
}

$("#user-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    await api.users.add(Object.fromEntries(form));
    event.target.reset();
    $("#user-error").textContent = "";
    showUsers();
  } catch (error) {
    $("#user-error").textContent = error.message;
  }
});
