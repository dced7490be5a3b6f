// Console entry point: sign-in, language and clock, the view router, live stream, keyboard shortcuts, the alarm
// and alert actions (one alert, or every open alert the filter shows; silences).

import { Alarm } from "./alarm.js";
import * as api from "./api.js";
import { contactList, renderDetail as renderAlertDetail } from "./detail.js";
import { mountDispatch, startWorkOrders } from "./dispatch.js";
import { startHandover } from "./handover.js";
import { alertTitle, currentLanguage, estateTime, setLanguage, setZone, t, translatePage, word } from "./i18n.js";
import { showMap } from "./map.js";
import { showElders, showOverview, showUsers } from "./panels.js";
import { AlertQueue } from "./queue.js";
import { connectStream } from "./stream.js";
import { $, ask, toast } from "./util.js";
import { showCameras } from "./wall.js";

const VIEWS = ["alerts", "elders", "cameras", "overview", "users"];
const RANK = { viewer: 0, operator: 1, admin: 2 };
const LANGUAGE_KEY = "ew.language"; // the last choice on this desk, for the sign-in page
let user = null;
let queue = null;
let stream = null;
const alarm = new Alarm();

const can = (role) => user && RANK[user.role] >= RANK[role];

/** The detail pane, with its dispatch box (work orders, stage clocks, the responder's QR code) below the facts. */
function renderDetail(alert, options) {
  renderAlertDetail(alert, options);
  mountDispatch(alert, options.canAct).catch(() => { /* the box says what failed */ });
}

function showLive(state = $("#live").dataset.state) {
  if (!state) return;
  const live = $("#live");
  live.dataset.state = state;
  live.className = `live ${state}`;
  live.textContent = t(state === "on" ? "● live" : state === "off" ? "● offline" : "● reconnecting");
}

function applyLanguage(lang) {
  setLanguage(lang);
  localStorage.setItem(LANGUAGE_KEY, currentLanguage());
  for (const select of document.querySelectorAll("select.language")) select.value = currentLanguage();
  translatePage();
  alarm.title = document.title;
  alarm.describe($("#mute"), (iso) => estateTime(iso, { seconds: false }));
  showLive();
  if (user) {
    $("#whoami").textContent = `${user.name} · ${t(user.role)}`;
    queue?.render();
    queue?.refreshFacets();
    const shown = queue?.alerts.get(detailId ?? "");
    if (shown) renderDetail(shown, { canAct: can("operator"), onAction: act });
    route();
  }
}

async function start() {
  applyLanguage(localStorage.getItem(LANGUAGE_KEY) ?? "en");
  try {
    user = await api.me();
  } catch {
    showLogin();
    return;
  }
  showShell();
}

/** The estate's zone and the user's language, both from the server. */
async function loadSettings() {
  try {
    const [settings, prefs] = await Promise.all([api.consoleApi.settings(), api.consoleApi.preferences()]);
    setZone(settings.timezone);
    tickClock(); // in the estate's zone from now on
    if (prefs.language) applyLanguage(prefs.language);
    else await api.consoleApi.savePreferences({ language: currentLanguage() }); // the choice made at sign-in
    applyLanguage(currentLanguage());
  } catch (error) {
    toast(t("Failed: {error}", { error: error.message }), true);
  }
}

async function chooseLanguage(lang) {
  applyLanguage(lang);
  if (user) await api.consoleApi.savePreferences({ language: currentLanguage() }).catch(() => {});
}

for (const select of document.querySelectorAll("select.language")) {
  select.addEventListener("change", (event) => {
    chooseLanguage(event.target.value);
    event.target.blur(); // shortcuts work again at once
  });
}

function showLogin(message = "") {
  stream?.close();
  stream = null;
  $("#shell").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message ? t(message) : "";
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
    $("#login-error").textContent = error.status === 401 ? t("Wrong user name or password.") : error.message;
  }
});

$("#logout").addEventListener("click", async () => {
  await api.logout().catch(() => {});
  user = null;
  showLogin();
});

window.addEventListener("ew:unauthorized", () => showLogin("Your session has ended; please sign in again."));

async function showShell() {
  $("#login").hidden = true;
  $("#shell").hidden = false;
  $("#whoami").textContent = `${user.name} · ${t(user.role)}`;
  document.body.dataset.role = user.role;
  for (const link of document.querySelectorAll("#tabs a[data-role]")) link.hidden = !can(link.dataset.role);
  if (!queue) {
    queue = new AlertQueue({
      onSelect: (alert, open) => selectAlert(alert, open),
      onFlood: (count, flooding) => flood(count, flooding),
      onAlarm: (alert) => alarm.ring(alertTitle(alert)),
    });
  }
  await loadSettings();
  queue.reload().catch((error) => toast(t("Could not load alerts: {error}", { error: error.message }), true));
  stream = connectStream({
    onChange: (id) => queue.changed(id),
    onReset: () => queue.reload(),
    onState: showLive,
  });
  route();
  startHandover(can("operator"));
  startWorkOrders();
}

// --- views ---------------------------------------------------------------------------------------------------

