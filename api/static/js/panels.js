// The other views: elders being watched, the estate overview with charts, and users (admin).

import * as api from "./api.js";
import { sparkline, stackedBars } from "./charts.js";
import { estateTick, t, word } from "./i18n.js";
import { passagesCell } from "./passages.js";
import { routineChart, settingsText } from "./routine_chart.js";
import { $, clear, duration, el, localTime, secondsSince, toast } from "./util.js";

// --- elders --------------------------------------------------------------------------------------------------

function elderColour(elder) {
  if (elder.away_reason || elder.presence === "out") return "blue";
  if (elder.presence === "unknown") return "grey";
  const hours = elder.hours_at_home ?? 0;
  if (elder.open_alerts > 0 || hours >= elder.not_out_hours) return "red";
  if (hours >= elder.not_out_hours * 0.75) return "amber";
  return "green";
}

function lastSignal(elder) {
  const entries = Object.entries(elder.last_signals).map(([kind, signal]) => [kind, signal.at, signal.detail]);
  if (!entries.length) {
    return elder.last_activity_at ? t("{time} ago", { time: duration(secondsSince(elder.last_activity_at)) }) : "–";
  }
  entries.sort((a, b) => Date.parse(b[1]) - Date.parse(a[1]));
  const [kind, at, detail] = entries[0];
  return `${word(kind)} ${t("{time} ago", { time: duration(secondsSince(at)) })}${detail ? ` (${detail})` : ""}`;
}

/** Who the resident is: name and age when the API gives them (operators and admins; viewers get nulls), with the
 * pseudonymous id beside the name so it still matches the alerts; the id alone otherwise. */
function whoCell(elder) {
  if (!elder.name && (elder.age === null || elder.age === undefined)) return [elder.resident_id];
  const age = elder.age === null || elder.age === undefined ? null : t("{age} years", { age: elder.age });
  return [el("span", { class: "resident-name" }, [elder.name, age].filter(Boolean).join(", ")),
    el("span", { class: "muted" }, ` · ${elder.resident_id}`)];
}

/** A resident's learnt day (operators and admins: routines are personal data), under the Elders table. */
async function showRoutine(residentId) {
  try {
    const routine = await api.residents.routine(residentId);
    routineChart($("#elder-routine"), routine);
    $("#elder-routine-settings").textContent = settingsText(routine);
  } catch (error) {
    toast(t("Failed: {error}", { error: error.message }));
  }
}

export function contactText(contact) {
  return [contact.name ?? contact.role, contact.phone].filter(Boolean).join(" ");
}

export async function showElders(can) {
  const elders = await api.residents.elders();
  const body = clear($("#elders tbody"));
  let red = 0;
  for (const elder of elders) {
    const colour = elderColour(elder);
    if (colour === "red") red += 1;
    const state = elder.away_reason ?? elder.presence;
    const hours = elder.presence === "home" ? elder.hours_at_home : elder.hours_since_last_out;
    const mark = (reason) => el("button", {
      disabled: !can("admin") || Boolean(elder.away_reason), "data-action": reason,
      title: can("admin") ? t("Pause the rules: {reason} for {n} day(s)", { reason: word(reason),
        n: reason === "hospital" ? 3 : 1 }) : t("Needs the admin role"),
      onclick: async () => {
        try {
          await api.residents.markAway(elder.resident_id, reason, reason === "hospital" ? 72 : 24);
          toast(t("{id} marked {reason}", { id: elder.resident_id, reason: word(reason) }));
          showElders(can);
        } catch (error) {
          toast(t("Failed: {error}", { error: error.message }), true);
        }
      },
    }, word(reason));
    body.append(el("tr", { dataset: { resident: elder.resident_id, colour }, title: elder.explanation,
      onclick: can("operator") ? (event) => event.target.closest("button") || showRoutine(elder.resident_id) : null },
      el("td", {}, el("span", { class: `dot ${colour}` }), ...whoCell(elder)),
      el("td", {}, [elder.building ? t("Bldg {b}", { b: elder.building }) : null, elder.unit].filter(Boolean)
        .join(" · ")),
      el("td", {}, word(state), elder.lives_alone ? el("span", { class: "muted" }, ` · ${t("alone")}`) : null,
        elder.open_alerts ? el("span", { class: "badge open" }, ` ${t("{n} alert", { n: elder.open_alerts })}`)
          : null),
      el("td", {}, hours === null || hours === undefined ? "–" : Number(hours).toFixed(1)),
      el("td", {}, lastSignal(elder)),
      el("td", {}, elder.redacted && !elder.contacts.length ? el("span", { class: "muted" }, t("hidden for your role"))
        : elder.contacts.map(contactText).join(", ") || "–"),
      el("td", {}, can("operator") ? passagesCell(elder.resident_id) : "–"),
      el("td", {}, mark("away"), " ", mark("hospital"))));
  }
  if (!elders.length) body.append(el("tr", {}, el("td", { colspan: 8, class: "empty" }, t("No elderly residents."))));
  $("#elders-summary").textContent = t("{n} watched, {m} need attention", { n: elders.length, m: red });
}

