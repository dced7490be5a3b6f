// A resident's gate passages (GET /api/v1/residents/{id}/passages, operator and admin): the recent ones with how
// they were recognised and how surely, for the Elders view; and, for an elderly-not-out alert, the last recognised
// passage and the unknown face passages since (one of them may be the resident, unrecognised). No face data is
// ever shown: the answer holds access events only.

import { get } from "./api.js";
import { t, word } from "./i18n.js";
import { el, localTime } from "./util.js";

const enc = encodeURIComponent;

/** The passages answer of one resident; ``since`` an ISO time or undefined (the API's default: 7 days). */
export function fetchPassages(residentId, since) {
  if (since) return get(`/api/v1/residents/${enc(residentId)}/passages?since=${enc(since)}`);
  return get(`/api/v1/residents/${enc(residentId)}/passages`);
}

function confidenceText(passage) {
  return passage.confidence === null || passage.confidence === undefined ? ""
    : ` ${Math.round(Number(passage.confidence) * 100)}%`;
}

/** One passage as a line: time, gate, direction, method and, for a face, its confidence. */
export function passageText(passage) {
  const how = `${word(passage.method ?? "")}${confidenceText(passage)}`;
  return `${localTime(passage.ts)} · ${passage.gate} · ${word(passage.direction ?? "")} · ${how}`;
}

function passageList(passages, empty) {
  if (!passages.length) return el("p", { class: "muted" }, empty);
  return el("ul", { class: "plain-list passages" }, passages.map((passage) =>
    el("li", { dataset: { method: passage.method ?? "" } }, passageText(passage))));
}

/** A cell for the Elders table: a button that loads and shows the resident's recent passages below it. */
export function passagesCell(residentId) {
  const box = el("div", { class: "passages-box" });
  const button = el("button", {
    "data-action": "passages",
    onclick: async () => {
      button.disabled = true;
      try {
        const answer = await fetchPassages(residentId);
        box.replaceChildren(passageList(answer.passages, t("No passages in 7 days.")));
      } catch (error) {
        box.replaceChildren(el("p", { class: "muted" }, t("Failed: {error}", { error: error.message })));
      } finally {
        button.disabled = false;
      }
    },
  }, t("Passages"));
  return el("div", {}, button, box);
}

/** For an elderly-not-out alert: the last recognised passage and the unknown face passages after it. */
export function notOutPassages(residentId) {
  const box = el("div", { class: "not-out-passages" }, el("h3", {}, t("Gate passages")));
  fetchPassages(residentId).then((answer) => {
    const last = answer.last_recognised;
    box.append(el("p", {}, t("Last recognised passage"), ": ", last ? passageText(last) : t("none on record")));
    box.append(el("p", {}, t("Unknown face passages since"), ": ", String(answer.unknown_since.length)));
    box.append(passageList(answer.unknown_since, t("none")));
  }).catch((error) => {
    box.append(el("p", { class: "muted" }, t("Failed: {error}", { error: error.message })));
  });
  return box;
}
