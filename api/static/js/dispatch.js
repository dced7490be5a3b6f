// Dispatch in the alert detail: the alert's work orders with their 54321 stage clocks (ticking), the responder's
// link and its QR code, and for operators a form to send the alert to a responder or a whole team.
// The responder's link is shown when it is made (only its hash is kept); "New link" replaces it.

import { get, post } from "./api.js";
import { t, word } from "./i18n.js";
import { stageName, stageState, stageText } from "./stages.js";
import { $, clear, el, toast } from "./util.js";

const TEAMS = ["grid", "security", "maintenance"];
const COMPLEXITIES = ["simple", "general", "complex", "hard"];
const enc = encodeURIComponent;
const links = new Map(); // work order id -> the link made in this session, so a re-render keeps showing it
let responders = null; // the directory, loaded once per page
let orders = []; // the work orders in the pane, for the clocks

const css = document.createElement("link");
css.rel = "stylesheet";
css.href = "/static/dispatch.css";
document.head.append(css);

async function loadResponders() {
  if (!responders) {
    const directory = await get("/api/v1/responders");
    responders = directory;
  }
  return responders;
}

/** Who a work order went to: the responder's name, or the team's name in the current language. */
function assignee(order) {
  return order.responder_id ? order.assignee_name : t("Whole team: {team}", { team: word(order.team) });
}

function linkBlock(link) {
  return el("div", { class: "wo-link" },
    el("img", { class: "wo-qr", src: link.qr_svg, alt: t("QR code of the responder's link"), width: 180, height: 180 }),
    el("p", {}, el("a", { href: link.url, target: "_blank", rel: "noopener noreferrer", class: "wo-url" },
      t("Open the on-site page"))),
    el("p", { class: "muted" }, t("Scan with the responder's phone; the link works for this work order only.")));
}

function orderBlock(order, canAct) {
  const phone = order.assignee_phone ? ` · ${order.assignee_phone}` : "";
  const box = el("li", { class: "work-order", dataset: { id: order.id, status: order.status } },
    el("div", {}, el("strong", {}, assignee(order)), phone, " ",
      el("span", { class: "badge wo-status" }, t(order.status === "assigned" ? "on the way"
        : order.status === "on_site" ? "on site" : "solved")), " ",
      el("span", { class: "muted" }, `${word(order.team)} · ${word(order.complexity)}`)),
    order.supervisor_name ? el("div", { class: "muted" }, t("Escalates to {who}", { who: order.supervisor_name }))
      : "",
    el("ul", { class: "wo-stages" }, order.stages.map((stage) => el("li", { dataset: { stage: stage.stage } }))),
    order.solve_note ? el("p", { class: "wo-note" }, order.solve_note) : "",
    order.plan_note ? el("p", { class: "wo-note" }, order.plan_note) : "");
  const link = links.get(order.id);
  if (link) box.append(linkBlock(link));
  if (canAct && order.status !== "solved") {
    box.append(el("button", { type: "button", class: "wo-new-link", onclick: async () => {
      try {
        const fresh = await post(`/api/v1/work-orders/${enc(order.id)}/link`);
        links.set(order.id, fresh);
        box.querySelector(".wo-link")?.remove();
        box.append(linkBlock(fresh));
      } catch (error) {
        toast(t("Could not make a link: {error}", { error: error.message }), true);
      }
    } }, t(link ? "New link" : "Show link and QR code")));
  }
  return box;
}

/** Once a second: every clock in the pane moves, met ones show when. */
export function tickDispatch(now = Date.now()) {
  for (const order of orders) {
    for (const stage of order.stages) {
      const cell = document.querySelector(`#dispatch-box li[data-id="${order.id}"] li[data-stage="${stage.stage}"]`);
      if (!cell) continue;
      cell.textContent = `${stageName(stage)}: ${stageText(stage, now)}`;
      cell.className = `wo-stage wo-${stageState(stage, now)}`;
    }
  }
}

setInterval(() => tickDispatch(), 1000);

