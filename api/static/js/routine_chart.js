// A resident's learnt day for the Elders view, drawn by hand in SVG from GET /api/v1/residents/{id}/routine:
// by hour of the day, how long this resident's quiet spells usually last ("usually active within") and after
// how long a silence begun then raises no_activity, weekdays and weekends apart, with the longest quiet spell
// of the learning window marked. Operators and admins only (the route refuses viewers: personal data).

const NS = "http://www.w3.org/2000/svg";
const LINES = [
  { day: "weekdays", key: "usual_min", label: "weekdays: usually active within", colour: "#38bdf8", dash: "" },
  { day: "weekdays", key: "threshold_min", label: "weekdays: alert after", colour: "#38bdf8", dash: "5 3" },
  { day: "weekends", key: "usual_min", label: "weekends: usually active within", colour: "#f97316", dash: "" },
  { day: "weekends", key: "threshold_min", label: "weekends: alert after", colour: "#f97316", dash: "5 3" },
];

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}

/** "3 h 10 min", "50 min": minutes as staff read them. */
export function minutesText(minutes) {
  const total = Math.max(0, Math.round(minutes));
  const h = Math.floor(total / 60), m = total % 60;
  if (h && m) return `${h} h ${m} min`;
  return h ? `${h} h` : `${m} min`;
}

/** The longest quiet spell of the window: {day, hour, minutes}, or null when none was learnt yet. */
export function longestSpell(routine) {
  let best = null;
  for (const day of ["weekdays", "weekends"]) {
    for (const row of routine[day]) {
      if (row.longest_min !== null && (best === null || row.longest_min > best.minutes)) {
        best = { day, hour: row.hour, minutes: row.longest_min };
      }
    }
  }
  return best;
}

/** One line of the settings that shape the chart (sensitivity, window, quiet hours, cold start). */
export function settingsText(routine) {
  const s = routine.settings;
  const quiet = s.quiet_start_hour === null ? "none" : `${s.quiet_start_hour}:00–${s.quiet_end_hour}:00`;
  const learning = routine.cold_start
    ? `learning (${Math.floor(routine.history_days)} of ${s.cold_start_days} days): fixed ${s.cold_day_hours} h by day, `
      + `${s.cold_night_hours} h at night`
    : `${routine.history_days} days learnt`;
  return `sensitivity ${s.sensitivity} · window ${s.learning_window_days} days · quiet hours ${quiet} · ${learning}`
    + (s.enabled && routine.watched ? "" : " · not watched");
}

/** Draw ``routine`` into ``container`` (replacing what was there); returns the <svg>. */
export function routineChart(container, routine) {
  const width = 480, height = 210, left = 40, right = 8, top = 10, bottom = 34;
  const rows = [...routine.weekdays, ...routine.weekends];
  const longest = longestSpell(routine);
  const max = Math.max(60, ...rows.map((r) => r.threshold_min), longest ? longest.minutes : 0);
  const x = (hour) => left + (width - left - right) * (hour + 0.5) / 24;
  const y = (minutes) => top + (height - top - bottom) * (1 - minutes / max);
  const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", class: "routine-chart",
    "aria-label": `learnt day of ${routine.resident_id}: quiet spells and alert thresholds by hour` });
  root.append(svg("line", { x1: left, x2: width - right, y1: y(0), y2: y(0), stroke: "#243447" }));
  for (const tick of [0, Math.round(max / 2), Math.round(max)]) {
    root.append(svg("text", { x: 2, y: y(tick) + 4, class: "axis" }, minutesText(tick)));
  }
  for (const hour of [0, 6, 12, 18, 23]) {
    root.append(svg("text", { x: x(hour) - 6, y: height - bottom + 14, class: "axis" }, `${hour}:00`));
  }
  for (const line of LINES) {
    const points = routine[line.day].map((r) => `${x(r.hour).toFixed(1)},${y(r[line.key]).toFixed(1)}`).join(" ");
    const path = svg("polyline", { points, fill: "none", stroke: line.colour, "stroke-width": 1.6,
      "stroke-dasharray": line.dash, "data-line": `${line.day}-${line.key}` });
    path.append(svg("title", {}, line.label));
    root.append(path);
  }
  for (const day of ["weekdays", "weekends"]) {
    for (const r of routine[day]) {
      if (r.longest_min === null) continue;
      const dot = svg("circle", { cx: x(r.hour), cy: y(r.longest_min), r: 1.8, fill: "#94a3b8",
        "data-longest": `${day}-${r.hour}` });
      dot.append(svg("title", {}, `${day} ${r.hour}:00, longest quiet spell ${minutesText(r.longest_min)}`));
      root.append(dot);
    }
  }
  if (longest) {
    const mark = svg("circle", { cx: x(longest.hour), cy: y(longest.minutes), r: 4.5, fill: "none",
      stroke: "#ef4444", "stroke-width": 2, "data-mark": "longest" });
    mark.append(svg("title", {}, `longest quiet spell in ${routine.learning_window_days} days: `
      + `${minutesText(longest.minutes)} (${longest.day}, began ${longest.hour}:00)`));
    const labelX = Math.min(x(longest.hour) + 6, width - 150);
    root.append(mark, svg("text", { x: labelX, y: Math.max(y(longest.minutes) - 6, 10), class: "note" },
      `longest ${minutesText(longest.minutes)}`));
  }
  const legendY = height - 8;
  [["", "usually active within"], ["5 3", "alert after"]].forEach(([dash, text], i) => {
    const lx = left + i * 170;
    root.append(svg("line", { x1: lx, x2: lx + 18, y1: legendY - 4, y2: legendY - 4, stroke: "#cbd5e1",
      "stroke-dasharray": dash }), svg("text", { x: lx + 22, y: legendY, class: "axis" }, text));
  });
  root.append(svg("text", { x: width - 150, y: legendY, class: "axis", fill: "#38bdf8" }, "weekdays"),
    svg("text", { x: width - 80, y: legendY, class: "axis", fill: "#f97316" }, "weekends"));
  container.replaceChildren(root);
  return root;
}
