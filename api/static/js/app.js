// Console entry point: sign-in, the view router, live stream, keyboard shortcuts and alert actions.

import * as api from "./api.js";
import { contactList, renderDetail } from "./detail.js";
import { showCameras, showElders, showOverview, showUsers } from "./panels.js";
import { AlertQueue } from "./queue.js";
import { connectStream } from "./stream.js";
import { $, ask, toast } from "./util.js";

const VIEWS = ["alerts", "elders", "cameras", "overview", "users"];
const RANK = { viewer: 0, operator: 1, admin: 2 };
let user = null;
let queue = null;
let stream = null;

const can = (role) => user && RANK[user.role] >= RANK[role];

async function start() {
  try {
    user = await api.me();
  } catch {
    showLogin();
    return;
  }
  showShell();
}

function showLogin(message = "") {
  stream?.close();
  stream = null;
  $("#shell").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message;
  $("#login-form [name=username]").focus();
}

$("#login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const fields = form.get("token") ? { token: form.get("token") }
    : { username: form.get("username"), password: form.get("password") };
  try {
    user = await api.login(fields);
    event.target.reset();
    showShell();
  } catch (error) {
    $("#login-error").textContent = error.status === 401 ? "Wrong user name or password." : error.message;
  }
});

$("#logout").addEventListener("click", async () => {
  await api.logout().catch(() => {});
  user = null;
  showLogin();
});

window.addEventListener("ew:unauthorized", () => showLogin("Your session has ended; please sign in again."));

function showShell() {
  $("#login").hidden = true;
  $("#shell").hidden = false;
  $("#whoami").textContent = `${user.name} · ${user.role}`;
  document.body.dataset.role = user.role;
  for (const link of document.querySelectorAll("#tabs a[data-role]")) link.hidden = !can(link.dataset.role);
  if (!queue) {
    queue = new AlertQueue({
      onSelect: (alert, open) => selectAlert(alert, open),
      onFlood: (count, flooding) => flood(count, flooding),
    });
  }
  queue.reload().catch((error) => toast(`Could not load alerts: ${error.message}`, true));
  stream = connectStream({
    onChange: (id) => queue.changed(id),
    onReset: () => queue.reload(),
    onState: (state) => {
      const live = $("#live");
      live.className = `live ${state}`;
      live.textContent = state === "on" ? "● live" : state === "off" ? "● offline" : "● reconnecting";
    },
  });
  route();
}

// --- views ---------------------------------------------------------------------------------------------------

