// Shift handover: an operator leaves a note for the next shift; at sign-in the next operator sees the notes they
// have not read and marks them read. The dialog is built here, so the page's fixed markup stays as it is.

import { get, post } from "./api.js";
import { estateTime, t } from "./i18n.js";
import { $, clear, el, toast } from "./util.js";

let dialog = null;

/** Fixed text that follows the language: translatePage() re-reads its English key from data-en. */
function fixed(tag, key, attrs = {}) {
  return el(tag, { ...attrs, "data-t": true, dataset: { en: key } }, t(key));
}

function build() {
  const list = el("ul", { id: "handover-list", class: "handover-list" });
  const text = el("textarea", { id: "handover-text", rows: 3, maxlength: 4000,
    "data-t-placeholder": "Note for the next shift", placeholder: t("Note for the next shift"),
    "data-t-aria-label": "Note for the next shift", "aria-label": t("Note for the next shift") });
  const save = fixed("button", "Leave note", { type: "button", id: "handover-save", onclick: async () => {
    if (!text.value.trim()) return;
    try {
      await post("/api/v1/handover-notes", { body: text.value.trim() });
      text.value = "";
      toast(t("Handover note saved"));
      dialog.close();
    } catch (error) {
      toast(t("Could not save the note: {error}", { error: error.message }), true);
    }
  } });
  const all = fixed("button", "Mark all read", { type: "button", id: "handover-read-all", onclick: () => markAll() });
  const close = fixed("button", "Close", { type: "button", class: "primary", onclick: () => dialog.close() });
  dialog = el("dialog", { id: "handover-dialog", class: "dialog" },
    fixed("h2", "Shift handover"), list, fixed("h3", "Note for the next shift"), text,
    el("div", { class: "actions" }, save, all, close));
  document.body.append(dialog);
}

async function markRead(note, row) {
  try {
    await post(`/api/v1/handover-notes/${note.id}/read`);
    row.remove();
    if (!$("#handover-list").children.length) showEmpty();
  } catch (error) {
    toast(t("Could not mark the note read: {error}", { error: error.message }), true);
  }
}

async function markAll() {
  for (const row of [...$("#handover-list").querySelectorAll("li[data-id]")]) {
    await markRead({ id: row.dataset.id }, row);
  }
}

function showEmpty() {
  $("#handover-list").append(el("li", { class: "muted" }, t("No unread handover notes.")));
  $("#handover-read-all").hidden = true;
}

/** Fill the dialog with the caller's unread notes; returns how many there are. */
async function fill() {
  const notes = await get("/api/v1/handover-notes?unread=true");
  const list = clear($("#handover-list"));
  $("#handover-read-all").hidden = !notes.length;
  for (const note of notes) {
    const row = el("li", { dataset: { id: note.id } },
      el("div", { class: "muted" }, t("{who} at {time}", { who: note.author, time: estateTime(note.created_at) })),
      el("p", { class: "body" }, note.body));
    row.append(el("button", { type: "button", class: "handover-read", onclick: () => markRead(note, row) },
      t("Mark read")));
    list.append(row);
  }
  if (!notes.length) showEmpty();
  return notes.length;
}

async function open() {
  try {
    await fill();
    dialog.showModal();
  } catch (error) {
    toast(t("Could not load handover notes: {error}", { error: error.message }), true);
  }
}

/** At sign-in (operators): a "Handover" button in the top bar, and the unread notes shown at once if there are any. */
export async function startHandover(canOperate) {
  if (!canOperate) return;
  if (!dialog) {
    build();
    $("#whoami").before(fixed("button", "Handover", { id: "handover-button", type: "button", class: "ghost",
      onclick: open }));
  }
  try {
    if (await fill()) dialog.showModal();
  } catch { /* the button still opens it */ }
}
