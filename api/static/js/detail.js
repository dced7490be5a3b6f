// One alert in full: what, where, SLA, the evidence that makes it obvious (littering snapshot with trajectory and
// floor, a playable clip), the explanation of an elderly alert, and its history.

import { slaState, where } from "./model.js";
import { $, clear, duration, el, label, localTime } from "./util.js";

const IMAGE = /\.(jpe?g|png|webp|gif)(\?|$)/i;
const VIDEO = /\.(mp4|webm|ogv|mov)(\?|$)/i;

function fact(name, value) {
  if (value === undefined || value === null || value === "") return [];
  return [el("dt", {}, name), el("dd", {}, value)];
}

/** Evidence links are URLs (or objects with a url); a snapshot shows inline, a clip plays inline. */
function evidenceLinks(alert) {
  const found = [];
  const walk = (key, value) => {
    if (typeof value === "string" && (value.startsWith("/") || value.startsWith("http"))) found.push([key, value]);
    else if (Array.isArray(value)) value.forEach((v, i) => walk(`${key} ${i + 1}`, v));
    else if (value && typeof value === "object") {
      if (typeof value.url === "string") found.push([key, value.url]);
      else for (const [k, v] of Object.entries(value)) walk(k, v);
    }
  };
  walk("evidence", alert.evidence ?? {});
  walk("evidence", alert.links?.evidence ?? {});
  return found;
}

/**
 * The vision service writes evidence a few seconds after it raises the alert (the clip needs the frames after the
 * fall), so an operator who opens the alert at once gets a 404 first: try again for a while, then say so.
 */
function retryUntilWritten(media, url, tries = 25) {
  let attempt = 0;
  const note = el("p", { class: "muted evidence-wait" }, "Evidence is being written…");
  media.addEventListener("error", () => {
    if (!media.isConnected) return;
    if (!note.isConnected) media.before(note);
    if (attempt >= tries) {
      note.textContent = "Evidence is not available.";
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
  const box = el("div", { class: "evidence" }, el("h3", {}, "Evidence"));
  for (const [key, url] of links) {
    const kind = evidenceKind(key, url);
    if (kind === 0) {
      const img = el("img", { src: url, alt: `${label(key)} of ${alert.title}`, class: "snapshot",
        "data-evidence": key, title: "Click to enlarge" });
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
      const img = el("img", { src: url, alt: `clip of ${alert.title}`, class: "clip", "data-evidence": key });
      box.append(img);
      retryUntilWritten(img, url);
    } else {
      box.append(el("p", {}, el("a", { href: url, target: "_blank", rel: "noopener" }, label(key))));
    }
  }
  return box;
}

/** Why an elderly alert fired: last time out, the last signals seen at home, who to call. */
function explanationBlock(alert) {
  const d = alert.details ?? {};
  if (!/elderly|sign_of_life/.test(alert.type) && !d.explanation) return null;
  const signals = d.last_signals ?? d.signals ?? {};
  const hours = d.hours_at_home ?? d.quiet_hours ?? d.hours_home;
  const box = el("div", { class: "explain" }, el("h3", {}, "Why"));
  if (d.explanation) box.append(el("p", {}, d.explanation));
  box.append(el("dl", { class: "facts" },
    fact("Last out", d.last_out_at ? localTime(d.last_out_at) : "not seen going out"),
    fact("Home since", d.home_since ? localTime(d.home_since) : null),
    fact(d.quiet_hours !== undefined ? "Quiet for" : "Home for", hours !== undefined ? `${Number(hours).toFixed(1)} h`
      : null),
    fact("Last activity", d.last_activity_at ? localTime(d.last_activity_at) : null),
    ...Object.entries(signals).flatMap(([name, sig]) => {
      const at = typeof sig === "string" ? sig : sig?.at;
      const detail = typeof sig === "object" && sig?.detail ? ` (${sig.detail})` : "";
      return fact(`Last ${label(name)}`, at ? `${localTime(at)}${detail}` : JSON.stringify(sig));
    })));
  const contacts = d.contacts ?? alert.subject?.contacts;
  box.append(el("div", { class: "contacts", dataset: { resident: alert.subject?.resident ?? "" } },
    contacts ? contactList(contacts) : ""));
  return box;
}

export function contactList(contacts) {
  if (!contacts?.length) return el("p", { class: "muted" }, "No contacts on file.");
  return el("div", {}, el("h3", {}, "Contacts"), el("ul", { class: "plain-list" }, contacts.map((c) =>
    el("li", {}, typeof c === "string" ? c : [c.name ?? c.role ?? c.relation, c.phone].filter(Boolean).join(" · ")))));
}

function historyBlock(alert) {
  const entries = [...(alert.history ?? [])];
  for (const c of alert.comments ?? []) {
    if (!entries.some((h) => h.kind === "commented" && (h.data?.comment_id === c.id || h.data?.body === c.body))) {
      entries.push({ at: c.at, kind: "commented", actor: c.author, data: { body: c.body } });
    }
  }
  entries.sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  if (!entries.length) return null;
  return el("div", {}, el("h3", {}, "History"), el("ol", { class: "timeline" }, entries.map((h) => {
    const data = h.data ?? {};
    const extra = data.body ?? data.comment ?? data.note ?? data.resolution ?? data.assignee ?? data.reason ?? "";
    return el("li", { dataset: { kind: h.kind } }, el("time", { datetime: h.at }, localTime(h.at)),
      el("strong", {}, label(h.kind)), ` by ${h.actor ?? "system"}`, extra ? ` — ${label(extra)}` : "");
  })));
}

export function renderDetail(alert, { canAct, onAction }) {
  const pane = clear($("#detail"));
  if (!alert) {
    pane.append(el("p", { class: "empty" }, "Select an alert (j / k, Enter)."));
    return;
  }
  const sla = slaState(alert);
  const resolved = alert.status === "resolved";
  const button = (action, text, key, disabled) => el("button", {
    class: action === "resolve" ? "primary" : "", "data-action": action, disabled: !canAct || disabled,
    title: canAct ? `${text} (${key})` : "Needs the operator role", onclick: () => onAction(action),
  }, text, " ", el("kbd", {}, key));
  pane.append(
    el("div", {}, el("span", { class: `sev sev-${alert.severity}` }, alert.severity), " ",
      el("span", { class: `badge ${alert.status}`, id: "detail-status" }, label(alert.status))),
    el("h2", { id: "detail-title" }, alert.title),
    el("div", { class: "actions" },
      button("ack", "Acknowledge", "a", alert.status !== "open"),
      button("assign", "Assign to me", "s", resolved),
      button("comment", "Comment", "c", false),
      button("resolve", "Resolve", "r", resolved)),
    el("dl", { class: "facts" },
      fact("Type", label(alert.type)),
      fact("Where", where(alert)),
      fact("Raised", localTime(alert.created_at)),
      fact("Last seen", alert.count > 1 ? `${localTime(alert.last_occurred_at)} (×${alert.count})` : null),
      fact("SLA", sla.remaining === null ? (resolved ? "closed" : "–")
        : `${sla.label} ${sla.remaining > 0 ? "in" : "overdue by"} ${duration(sla.remaining)}`),
      fact("Escalation", alert.sla?.escalation_level ? `level ${alert.sla.escalation_level}` : null),
      fact("Assignee", alert.assignee),
      fact("Resolution", alert.resolution ? label(alert.resolution) : null),
      fact("Id", alert.id)),
    evidenceBlock(alert) ?? "",
    explanationBlock(alert) ?? "",
    historyBlock(alert) ?? "",
  );
}
