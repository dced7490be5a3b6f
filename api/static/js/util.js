// Small DOM and formatting helpers. Text always goes in through textContent, never innerHTML: alert titles and
// comments come from devices and people, and the console must not run what they contain.

import { estateTime, units } from "./i18n.js";

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export function clear(node) {
  while (node.firstChild) node.firstChild.remove();
  return node;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** "42s", "17m 05s", "3h 05m", "2d 4h" (in Chinese "17分05秒"): short enough for a queue column. */
export function duration(seconds) {
  const s = Math.max(0, Math.floor(Math.abs(seconds)));
  const u = units();
  const two = (n) => String(n).padStart(2, "0");
  if (s < 60) return `${s}${u.s}`;
  if (s < 3600) return `${Math.floor(s / 60)}${u.m}${u.sep}${two(s % 60)}${u.s}`;
  if (s < 86400) return `${Math.floor(s / 3600)}${u.h}${u.sep}${two(Math.floor((s % 3600) / 60))}${u.m}`;
  return `${Math.floor(s / 86400)}${u.d}${u.sep}${Math.floor((s % 86400) / 3600)}${u.h}`;
}

export function secondsSince(iso, now = Date.now()) {
  return iso ? (now - Date.parse(iso)) / 1000 : NaN;
}

/** A time as the control room reads it: in the estate's zone (EW_TIMEZONE), labelled, e.g. "08:42:05 (UTC+8)". */
export function localTime(iso) {
  return estateTime(iso);
}

export function label(text) {
  return String(text ?? "").replaceAll("_", " ");
}

let toastTimer = 0;
export function toast(message, bad = false) {
  const node = document.getElementById("toast");
  node.textContent = message;
  node.classList.toggle("bad", bad);
  node.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { node.hidden = true; }, bad ? 6000 : 2500);
}

/** Open a <dialog> and resolve with its form data when it closes with "ok", else null. */
export function ask(dialog, setup = () => {}) {
  const form = dialog.querySelector("form");
  form.reset();
  setup(form);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" ? new FormData(form) : null);
    }, { once: true });
  });
}
