// The estate map: an SVG site plan drawn from GET /api/v1/estate (towers, gates, cameras from the estate's
// configuration), each tower coloured by its state (quiet, alerts, camera offline) and a pin per unresolved alert,
// coloured by severity and ringed when it is life-safety; a click on a pin opens the alert in the queue.
// Refreshed every few seconds while the Estate view is open.

import { get } from "./api.js";
import { t, word } from "./i18n.js";
import { $, clear } from "./util.js";

const SVG = "http://www.w3.org/2000/svg";
const REFRESH_MS = 5000;
const SEVERITY_COLOUR = { critical: "#d93025", major: "#f28b24", minor: "#e8c21b", info: "#8fa3b8" };
const STATE_COLOUR = { quiet: "#3b82c4", camera_offline: "#8a929c" };
const PIN_R = 9;

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function stateText(tower) {
  if (tower.state === "alerts") {
    const bits = [];
    if (tower.open) bits.push(t("{n} open", { n: tower.open }));
    if (tower.acknowledged) bits.push(t("{n} in hand", { n: tower.acknowledged }));
    return bits.join(", ");
  }
  if (tower.state === "camera_offline") return t("camera offline");
  return t("quiet");
}

/** The tower's outline colour: its worst alert's severity, else its state; the fill is a dark tint of it. */
function towerColour(tower) {
  if (tower.state === "alerts") return SEVERITY_COLOUR[tower.worst_severity] ?? SEVERITY_COLOUR.info;
  return STATE_COLOUR[tower.state];
}

function pinTitle(pin) {
  const where = pin.place ? ` · ${pin.floor !== null && pin.window_column !== null
    ? t("floor {f}, column {c}", { f: pin.floor, c: pin.window_column }) + (pin.unit ? ` (${pin.unit})` : "")
    : t("floor {f}", { f: pin.floor })}` : "";
  return `${word(pin.type)} · ${word(pin.severity)} · ${word(pin.status)}${where}`;
}

/** Pins sit in rows inside the tower's footprint, most urgent first; more than fit are summed up as "+n". */
function drawPins(group, tower, pins) {
  const rank = { life: 0, property: 1, device: 2 };
  const order = { critical: 0, major: 1, minor: 2, info: 3 };
  pins.sort((a, b) => rank[a.priority] - rank[b.priority] || order[a.severity] - order[b.severity]);
  const step = PIN_R * 2 + 4;
  const perRow = Math.max(1, Math.floor((tower.width - 8) / step));
  const rows = Math.max(1, Math.floor((tower.height - 34) / step));
  const fit = pins.length > perRow * rows ? perRow * rows - 1 : pins.length;
  pins.slice(0, fit).forEach((pin, i) => {
    const cx = tower.x + 4 + PIN_R + (i % perRow) * step;
    const cy = tower.y + 30 + PIN_R + Math.floor(i / perRow) * step;
    group.append(svg("g", { class: "pin", tabindex: 0, role: "link", cursor: "pointer",
      dataset: { alert: pin.alert_id, severity: pin.severity, priority: pin.priority },
      onclick: () => { location.hash = `#/alerts/${encodeURIComponent(pin.alert_id)}`; },
      onkeydown: (event) => { if (event.key === "Enter") location.hash = `#/alerts/${pin.alert_id}`; } },
    svg("title", {}, pinTitle(pin)),
    pin.priority === "life" ? svg("circle", { cx, cy, r: PIN_R + 2, fill: "none", stroke: "#fff", "stroke-width": 2 })
      : null,
    svg("circle", { cx, cy, r: PIN_R, fill: SEVERITY_COLOUR[pin.severity], stroke: "#0b1118", "stroke-width": 1.5,
      "stroke-dasharray": pin.status === "acknowledged" ? "3 2" : null }),
    svg("text", { x: cx, y: cy + 4, "text-anchor": "middle", "font-size": 11, "font-weight": 700, fill: "#0b1118",
      "pointer-events": "none" }, pin.priority === "life" ? "!" : "")));
  });
  if (fit < pins.length) {
    const i = fit;
    group.append(svg("text", { x: tower.x + 4 + (i % perRow) * step, y: tower.y + 30 + PIN_R + 4
      + Math.floor(i / perRow) * step, fill: "#fff", "font-size": 12, class: "more" }, `+${pins.length - fit}`));
  }
}

