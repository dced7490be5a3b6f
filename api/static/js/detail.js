// One alert in full: what, where, SLA, the evidence that makes it obvious (littering snapshot with trajectory and
// floor, a playable clip), the explanation of an elderly alert, and its history.

import { alertTitle, t, word } from "./i18n.js";
import { slaState, where } from "./model.js";
import { notOutPassages } from "./passages.js";
import { $, clear, duration, el, localTime } from "./util.js";

const IMAGE = /\.(jpe?g|png|webp|gif)(\?|$)/i;
const VIDEO = /\.(mp4|webm|ogv|mov)(\?|$)/i;

function fact(name, value) {
  if (value === undefined || value === null || value === "") return [];
  return [el("dt", {}, name), el("dd", {}, value)];
}

/** The alert's evidence links (name -> URL): a snapshot shows inline, a clip plays inline. */
function evidenceLinks(alert) {
  return Object.entries(alert.links.evidence);
}

/**
 * The vision service writes evidence a few seconds after it raises the alert (the clip needs the frames after the
 * fall), so an operator who opens the alert at once gets a 404 first: try again for a while, then say so.
 */
function retryUntilWritten(media, url, tries = 25) {
  let attempt = 0;
  const note = el("p", { class: "muted evidence-wait" }, t("Evidence is being written…"));
  media.addEventListener("error", () => {
    if (!media.isConnected) return;
    if (!note.isConnected) media.before(note);
    if (attempt >= tries) {
      note.textContent = t("Evidence is not available.");
      return;
    }
    attempt += 1;
    const wait = Math.min(10_000, 1500 * 1.3 ** attempt); // ~3 minutes in all: a busy encoder takes its time
    setTimeout(() => { if (media.isConnected) media.src = `${url}${url.includes("?") ? "&" : "?"}retry=${attempt}`; },
      wait);
  });
  const done = () => note.remove();
  media.addEventListener("load", done);
  media.addEventListener("loadedmetadata", done);
}

const MJPEG = /\.mjpe?g(\?|$)/i;

/** 0 picture, 1 video, 2 MJPEG clip (plays in an <img>), 3 anything else (a link). */
function evidenceKind(key, url) {
  if (MJPEG.test(url)) return 2;
  if (/snapshot|image|photo/i.test(key) || IMAGE.test(url)) return 0;
  if (/clip|video/i.test(key) || VIDEO.test(url)) return 1;
  return 3;
}

function evidenceBlock(alert) {
  const seen = new Set();
  let links = evidenceLinks(alert).filter(([, url]) => !seen.has(url) && seen.add(url))
    .sort((a, b) => evidenceKind(...a) - evidenceKind(...b)); // the snapshot first: it tells the story at a glance
  if (links.some((l) => evidenceKind(...l) === 1)) links = links.filter((l) => evidenceKind(...l) !== 2);
  if (!links.length) return null;
  const box = el("div", { class: "evidence" }, el("h3", {}, t("Evidence")));
  for (const [key, url] of links) {
    const kind = evidenceKind(key, url);
    if (kind === 0) {
      const img = el("img", { src: url, alt: `${word(key)}: ${alertTitle(alert)}`, class: "snapshot",
        "data-evidence": key, title: t("Click to enlarge") });
      img.addEventListener("click", () => {
        $("#image-full").src = img.src;
        $("#image-dialog").showModal();
      });
      box.append(img);
      retryUntilWritten(img, url);
    } else if (kind === 1) {
      const video = el("video", { src: url, controls: true, preload: "metadata", class: "clip", playsinline: true,
        "data-evidence": key });
      box.append(video);
      retryUntilWritten(video, url);
    } else if (kind === 2) { // no MP4 offered: the camera's own JPEGs, paced by the server
      const img = el("img", { src: url, alt: `${word("clip")}: ${alertTitle(alert)}`, class: "clip",
        "data-evidence": key });
      box.append(img);
      retryUntilWritten(img, url);
    } else {
      box.append(el("p", {}, el("a", { href: url, target: "_blank", rel: "noopener" }, word(key))));
    }
  }
  return box;
}

/** Why an elderly alert fired: last time out, the last signals seen at home, who to call (filled in by app.js). */
function explanationBlock(alert, canAct) {
  const details = alert.details;
  if (!/elderly|sign_of_life/.test(alert.type) && !details.explanation) return null;
  const hours = details.hours_at_home ?? details.quiet_hours;
  const box = el("div", { class: "explain" }, el("h3", {}, t("Why")));
  if (details.explanation) box.append(el("p", {}, details.explanation));
  box.append(el("dl", { class: "facts" },
    fact(t("Last out"), details.last_out_at ? localTime(details.last_out_at) : t("not seen going out")),
    fact(t("Home since"), details.home_since ? localTime(details.home_since) : null),
    fact(details.quiet_hours !== undefined ? t("Quiet for") : t("Home for"),
      hours !== undefined ? duration(Number(hours) * 3600) : null),
    fact(t("Last activity"), details.last_activity_at ? localTime(details.last_activity_at) : null),
    ...Object.entries(details.signals ?? {}).flatMap(([name, signal]) =>
      fact(word(name), `${localTime(signal.at)}${signal.detail ? ` (${signal.detail})` : ""}`))));
  // who passed the gates since: the operator role reads passages, as it reads contacts
  if (canAct && alert.type === "elderly_not_out" && alert.subject.resident) box.append(notOutPassages(alert.subject.resident));
  box.append(el("div", { class: "contacts", dataset: { resident: alert.subject.resident ?? "" } }));
  return box;
}