async function dispatchForm(alert, box, refresh) {
  let people = [];
  try {
    people = await loadResponders();
  } catch (error) {
    box.append(el("p", { class: "error" }, t("Could not load responders: {error}", { error: error.message })));
    return;
  }
  const who = el("select", { id: "dispatch-who", "aria-label": t("Send to") },
    TEAMS.map((team) => el("optgroup", { label: word(team) },
      people.filter((p) => p.team === team).map((p) => el("option", { value: `p:${p.id}` }, p.name)),
      el("option", { value: `t:${team}` }, t("Whole team: {team}", { team: word(team) })))));
  const level = el("select", { id: "dispatch-complexity", "aria-label": t("Complexity") },
    COMPLEXITIES.map((c) => el("option", { value: c, selected: c === alert.sla.class }, word(c))));
  const send = el("button", { type: "button", class: "primary", id: "dispatch-send", onclick: async () => {
    const [kind, id] = [who.value.slice(0, 1), who.value.slice(2)];
    send.disabled = true;
    try {
      const made = await post("/api/v1/work-orders", { alert_id: alert.id, complexity: level.value,
        ...(kind === "p" ? { responder_id: id } : { team: id }) });
      links.set(made.work_order.id, made.link);
      toast(t("Sent to {who}", { who: made.work_order.assignee_name }));
      await refresh();
    } catch (error) {
      toast(t("Could not dispatch: {error}", { error: error.message }), true);
    } finally {
      send.disabled = false;
    }
  } }, t("Dispatch"));
  box.append(el("div", { class: "dispatch-form" }, el("label", {}, t("Send to"), " ", who), " ",
    el("label", {}, t("Complexity"), " ", level), " ", send));
  if (!people.length) box.append(el("p", { class: "muted" }, t("No responders yet: an admin adds them.")));
}

/** Add the dispatch box to the detail pane of ``alert`` (called after each render of the pane). */
export async function mountDispatch(alert, canAct) {
  const pane = $("#detail");
  if (!alert || !pane) return;
  const box = el("div", { id: "dispatch-box", class: "dispatch", dataset: { alert: alert.id } },
    el("h3", {}, t("Dispatch")));
  const list = el("ul", { class: "plain-list wo-list" });
  box.append(list);
  const history = pane.querySelector(".timeline")?.closest("div");
  if (history) history.before(box); else pane.append(box);
  const refresh = async () => {
    const found = await get(`/api/v1/work-orders?alert_id=${enc(alert.id)}`);
    if (!box.isConnected) return;
    orders = found;
    clear(list).append(...found.map((order) => orderBlock(order, canAct)));
    if (!found.length) list.append(el("li", { class: "muted" }, t("Not dispatched yet.")));
    tickDispatch();
  };
  try {
    await refresh();
  } catch (error) {
    list.append(el("li", { class: "error" }, t("Could not load work orders: {error}", { error: error.message })));
  }
  if (canAct && alert.status !== "resolved" && box.isConnected) await dispatchForm(alert, box, refresh);
}

// --- the open work orders of the estate, from a top-bar button -----------------------------------------------

let board = null;

function boardRow(order) {
  const late = order.stages.some((stage) => stageState(stage) === "breached");
  const row = el("li", { class: late ? "wo-row wo-late" : "wo-row", dataset: { id: order.id, alert: order.alert_id } },
    el("a", { href: `#/alerts/${enc(order.alert_id)}`, onclick: () => board.close() }, String(order.brief.title)),
    el("div", { class: "muted" }, `${assignee(order)} · ${word(order.team)} · ${t(order.status === "assigned"
      ? "on the way" : "on site")}`),
    el("ul", { class: "wo-stages" }, order.stages.map((stage) => el("li", {
      class: `wo-stage wo-${stageState(stage)}` }, `${stageName(stage)}: ${stageText(stage)}`))));
  return row;
}

async function openBoard() {
  try {
    const open = await get("/api/v1/work-orders?open_only=true");
    const list = clear($("#work-orders-list"));
    list.append(...open.map(boardRow));
    if (!open.length) list.append(el("li", { class: "muted" }, t("No open work orders.")));
    board.showModal();
  } catch (error) {
    toast(t("Could not load work orders: {error}", { error: error.message }), true);
  }
}

/** A "Work orders" button in the top bar: the open work orders, the late ones marked, each linking to its alert. */
export function startWorkOrders() {
  if (board) return;
  const fixed = (tag, key, attrs = {}) => el(tag, { ...attrs, "data-t": true, dataset: { en: key } }, t(key));
  board = el("dialog", { id: "work-orders-dialog", class: "dialog" }, fixed("h2", "Open work orders"),
    el("ul", { id: "work-orders-list", class: "plain-list handover-list" }),
    el("div", { class: "actions" }, fixed("button", "Close", { type: "button", class: "primary",
      onclick: () => board.close() })));
  document.body.append(board);
  $("#whoami").before(fixed("button", "Work orders", { id: "work-orders-button", type: "button", class: "ghost",
    onclick: openBoard }));
}