function drawTower(plan, tower, pins) {
  const group = svg("g", { class: "tower", dataset: { tower: tower.id, state: tower.state } });
  group.append(
    svg("rect", { x: tower.x, y: tower.y, width: tower.width, height: tower.height, rx: 6, fill: "#1b2431" }),
    svg("rect", { x: tower.x, y: tower.y, width: tower.width, height: tower.height, rx: 6, fill: towerColour(tower),
      "fill-opacity": 0.28, stroke: towerColour(tower), "stroke-width": 3,
      "stroke-dasharray": tower.state === "camera_offline" ? "7 4" : null }),
    svg("title", {}, tower.name),
    svg("text", { x: tower.x + 8, y: tower.y + 16, fill: "#fff", "font-size": 14, "font-weight": 700 },
      t("Bldg {b}", { b: tower.id }), tower.floors ? svg("tspan", { "font-weight": 400, "font-size": 12 },
        ` · ${t("{n} floors", { n: tower.floors })}`) : null),
    svg("text", { x: tower.x + 8, y: tower.y + tower.height + 14, fill: "currentColor", "font-size": 12,
      class: "tower-state" }, stateText(tower)
      + (tower.state === "alerts" && tower.cameras_offline
        ? ` · ${t("{n} camera(s) offline", { n: tower.cameras_offline })}` : "")));
  drawPins(group, tower, pins);
  plan.append(group);
}

function drawLegend(plan, estate) {
  const items = [[STATE_COLOUR.quiet, t("quiet")], [SEVERITY_COLOUR.critical, word("critical")],
    [SEVERITY_COLOUR.major, word("major")], [SEVERITY_COLOUR.minor, word("minor")],
    [STATE_COLOUR.camera_offline, t("camera offline")]];
  const legend = svg("g", { class: "legend" });
  const y = estate.height + 8;
  items.forEach(([colour, label], i) => {
    const x = 10 + i * 110;
    legend.append(svg("rect", { x, y, width: 12, height: 12, rx: 2, fill: colour }),
      svg("text", { x: x + 17, y: y + 10, fill: "currentColor", "font-size": 12 }, label));
  });
  plan.append(legend);
}

/** Draw the site plan with live state into #estate-map. */
export async function showMap() {
  const estate = await get("/api/v1/estate");
  const plan = svg("svg", { viewBox: `0 0 ${estate.width} ${estate.height + 30}`, role: "img",
    "aria-label": t("Site plan of {name}", { name: estate.name }) });
  drawLegend(plan, estate);
  const byTower = new Map(estate.towers.map((tower) => [tower.id, []]));
  for (const pin of estate.pins) byTower.get(pin.tower)?.push(pin);
  for (const tower of estate.towers) drawTower(plan, tower, byTower.get(tower.id));
  for (const gate of estate.gates) {
    plan.append(svg("g", { class: "gate", dataset: { gate: gate.id } },
      svg("rect", { x: gate.x - 22, y: gate.y - 7, width: 44, height: 14, rx: 3, fill: "#6b7785" }),
      svg("text", { x: gate.x, y: gate.y + 22, fill: "currentColor", "font-size": 12, "text-anchor": "middle" },
        gate.name)));
  }
  for (const cam of estate.cameras) {
    const colour = cam.streaming === null ? "#8fa3b8" : cam.streaming ? "#3ddc84" : "#d93025";
    const state = cam.streaming === null ? "" : cam.streaming ? t("streaming") : t("not streaming");
    plan.append(svg("g", { class: "map-camera", dataset: { camera: cam.id, streaming: String(cam.streaming) } },
      svg("title", {}, `${cam.name}${state ? ` · ${state}` : ""}`),
      svg("path", { d: `M ${cam.x - 7} ${cam.y + 6} L ${cam.x + 7} ${cam.y + 6} L ${cam.x} ${cam.y - 7} Z`,
        fill: colour, stroke: "#0b1118" })));
  }
  const box = clear($("#estate-map"));
  box.append(plan);
  $("#estate-map-note").textContent = [t("Ringed pin: life safety · click a pin to open its alert"),
    estate.unplaced ? t("{n} open alert(s) of no tower on the plan (see the queue)", { n: estate.unplaced }) : null]
    .filter(Boolean).join(" · ");
}

setInterval(() => {
  if ($("#shell").hidden || document.body.dataset.view !== "overview" || document.hidden) return;
  showMap().catch(() => { /* the next round tries again */ });
}, REFRESH_MS);
