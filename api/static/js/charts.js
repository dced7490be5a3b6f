// Tiny SVG charts drawn by hand: stacked bars of alerts per time bucket by type, and sparklines.

import { word } from "./i18n.js";

const NS = "http://www.w3.org/2000/svg";
const PALETTE = ["#38bdf8", "#f97316", "#a78bfa", "#22c55e", "#eab308", "#ef4444", "#ec4899", "#14b8a6", "#94a3b8"];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

export function colourFor(types) {
  return new Map(types.map((t, i) => [t, PALETTE[i % PALETTE.length]]));
}

/** series: [{start, counts: {type: n}}], oldest first. */
export function stackedBars(container, data, { tickEvery = 6, format = (d) => `${d.getHours()}:00` } = {}) {
  const width = 420, height = 170, left = 24, bottom = 18, top = 8;
  const series = data.series;
  const types = data.types;
  const colours = colourFor(types);
  const totals = series.map((b) => Object.values(b.counts).reduce((s, n) => s + n, 0));
  const max = Math.max(1, ...totals);
  const bw = (width - left) / Math.max(1, series.length);
  const y = (v) => top + (height - top - bottom) * (1 - v / max);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": `alerts per bucket, max ${max}` });
  root.append(svg("line", { x1: left, x2: width, y1: y(0), y2: y(0), stroke: "#243447" }));
  root.append(svg("text", { x: 2, y: y(max) + 4 }, String(max)), svg("text", { x: 2, y: y(0) }, "0"));
  series.forEach((bucket, i) => {
    let acc = 0;
    for (const type of types) {
      const n = bucket.counts[type] ?? 0;
      if (!n) continue;
      const rect = svg("rect", { x: left + i * bw + 1, y: y(acc + n), width: Math.max(1, bw - 2),
        height: y(acc) - y(acc + n), fill: colours.get(type) });
      rect.append(svg("title", {}, `${word(type)}: ${n}`));
      root.append(rect);
      acc += n;
    }
    if (i % tickEvery === 0) {
      root.append(svg("text", { x: left + i * bw, y: height - 4 }, format(new Date(bucket.start))));
    }
  });
  const legend = document.createElement("div");
  legend.className = "legend";
  for (const type of types) {
    const item = document.createElement("span");
    const swatch = document.createElement("i");
    swatch.style.background = colours.get(type);
    item.append(swatch, word(type));
    legend.append(item);
  }
  container.replaceChildren(root, legend);
}

/** points: [[iso, value], ...] */
export function sparkline(points, { width = 200, height = 40 } = {}) {
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img" });
  if (points.length < 2) { // one reading so far: a flat line at mid height says "alive, nothing to compare yet"
    root.append(svg("path", { d: `M1,${height / 2}L${width - 1},${height / 2}`, stroke: "#38bdf8", fill: "none",
      "stroke-dasharray": "4 4" }));
    return root;
  }
  const xs = points.map((p) => Date.parse(p[0]));
  const vs = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [v0, v1] = [Math.min(...vs), Math.max(...vs)];
  const sx = (x) => ((x - x0) / Math.max(1, x1 - x0)) * (width - 2) + 1;
  const sy = (v) => height - 2 - ((v - v0) / (v1 - v0 || 1)) * (height - 4);
  const d = points.map((p, i) => `${i ? "L" : "M"}${sx(xs[i]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join("");
  root.append(svg("path", { d, fill: "none", stroke: "#38bdf8", "stroke-width": 1.5 }));
  return root;
}