function route() {
  const name = (location.hash.match(/^#\/(\w+)/) ?? [])[1];
  const view = VIEWS.includes(name) && (name !== "users" || can("admin")) ? name : "alerts";
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  for (const link of document.querySelectorAll("#tabs a")) link.classList.toggle("active", link.dataset.view === view);
  document.body.dataset.view = view;
  lastRefresh = Date.now();
  const show = { elders: () => showElders(can), cameras: showCameras, overview: showOverview, users: showUsers }[view];
  show?.().catch((error) => toast(`Could not load ${view}: ${error.message}`, true));
  const id = (location.hash.match(/^#\/alerts\/(.+)$/) ?? [])[1];
  if (view === "alerts" && id) openAlert(decodeURIComponent(id));
}

window.addEventListener("hashchange", route);

// Views other than the queue have no stream: refresh the visible one now and then (cameras most often).
const REFRESH_MS = { cameras: 3000, overview: 15000, elders: 30000 };
let lastRefresh = Date.now();
setInterval(() => {
  const view = document.body.dataset.view;
  if (!user || $("#shell").hidden || !REFRESH_MS[view] || Date.now() - lastRefresh < REFRESH_MS[view]) return;
  lastRefresh = Date.now();
  const show = { elders: () => showElders(can), cameras: showCameras, overview: showOverview }[view];
  show().catch(() => { /* the next round tries again */ });
}, 1000);

// --- alerts --------------------------------------------------------------------------------------------------

let detailId = null;

function selectAlert(alert, open) {
  if (open || detailId === String(alert.id)) {
    detailId = String(alert.id);
    renderDetail(alert, { canAct: can("operator"), onAction: act });
    if (open) openAlert(alert.id);
  }
}

/** Fetch the alert in full (history, evidence) and show it. */
async function openAlert(id) {
  detailId = String(id);
  try {
    const full = await api.alerts.get(id);
    if (detailId !== String(id)) return;
    queue.alerts.set(String(id), { ...queue.alerts.get(String(id)), ...full });
    queue.selectedId = String(id);
    renderDetail(full, { canAct: can("operator"), onAction: act });
    fillContacts(full);
  } catch (error) {
    toast(`Could not open alert: ${error.message}`, true);
  }
}

/** Elderly alerts name a resident; who to call lives with the resident, not the alert. */
async function fillContacts(alert) {
  const box = document.querySelector("#detail .contacts");
  const resident = alert.subject?.resident;
  if (!box || !resident || box.childElementCount) return;
  try {
    const info = await api.residents.get(resident);
    if (box.isConnected) box.replaceChildren(contactList(info.contacts ?? []));
  } catch { /* no resident record: the explanation still stands */ }
}

async function act(action) {
  const alert = queue.selected();
  if (!alert || !can("operator")) return;
  try {
    if (action === "ack") {
      if (alert.status !== "open") return;
      await api.alerts.ack(alert.id);
      toast("Acknowledged");
    } else if (action === "assign") {
      await api.alerts.assign(alert.id, user.name);
      toast(`Assigned to ${user.name}`);
    } else if (action === "comment") {
      const form = await ask($("#text-dialog"), () => {
        $("#text-title").textContent = "Comment";
        $("#text-label").textContent = `On: ${alert.title}`;
      });
      if (!form) return;
      await api.alerts.comment(alert.id, form.get("text"));
      toast("Comment added");
    } else if (action === "resolve") {
      if (alert.status === "resolved") return;
      const form = await ask($("#resolve-dialog"));
      if (!form) return;
      await api.alerts.resolve(alert.id, form.get("resolution"), form.get("note") || null);
      toast("Resolved");
    }
    await openAlert(alert.id); // the stream will also tell us; this makes the click feel instant
    queue.upsert(queue.alerts.get(String(alert.id)));
  } catch (error) {
    toast(error.status === 403 ? "Not allowed for your role." : `Failed: ${error.message}`, true);
  }
}

function flood(count, flooding) {
  if (!flooding) return;
  $("#flood-text").textContent = `${count} new alerts in the last minute. Work the top of the queue; `
    + "filter by type or building to see a pattern.";
  $("#flood").hidden = false;
}

$("#flood-dismiss").addEventListener("click", () => { $("#flood").hidden = true; });

const filterForm = $("#filters");
filterForm.addEventListener("submit", (event) => event.preventDefault());
$("#filter-text").addEventListener("input", (e) => queue?.setFilter({ text: e.target.value }));
$("#filter-status").addEventListener("change", (e) => queue?.setFilter({ status: e.target.value }));
$("#filter-type").addEventListener("change", (e) => queue?.setFilter({ type: e.target.value }));
$("#filter-building").addEventListener("change", (e) => queue?.setFilter({ building: e.target.value }));
$("#help-button").addEventListener("click", () => $("#help").showModal());

// --- keyboard ------------------------------------------------------------------------------------------------

document.addEventListener("keydown", (event) => {
  if ($("#shell").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  const dialog = document.querySelector("dialog[open]");
  if (dialog?.id === "resolve-dialog" && /^[1-4]$/.test(event.key) && event.target.tagName !== "TEXTAREA") {
    dialog.querySelectorAll("input[name=resolution]")[Number(event.key) - 1].checked = true;
    event.preventDefault();
    return;
  }
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
  if (dialog || typing) {
    if (event.key === "Escape" && typing) event.target.blur();
    return;
  }
  const inAlerts = document.body.dataset.view === "alerts";
  const keys = {
    j: () => queue.move(1), k: () => queue.move(-1), ArrowDown: () => queue.move(1), ArrowUp: () => queue.move(-1),
    Enter: () => queue.selected() && openAlert(queue.selected().id),
    a: () => act("ack"), s: () => act("assign"), c: () => act("comment"), r: () => act("resolve"),
    "/": () => $("#filter-text").focus(),
  };
  if (event.key === "?") $("#help").showModal();
  else if (/^[1-5]$/.test(event.key)) location.hash = `#/${VIEWS[Number(event.key) - 1]}`;
  else if (inAlerts && keys[event.key]) keys[event.key]();
  else return;
  event.preventDefault();
});

setInterval(() => {
  $("#clock").textContent = new Date().toLocaleTimeString(undefined, { hour12: false });
}, 1000);

start();