// --- overview ------------------------------------------------------------------------------------------------

export async function showOverview() {
  const [summary, hourly, daily, sparks] = await Promise.all([
    api.overview.summary(), api.overview.counts("hour"), api.overview.counts("day"), api.overview.sparklines(),
  ]);
  const box = clear($("#buildings"));
  for (const bldg of summary.buildings) {
    const bits = [];
    if (bldg.open) bits.push(t("{n} open", { n: bldg.open }));
    if (bldg.acknowledged) bits.push(t("{n} in hand", { n: bldg.acknowledged }));
    if (bldg.breached) bits.push(t("{n} overdue", { n: bldg.breached }));
    if (bldg.offline_devices) bits.push(t("{n} offline", { n: bldg.offline_devices }));
    box.append(el("div", { class: `building ${bldg.colour}`,
      dataset: { building: bldg.building, colour: bldg.colour } },
    t("Bldg {b}", { b: bldg.building }), el("small", {}, bits.join(", ") || t("quiet"))));
  }
  if (!summary.buildings.length) box.append(el("p", { class: "empty" }, t("No buildings known yet.")));
  stackedBars($("#chart-hour"), hourly, { tickEvery: 6, format: (d) => estateTick(d, "hour") });
  stackedBars($("#chart-day"), daily, { tickEvery: 2, format: (d) => estateTick(d, "day") });
  const offline = clear($("#offline"));
  const counts = summary.devices;
  offline.append(el("li", { class: "muted" }, t("{a} online · {b} offline · {c} unknown",
    { a: counts.online ?? 0, b: counts.offline ?? 0, c: counts.unknown ?? 0 })));
  for (const device of summary.offline_devices) {
    offline.append(el("li", { dataset: { device: device.device_id } }, el("span", { class: "dot red" }),
      device.device_id, el("span", { class: "muted" }, ` ${device.kind}`
        + `${device.building ? ` · ${t("Bldg {b}", { b: device.building })}` : ""} · `
        + t("last seen {time}", { time: device.last_seen
          ? t("{time} ago", { time: duration(secondsSince(device.last_seen)) }) : t("never") }))));
  }
  // a metric no rule reads is shown, never silently dropped (the sensor profile may need it)
  for (const unknown of await api.sensors.unknownMetrics()) {
    offline.append(el("li", { class: "muted", dataset: { metric: unknown.metric } },
      t("unknown metric {metric} from {kind}: {n} readings",
        { metric: unknown.metric, kind: unknown.device_kind, n: unknown.readings })));
  }
  const lines = clear($("#sparklines"));
  for (const spark of sparks) {
    lines.append(el("div", { class: "spark", dataset: { device: spark.device_id, metric: spark.metric } },
      el("div", { class: "label" }, el("span", { title: spark.device_id }, spark.device_id),
        el("span", { class: "muted", title: word(spark.metric) }, `${word(spark.metric)} ${spark.last}`)),
      sparkline(spark.points)));
  }
  if (!sparks.length) lines.append(el("p", { class: "empty" }, t("No telemetry in the last hour.")));
}

// --- users ---------------------------------------------------------------------------------------------------

export async function showUsers() {
  const accounts = await api.users.list();
  const body = clear($("#users tbody"));
  for (const account of accounts) {
    const role = el("select", { "aria-label": t("role of {name}", { name: account.username }) },
      ["viewer", "operator", "admin"].map((r) => el("option", { selected: r === account.role, value: r }, t(r))));
    role.addEventListener("change", () => change(account.username, { role: role.value }));
    body.append(el("tr", { dataset: { user: account.username } }, el("td", {}, account.username), el("td", {}, role),
      el("td", {}, localTime(account.created_at)), el("td", {}, account.disabled ? t("disabled") : t("active")),
      el("td", {}, el("button", { onclick: () => change(account.username, { disabled: !account.disabled }) },
        account.disabled ? t("Enable") : t("Disable")))));
  }
  if (!accounts.length) {
    body.append(el("tr", { class: "empty-row" }, el("td", { colspan: 5, class: "empty" },
      t("No console users yet: add the first one above."))));
  }
}

async function change(name, fields) {
  try {
    await api.users.change(name, fields);
    toast(t("{name} updated", { name }));
  } catch (error) {
    toast(t("Failed: {error}", { error: error.message }), true);
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
