// The responder's page for one work order, opened from the QR code: what happened where (with the littering
// snapshot), the stage clocks, and two buttons: "I am on site" and "Solved" with a note (a hard case takes a plan).
// The token in the page's address is the only credential; it opens this work order and nothing else.

import { alertTitle, currentLanguage, estateTime, setLanguage, setZone, t, word } from "./i18n.js";
import { stageName, stageState, stageText } from "./stages.js";
import { $, clear, el } from "./util.js";

const token = decodeURIComponent(location.pathname.split("/").pop() ?? "");
const base = `/api/v1/onsite/${encodeURIComponent(token)}`;
let order = null;

async function call(method, path = "", body = undefined) {
  const response = await fetch(base + path, {
    method, headers: { Accept: "application/json", ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined, credentials: "omit", referrerPolicy: "no-referrer",
  });
  if (response.ok) return response.json();
  const reason = { 404: "This link is not valid.", 410: "This link has expired: ask the control room for a new one.",
    409: "Already done.", 422: "Please write a note first." }[response.status] ?? "Something went wrong; try again.";
  throw new Error(t(reason));
}

function say(text, ok = false) {
  const box = $("#onsite-message");
  box.textContent = text;
  box.className = ok ? "message ok" : "message";
  box.hidden = !text;
}

function where(brief) {
  const place = brief.place ?? {};
  const bits = [];
  if (brief.building) bits.push(t("Bldg {b}", { b: brief.building }));
  if (brief.floor !== null && brief.floor !== undefined) bits.push(t("F{n}", { n: brief.floor }));
  for (const key of ["unit", "camera", "device", "gate"]) if (place[key]) bits.push(String(place[key]));
  return bits.join(" · ") || "–";
}

function noteForm(label, button, path) {
  const area = el("textarea", { id: `note-${path}`, "aria-label": t(label), placeholder: t(label) });
  const send = el("button", { class: "big primary", type: "button", id: `send-${path}`, onclick: async () => {
    send.disabled = true;
    try {
      order = await call("POST", `/${path}`, { note: area.value.trim() });
      say(t(path === "solved" ? "Thank you: the alert is closed." : "Plan recorded."), true);
      render();
    } catch (error) {
      say(error.message);
      send.disabled = false;
    }
  } }, t(button));
  return el("div", {}, area, send);
}

/** The stage clocks move every second without touching the rest of the page (a note being typed stays). */
function tickStages(now = Date.now()) {
  const list = $("#onsite-stages");
  if (!order || !list) return;
  clear(list).append(...order.stages.map((stage) => el("li", {
    class: `state-${stageState(stage, now)}`, dataset: { stage: stage.stage, state: stageState(stage, now) },
  }, `${stageName(stage)}: ${stageText(stage, now)}`)));
}

function render() {
  $("#onsite-heading").textContent = t("Work order");
  $("#onsite-language").textContent = currentLanguage() === "zh-CN" ? "English" : "中文";
  document.title = t("Work order");
  if (!order) return;
  const brief = order.brief;
  const box = clear($("#onsite-order"));
  box.hidden = false;
  const now = Date.now();
  box.append(
    el("h2", { id: "onsite-title" }, alertTitle({ title: brief.title, type: brief.type, subject: brief.place ?? {} })),
    el("dl", {},
      el("dt", {}, t("Type")), el("dd", {}, word(brief.type)),
      el("dt", {}, t("Where")), el("dd", { id: "onsite-where" }, where(brief)),
      el("dt", {}, t("Raised")), el("dd", {}, estateTime(brief.created_at)),
      el("dt", {}, t("Assignee")), el("dd", {}, order.assignee_name.startsWith("team:")
        ? t("Whole team: {team}", { team: word(order.team) }) : order.assignee_name),
      el("dt", {}, t("Status")), el("dd", { id: "onsite-status", dataset: { status: order.status } },
        t(order.status === "assigned" ? "on the way" : order.status === "on_site" ? "on site" : "solved"))),
    order.snapshot_url ? el("img", { class: "snapshot", src: order.snapshot_url, alt: t("Snapshot") }) : "",
    el("ul", { class: "stages", id: "onsite-stages" }),
  );
  tickStages(now);
  if (order.status === "assigned") {
    box.append(el("button", { class: "big primary", id: "arrived", type: "button", onclick: async (event) => {
      event.target.disabled = true;
      try {
        order = await call("POST", "/arrived");
        say(t("On site confirmed."), true);
        render();
      } catch (error) {
        say(error.message);
        event.target.disabled = false;
      }
    } }, t("I am on site")));
  }
  if (order.status !== "solved") {
    const planMet = order.stages.some((s) => s.stage === "plan" && s.met_at);
    if (order.complexity === "hard" && !planMet) box.append(noteForm("The plan for this case", "Send plan", "plan"));
    box.append(noteForm("What was done", "Solved", "solved"));
  }
}

$("#onsite-language").addEventListener("click", () => {
  setLanguage(currentLanguage() === "zh-CN" ? "en" : "zh-CN");
  render();
});

async function start() {
  setLanguage(/^zh/i.test(navigator.language) ? "zh-CN" : "en");
  render();
  try {
    order = await call("GET");
    setZone(order.timezone);
    render();
  } catch (error) {
    say(error.message);
  }
}

setInterval(() => tickStages(), 1000);
start();