/** The first contact, who to phone first: name, relation and the number as a tel: link (one tap on a phone). */
function phoneFirst(contact) {
  const who = [contact.name, contact.role ? `(${word(contact.role)})` : ""].filter(Boolean).join(" ");
  const call = contact.phone ? el("a", { href: `tel:${contact.phone.replace(/[^\d+]/g, "")}`, class: "call",
    title: t("Call {name}", { name: contact.name ?? word(contact.role) }) }, contact.phone) : "";
  return el("div", { class: "phone-first" }, el("h3", {}, t("Phone first")),
    el("p", {}, who, call ? " · " : "", call));
}

/** A resident's contacts as the Elders view lists them: who (name or role) and the phone number; the first one is
 * who to phone first. Viewers get no contacts from the API (api/privacy.py), so only operators see any. */
export function contactList(contacts) {
  if (!contacts.length) return el("p", { class: "muted" }, t("No contacts on file."));
  return el("div", {}, phoneFirst(contacts[0]), el("h3", {}, t("Contacts")),
    el("ul", { class: "plain-list" }, contacts.map((contact) =>
      el("li", {}, [contact.name ?? contact.role, contact.phone].filter(Boolean).join(" · ")))));
}

/** The alert's history as recorded with each change (comments included), oldest first. */
function historyBlock(alert) {
  const at = (entry) => Date.parse(entry.at);
  // a queue row carries no history: it shows once the full alert is fetched
  const entries = [...alert.history ?? []].sort((first, second) => at(first) - at(second));
  if (!entries.length) return null;
  return el("div", {}, el("h3", {}, t("History")), el("ol", { class: "timeline" }, entries.map((entry) => {
    const data = entry.data; // what each kind of change records: body, note, resolution, assignee, breach
    const missed = data.breach ? t("{what} deadline missed, to {group}", { what: t(data.breach),
      group: data.recipient_group }) : "";
    const said = data.body ?? data.note ?? null; // people's words are shown as written
    const extra = said ?? (data.resolution ? word(data.resolution) : data.assignee ?? missed);
    const actor = entry.actor === "system" || !entry.actor ? t("system") : entry.actor;
    return el("li", { dataset: { kind: entry.kind } }, el("time", { datetime: entry.at }, localTime(entry.at)),
      " ", el("strong", {}, word(entry.kind)), " ", t("by {who}", { who: actor }), extra ? ` — ${extra}` : "");
  })));
}

/** The SLA line of the detail pane; it is re-written every second (see ``tickDetail``). */
function slaText(alert, now = Date.now()) {
  const sla = slaState(alert, now);
  if (sla.remaining === null) return alert.status === "resolved" ? t("closed") : "–";
  const what = t(sla.label);
  return sla.remaining > 0 ? t("{what} in {time}", { what, time: duration(sla.remaining) })
    : t("{what} overdue by {time}", { what, time: duration(sla.remaining) });
}

let shown = null; // the alert in the pane, for the countdown

/** Once a second: the detail countdown moves like the queue's. */
export function tickDetail(now = Date.now()) {
  const cell = document.getElementById("detail-sla");
  if (!shown || !cell) return;
  cell.textContent = slaText(shown, now);
  cell.className = `sla-${slaState(shown, now).state}`;
}

setInterval(() => tickDetail(), 1000);

export function renderDetail(alert, { canAct, onAction }) {
  const pane = clear($("#detail"));
  shown = alert ?? null;
  if (!alert) {
    pane.append(el("p", { class: "empty" }, t("Select an alert (j / k, Enter).")));
    return;
  }
  const resolved = alert.status === "resolved";
  const button = (action, text, key, disabled) => el("button", {
    class: action === "resolve" ? "primary" : "", "data-action": action, disabled: !canAct || disabled,
    title: canAct ? `${text} (${key})` : t("Needs the operator role"), onclick: () => onAction(action),
  }, text, " ", el("kbd", {}, key));
  const fact2 = (name, value, id) => (value === undefined || value === null || value === "" ? []
    : [el("dt", {}, name), el("dd", { id }, value)]);
  pane.append(
    el("div", {}, el("span", { class: `sev sev-${alert.severity}` }, word(alert.severity)), " ",
      el("span", { class: `badge ${alert.status}`, id: "detail-status", dataset: { status: alert.status } },
        word(alert.status))),
    el("h2", { id: "detail-title" }, alertTitle(alert)),
    el("div", { class: "actions" },
      button("ack", t("Acknowledge"), "a", alert.status !== "open"),
      button("assign", t("Assign to me"), "s", resolved),
      button("comment", t("Comment"), "c", false),
      button("resolve", t("Resolve"), "r", resolved),
      button("silence", t("Silence…"), "m", false)),
    el("dl", { class: "facts" },
      fact(t("Type"), word(alert.type)),
      fact(t("Where"), where(alert)),
      fact(t("Raised"), localTime(alert.created_at)),
      fact(t("Last seen"), alert.count > 1 ? `${localTime(alert.last_occurred_at)} (×${alert.count})` : null),
      fact2(t("SLA"), slaText(alert), "detail-sla"),
      fact(t("Escalation"), alert.sla.escalation_level ? t("level {n}", { n: alert.sla.escalation_level }) : null),
      fact(t("Assignee"), alert.assignee),
      fact(t("Resolution"), alert.resolution ? word(alert.resolution) : null),
      fact(t("Id"), alert.id)),
    evidenceBlock(alert) ?? "",
    explanationBlock(alert, canAct) ?? "",
    historyBlock(alert) ?? "",
  );
}