function route() {
  const name = (location.hash.match(/^#\/(\w+)/) ?? [])[1];
  const view = VIEWS.includes(name) && (name !== "users" || can("admin")) ? name : "alerts";
  for (const v of VIEWS) $(`#view-${v}`).hidden = v !== view;
  for (const link of document.querySelectorAll("#tabs a")) link.classList.toggle("active", link.dataset.view === view);
  document.body.dataset.view = view;
  lastRefresh = Date.now();
  const show = { elders: () => showElders(can), cameras: showCameras,
    overview: () => Promise.all([showMap(), showOverview()]), users: showUsers }[view];
  show?.().catch((error) => toast(t("Could not load {view}: {error}", { view, error: error.message }), true));
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
    toast(t("Could not open alert: {error}", { error: error.message }), true);
  }
}

/** Elderly alerts name a resident; who to call lives with the resident, not the alert. */
async function fillContacts(alert) {
  const box = document.querySelector("#detail .contacts");
  const resident = alert.subject.resident;
  if (!box || !resident || box.childElementCount) return;
  try {
    const elder = await api.residents.get(resident);
    if (box.isConnected) box.replaceChildren(contactList(elder ? elder.contacts : []));
  } catch { /* the resident cannot be read: the explanation still stands */ }
}

async function act(action) {
  const alert = queue.selected();
  if (!alert || !can("operator")) return;
  try {
    if (action === "ack") {
      if (alert.status !== "open") return;
      await api.alerts.ack(alert.id);
      toast(t("Acknowledged."));
    } else if (action === "assign") {
      await api.alerts.assign(alert.id, user.name);
      toast(t("Assigned to {name}", { name: user.name }));
    } else if (action === "comment") {
      const form = await ask($("#text-dialog"), () => {
        $("#text-title").textContent = t("Comment");
        $("#text-label").textContent = t("On: {title}", { title: alertTitle(alert) });
      });
      if (!form) return;
      await api.alerts.comment(alert.id, form.get("text"));
      toast(t("Comment added"));
    } else if (action === "resolve") {
      if (alert.status === "resolved") return;
      const form = await ask($("#resolve-dialog"));
      if (!form) return;
      await api.alerts.resolve(alert.id, form.get("resolution"), form.get("note") || null);
      toast(t("Resolved."));
    } else if (action === "silence") {
      const place = alert.subject.building ?? null;
      const form = await ask($("#silence-dialog"), () => {
        $("#silence-type").textContent = word(alert.type);
        $("#silence-building").textContent = place ? t("only in building {b}", { b: place }) : "";
        $("#silence-form [name=only_building]").disabled = !place;
      });
      if (!form) return;
      const hours = Number(form.get("hours"));
      await api.alerts.silence({ type: alert.type, building: place && form.get("only_building") ? String(place) : null,
        reason: form.get("reason"), ends_at: new Date(Date.now() + hours * 3600e3).toISOString() });
      await queue.reloadSilences();
      toast(t("Silenced"));
      return;
    }
    await openAlert(alert.id); // the stream will also tell us; this makes the click feel instant
    queue.upsert(queue.alerts.get(String(alert.id)));
  } catch (error) {
    toast(error.status === 403 ? t("Not allowed for your role.") : t("Failed: {error}", { error: error.message }),
      true);
  }
}

function flood(count, flooding) {
  if (!flooding) return;
  const text = "{n} new alerts in the last minute. Work the top of the queue; filter by type or building to see a pattern.";
  $("#flood-text").textContent = t(text, { n: count });
  $("#flood").hidden = false;
}

/** The bulk button shows when a type or building filter narrows the queue, for operators. */
function refreshBulk() {
  const narrowed = queue && (queue.filter.type || queue.filter.building);
  const count = narrowed ? queue.openShown().length : 0;
  $("#bulk-ack").hidden = !narrowed || !can("operator") || count === 0;
  $("#bulk-count").textContent = String(count);
}

setInterval(refreshBulk, 1000);

$("#bulk-ack").addEventListener("click", async () => {
  const count = queue.openShown().length;
  const form = await ask($("#bulk-dialog"), () => {
    $("#bulk-question").textContent = t("Acknowledge {n} open alerts matching the filter?", { n: count });
  });
  if (!form) return;
  try {
    const done = await api.alerts.ackMatching({ type: queue.filter.type || null,
      building: queue.filter.building || null });
    toast(t("Acknowledged {n}", { n: done.count }));
    await queue.reload();
  } catch (error) {
    toast(t("Failed: {error}", { error: error.message }), true);
  }
});

$("#silences").addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-end-silence]");
  if (!button) return;
  try {
    await api.alerts.endSilence(button.dataset.endSilence);
    await queue.reloadSilences();
  } catch (error) {
    toast(t("Failed: {error}", { error: error.message }), true);
  }
});

$("#mute").addEventListener("click", () => {
  alarm.setMuted(!alarm.mutedUntil());
  alarm.describe($("#mute"), (iso) => estateTime(iso, { seconds: false }));
});

$("#flood-dismiss").addEventListener("click", () => { $("#flood").hidden = true; });

const filterForm = $("#filters");
filterForm.addEventListener("submit", (event) => event.preventDefault());
$("#filter-text").addEventListener("input", (e) => queue?.setFilter({ text: e.target.value }));
// A menu gives the keyboard back once a choice is made: otherwise the next shortcut letter (a for acknowledge)
// would pick another option by its first letter and change the filter instead.
for (const [id, key] of [["#filter-status", "status"], ["#filter-type", "type"], ["#filter-building", "building"]]) {
  $(id).addEventListener("change", (e) => {
    queue?.setFilter({ [key]: e.target.value });
    e.target.blur();
    refreshBulk();
  });
}
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
    m: () => act("silence"),
    "/": () => $("#filter-text").focus(),
  };
  if (event.key === "?") $("#help").showModal();
  else if (/^[1-5]$/.test(event.key)) location.hash = `#/${VIEWS[Number(event.key) - 1]}`;
  else if (inAlerts && keys[event.key]) keys[event.key]();
  else return;
  event.preventDefault();
});

function tickClock() {
  $("#clock").textContent = estateTime(new Date().toISOString(), { date: false });
}
tickClock(); // at once, not a second after the page opens
setInterval(tickClock, 1000);

start();
